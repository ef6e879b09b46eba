/**
 * README "Executor-only options" against the executors' schemas: an option is executor-only when no
 * inferred target sets it, with every plugin option in use. The README table must name exactly
 * those, per executor, so a new option cannot be left out and a stale one cannot stay.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFieldSchemas } from '../../build-spec/build-fields';
import { buildSpecsFromProject } from '../../build-spec/from-compose';
import type { ComposeProject } from '../../compose/types';
import { normalizePluginOptions } from '../plugin-options';
import { projectConfiguration, type ServiceNode } from '../targets';
import { BUILD_EXECUTORS, buildExecutorSchema, type BuildExecutorName } from './shared/schema';

const README = readFileSync(join(__dirname, '../../../../../README.md'), 'utf8');

function service(name: string, extension: Record<string, unknown>, platforms: string[]): ComposeProject['services'][string] {
  return {
    name,
    definition: { 'x-nx-buildx': extension },
    variables: [],
    sources: [{ file: '/ws/app/compose.yaml', line: 2 }],
    image: `127.0.0.1:5000/shop/${name}:1`,
    build: { context: '/ws/app', platforms, additional_contexts: { base: 'service:base' } },
  };
}

const composeProject: ComposeProject = {
  name: 'shop',
  projectDir: '/ws/app',
  files: ['/ws/app/compose.yaml'],
  secrets: {},
  services: {
    plain: service('plain', { verify: ['/selftest'] }, ['linux/amd64']),
    split: service(
      'split',
      { platformArgs: { arm64: { F: 'neon' } }, platformConfig: { base: 'base.json', overlays: { arm64: 'arm64.json' } } },
      ['linux/amd64', 'linux/arm64'],
    ),
  },
};

/** Every plugin option that reaches a target, set. */
const pluginOptions = normalizePluginOptions({
  builder: 'multi',
  provenance: true,
  sbom: true,
  tags: [{ type: 'sha' }],
  ociLabels: false,
  reuse: false,
  cache: { type: 'registry', ref: '127.0.0.1:5000/cache/{service}:c' },
});

const specs = buildSpecsFromProject(composeProject, { workspaceRoot: '/ws', exists: () => true }).specs;
const targets = specs.flatMap((spec) => {
  const node: ServiceNode = {
    spec,
    root: 'app',
    dependencies: [],
    imageInputs: [],
    serviceImages: { base: 'r/base:1' },
    compose: { workingDir: 'app' },
    ...(spec.platformArgs
      ? { platforms: Object.fromEntries(spec.platforms.map((p) => [p, { inputs: [], lockName: `${spec.project}@${p}` }])) }
      : {}),
  };
  return Object.values(projectConfiguration(node, pluginOptions).targets!);
});

const schemaJson = (executor: string) =>
  JSON.parse(readFileSync(join(__dirname, executor, 'schema.json'), 'utf8')) as { properties: Record<string, unknown> };
const SCHEMAS: Record<string, { properties: Record<string, unknown> }> = {
  'docker-build': buildExecutorSchema('docker-build') as { properties: Record<string, unknown> },
  'docker-push': buildExecutorSchema('docker-push') as { properties: Record<string, unknown> },
  'docker-manifest': schemaJson('docker-manifest'),
  'docker-merge': schemaJson('docker-merge'),
  'docker-verify': schemaJson('docker-verify'),
  'docker-config': schemaJson('docker-config'),
  'docker-explain': schemaJson('docker-explain'),
};

/** docker-build / docker-push: the build-field table, each field from its compose key when the compose file has it. */
const FROM_COMPOSE = new Set(Object.keys(buildFieldSchemas()));

/** The options of an executor's schema that no inferred target sets. */
function executorOnly(executor: string): string[] {
  const set = new Set(targets.filter((t) => t.executor === `nx-compose-buildx:${executor}`).flatMap((t) => Object.keys(t.options ?? {})));
  expect(set.size, `no inferred target runs ${executor}`).toBeGreaterThan(0);
  return Object.keys(SCHEMAS[executor]!.properties)
    .filter((k) => !set.has(k) && !(BUILD_EXECUTORS.includes(executor as BuildExecutorName) && FROM_COMPOSE.has(k)))
    .sort();
}

/** The README table: executor → the options its row names (a row may name several executors). */
function readmeTable(): Map<string, string[]> {
  const start = README.indexOf('**Executor-only options**');
  expect(start, 'README has no "Executor-only options"').toBeGreaterThan(0);
  const lines = README.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > first && !l.startsWith('|'));
  const rows = lines.slice(first, end).filter((l) => l.startsWith('| `docker-'));
  const table = new Map<string, string[]>();
  for (const row of rows) {
    const [, executors, options] = row.split('|');
    const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    for (const executor of names(executors!)) {
      // "`loadMultiPlatform` (docker-build only)": an option of a shared row that belongs to one executor.
      const own = options!.split(/,(?![^(]*\))/).filter((part) => {
        const only = /\((docker-[a-z]+) only\)/.exec(part)?.[1];
        return !only || only === executor;
      });
      table.set(
        executor,
        names(own.join(',')).filter((n) => /^[a-zA-Z]+$/.test(n)), // not `NX_...` variables, `docker-...` names, `x-nx-buildx.…` keys
      );
    }
  }
  return table;
}

describe('README "Executor-only options"', () => {
  const table = readmeTable();
  it.each(Object.keys(SCHEMAS))('%s: the README names exactly the options no inferred target sets', (executor) => {
    // docker-build ignores the push-only settings of the shared schema, and docker-push the build-only one.
    const ignored: Record<string, string[]> = {
      'docker-build': ['manifestList', 'reuse', 'onlyPlatforms', 'digestsDir'],
      'docker-push': ['loadMultiPlatform'],
    };
    const expected = executorOnly(executor).filter((k) => !(ignored[executor] ?? []).includes(k));
    expect([...(table.get(executor) ?? [])].sort()).toEqual(expected);
  });
});
