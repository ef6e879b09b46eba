import { describe, expect, test } from 'vitest';
import { acceptedUnameMachines } from '../../packages/nx-compose-buildx/src/buildx/platform';
import { humanSize, shortDigest } from '../../packages/nx-compose-buildx/src/nx/run-summary';
import { formatTable, formatTimings, rowProblem } from './demo-table.mjs';

/** What demo.mjs passes: the plugin's own table of `uname -m` answers and its size and digest cells. */
const machines = (platform: string) => acceptedUnameMachines(platform);
const plugin = { machines, humanSize, shortDigest };

const d = (c: string) => `sha256:${c.repeat(64)}`;

describe('formatTable', () => {
  const rows = [
    { compose: 'shop', service: 'base', platform: 'linux/amd64', digest: d('a'), bytes: 1258291, machine: 'x86_64' },
    { compose: 'shop', service: 'base', platform: 'linux/arm64', digest: d('b'), bytes: 900, machine: 'x86_64' },
    { compose: 'shop', service: 'api', platform: 'linux/amd64', digest: d('c'), bytes: 2048, machine: 'x86_64' },
    { compose: 'edge', service: 'relay', platform: 'linux/arm/v7', digest: d('e'), bytes: undefined, error: 'exit 125' },
    // qemu-arm reports armv7l for an arm/v6 image: the plugin's table accepts it, as docker-verify does.
    { compose: 'edge', service: 'relay', platform: 'linux/arm/v6', digest: d('f'), bytes: 700, machine: 'armv7l' },
  ];

  test('aligned columns, names only where they change, sizes right-aligned, machine checked', () => {
    expect(formatTable(rows, plugin)).toBe(
      [
        'COMPOSE  SERVICE  PLATFORM      DIGEST           SIZE  UNAME -M',
        '-------  -------  ------------  ------------  -------  -------------------------------',
        `shop     base     linux/amd64   ${'a'.repeat(12)}  1.2 MiB  x86_64 ok`,
        `                  linux/arm64   ${'b'.repeat(12)}    900 B  x86_64 WRONG (expected aarch64)`,
        `         api      linux/amd64   ${'c'.repeat(12)}  2.0 KiB  x86_64 ok`,
        `edge     relay    linux/arm/v7  ${'e'.repeat(12)}        ?  ? (exit 125)`,
        `                  linux/arm/v6  ${'f'.repeat(12)}    700 B  armv7l ok`,
      ].join('\n'),
    );
  });

  test('rowProblem flags wrong, missing and failed rows only', () => {
    expect(rows.map((r) => rowProblem(r, machines))).toEqual([false, true, false, true, false]);
  });

  test('no rows: just the header', () => {
    expect(formatTable([], plugin).split('\n')).toHaveLength(2);
  });
});

test('formatTimings', () => {
  expect(
    formatTimings(
      [
        { name: 'stack', ms: 210 },
        { name: 'docker-push', ms: 61234 },
      ],
      62000,
    ),
  ).toBe(['stack           0.2s', 'docker-push    61.2s', 'total          62.0s'].join('\n'));
});
