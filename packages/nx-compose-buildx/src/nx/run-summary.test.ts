import { describe, expect, it } from 'vitest';
import {
  formatSummaryMarkdown,
  formatSummaryTable,
  humanSize,
  imageOutcome,
  mergeRows,
  shortDigest,
  summaryTotals,
  taskKind,
  verifyOutcome,
  type SummaryRow,
} from './run-summary';

const names = { build: 'docker-build', push: 'docker-push', verify: 'docker-verify' };
const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

describe('taskKind', () => {
  it.each([
    ['docker-build', { kind: 'build', perPlatform: false }],
    ['docker-push', { kind: 'push', perPlatform: false }],
    ['docker-verify', { kind: 'verify', perPlatform: false }],
    ['docker-build--linux-arm64', { kind: 'build', perPlatform: true }],
    ['docker-push--linux-arm-v7', { kind: 'push', perPlatform: true }],
    ['docker-config--linux-arm64', undefined],
    ['docker-verify--linux-arm64', undefined],
    ['build', undefined],
  ])('%s', (target, want) => expect(taskKind(target, names)).toEqual(want));

  it('follows renamed targets', () => {
    expect(taskKind('image', { ...names, build: 'image' })).toEqual({ kind: 'build', perPlatform: false });
    expect(taskKind('docker-build', { ...names, build: 'image' })).toBeUndefined();
  });
});

describe('outcomes', () => {
  it.each([
    ['success', 'build', false, 'built'],
    ['success', 'push', false, 'pushed'],
    ['success', 'push', true, 'reused'],
    ['local-cache', 'build', false, 'cached'],
    ['remote-cache', 'push', false, 'cached'],
    ['local-cache-kept-existing', 'push', false, 'cached'],
    ['failure', 'push', false, 'failed'],
    ['skipped', 'build', false, 'skipped'],
    ['stopped', 'build', false, 'skipped'],
  ] as const)('%s %s (reused %s) → %s', (status, kind, reused, want) => expect(imageOutcome(status, kind, reused)).toBe(want));

  it.each([
    ['success', 'ok'],
    ['failure', 'failed'],
    ['local-cache', 'cached'],
    ['skipped', 'skipped'],
  ] as const)('verify %s → %s', (status, want) => expect(verifyOutcome(status)).toBe(want));
});

describe('mergeRows', () => {
  it('one row per service × platform: push over build, per-platform over aggregate, aggregate fills digests', () => {
    const rows = mergeRows(
      [
        {
          kind: 'push',
          perPlatform: false,
          rows: [
            { service: 'api', platform: 'linux/amd64', digest: D1, outcome: 'pushed', seconds: 0.4 },
            { service: 'api', platform: 'linux/arm64', digest: D2, outcome: 'pushed', seconds: 0.4 },
          ],
        },
        { kind: 'push', perPlatform: true, rows: [{ service: 'api', platform: 'linux/arm64', outcome: 'pushed', seconds: 12 }] },
        {
          kind: 'build',
          perPlatform: false,
          rows: [{ service: 'api', platform: 'linux/amd64', digest: D2, outcome: 'built', seconds: 3 }],
        },
        { kind: 'build', perPlatform: false, rows: [{ service: 'base', platform: 'linux/amd64', digest: D1, outcome: 'cached' }] },
      ],
      new Map([['api', 'ok' as const]]),
    );
    expect(rows).toEqual([
      { service: 'api', platform: 'linux/amd64', digest: D1, outcome: 'pushed', seconds: 0.4, verify: 'ok' },
      { service: 'api', platform: 'linux/arm64', digest: D2, outcome: 'pushed', seconds: 12, verify: 'ok' },
      { service: 'base', platform: 'linux/amd64', digest: D1, outcome: 'cached' },
    ]);
  });

  it('a verify with no image task of its own still gets a row', () => {
    expect(mergeRows([], new Map([['api', 'failed' as const]]))).toEqual([
      { service: 'api', platform: '', outcome: 'not run', verify: 'failed' },
    ]);
  });
});

describe('formatting', () => {
  it.each([
    [undefined, '-'],
    [-1, '-'],
    [Number.NaN, '-'],
    [0, '0 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [1258291, '1.2 MiB'],
    [1024 * 1024 - 10, '1.0 MiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
  ])('humanSize(%s) = %s', (bytes, want) => expect(humanSize(bytes)).toBe(want));

  it.each([
    [D1, 'aaaaaaaaaaaa'],
    ['sha256:short', '-'],
    [undefined, '-'],
  ])('shortDigest(%s) = %s', (d, want) => expect(shortDigest(d)).toBe(want));

  it('an unknown size or digest can be shown another way (the demo table shows "?")', () => {
    expect([humanSize(undefined, '?'), humanSize(Number.NaN, '?'), shortDigest('nope', '?'), humanSize(2048, '?')]).toEqual([
      '?',
      '?',
      '?',
      '2.0 KiB',
    ]);
  });

  const rows: SummaryRow[] = [
    { service: 'api', platform: 'linux/amd64', digest: D1, bytes: 2048, outcome: 'pushed', seconds: 12.34 },
    { service: 'worker', platform: '', outcome: 'failed' },
  ];

  it('prints an aligned table; VERIFY only when a verify ran', () => {
    expect(formatSummaryTable(rows)).toBe(
      [
        'SERVICE  PLATFORM     DIGEST           SIZE  IMAGE     TIME',
        '-------  -----------  ------------  -------  ------  ------',
        'api      linux/amd64  aaaaaaaaaaaa  2.0 KiB  pushed  12.3 s',
        'worker   (default)    -                   -  failed       -',
      ].join('\n'),
    );
    expect(formatSummaryTable([{ ...rows[0]!, verify: 'ok' }])).toMatch(/VERIFY\n.*\n.*ok$/);
    expect(formatSummaryTable([])).toBe('');
  });

  it('markdown for the GitHub step summary', () => {
    expect(formatSummaryMarkdown(rows)).toBe(
      [
        '### nx-compose-buildx',
        '',
        '| service | platform | digest | size | image | time |',
        '| --- | --- | --- | ---: | --- | ---: |',
        '| api | linux/amd64 | `aaaaaaaaaaaa` | 2.0 KiB | pushed | 12.3 s |',
        '| worker | (default) | - | - | failed | - |',
        '',
      ].join('\n'),
    );
  });

  it('a value cannot draw on the terminal or break the markdown table', () => {
    const hostile: SummaryRow = { service: 'a\u001b[2Jb|c\nd', platform: 'linux/amd64', outcome: 'built' };
    const table = formatSummaryTable([hostile]);
    expect(table.includes('\u001b')).toBe(false);
    expect(table).not.toMatch(/\n.*\nd/);
    expect(formatSummaryMarkdown([hostile])).toContain('a\\x1b[2Jb\\|c\\nd');
  });

  it('totals of a verify-only run count the verifies, not images', () => {
    expect(
      summaryTotals([
        { service: 'a', platform: '', outcome: 'not run', verify: 'ok' },
        { service: 'b', platform: '', outcome: 'not run', verify: 'failed' },
      ]),
    ).toBe('docker-verify: 1 ok, 1 failed');
    expect(summaryTotals([{ service: 'a', platform: 'linux/amd64', outcome: 'pushed', verify: 'ok' }])).toBe(
      '1 image(s): 1 pushed; docker-verify: 1 ok',
    );
  });

  it('totals', () => {
    expect(summaryTotals([...rows, { service: 'x', platform: 'linux/amd64', outcome: 'pushed' }])).toBe('3 image(s): 2 pushed, 1 failed');
  });
});
