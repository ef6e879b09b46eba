/**
 * The Dockerfile analysis on the real corpus (src/compose/__fixtures__/corpus, each case's SOURCE.md names
 * the repository and commit its compose files and Dockerfiles were copied from). No Docker needed.
 *
 * For every service Compose would build (the case's expected.json), the build spec we resolve is read with
 * the plugin's own `serviceReads` (build args, target, platforms, named contexts, as the graph passes them):
 * - every Dockerfile parses as BuildKit would accept it; one the parser reports is listed in
 *   KNOWN_PARSE_PROBLEMS with its reason, and the test fails when a listed one starts to parse;
 * - what each context is read for equals the case's committed `expected-reads.json`: the whole context
 *   with its reasons, or the sorted read patterns. The golden files were audited by hand against the
 *   Dockerfiles; after a deliberate change, regenerate them and review the diff:
 *
 *     UPDATE_READS=1 npx vitest run --config vitest.config.mts packages/nx-compose-buildx/src/graph/corpus-reads.test.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSpecsFromProject } from '../build-spec/from-compose';
import type { ServiceBuildSpec } from '../build-spec/types';
import { listCases, loadCase, readExpected, type OracleCase } from '../compose/__fixtures__/oracle-harness';
import { serviceReads } from '../nx/assemble';
import type { ContextReads } from './dockerfile-reads';

/** `<case>/<Dockerfile>` (case-relative) → why the parser reports it. */
const KNOWN_PARSE_PROBLEMS: Record<string, string> = {};

const GOLDEN = 'expected-reads.json';
const update = process.env.UPDATE_READS === '1';
const cases = listCases(path.join(__dirname, '..', 'compose', '__fixtures__', 'corpus'));

type RecordedReads = { whole: true; reasons: string[] } | { paths: string[] };
interface ServiceRecord {
  dockerfile: string;
  target?: string;
  context: RecordedReads;
  namedContexts?: Record<string, RecordedReads>;
}

const recorded = (r: ContextReads): RecordedReads => (r.whole ? { whole: true, reasons: r.reasons } : { paths: r.paths });

interface Row {
  c: OracleCase;
  service: string;
  spec?: ServiceBuildSpec;
  error?: string;
}

const rows: Row[] = [];
for (const c of cases) {
  const built = Object.entries<Record<string, unknown>>(readExpected(c).services ?? {}).filter(([, svc]) => svc.build);
  let specs: ReturnType<typeof buildSpecsFromProject> | undefined;
  let error: string | undefined;
  try {
    specs = buildSpecsFromProject(loadCase(c), { workspaceRoot: c.dir, exists: () => true });
  } catch (e) {
    error = (e as Error).message;
  }
  for (const [service] of built) {
    const spec = specs?.specs.find((s) => s.service === service);
    rows.push({ c, service, ...(spec ? { spec } : { error: error ?? `no build spec for "${service}"` }) });
  }
}

/** Dockerfile text by case-relative path; the inline ones are keyed by service. */
function dockerfileOf(c: OracleCase, spec: ServiceBuildSpec): { key: string; text: string } {
  if (spec.dockerfileInline !== undefined) return { key: `(inline in ${spec.service})`, text: spec.dockerfileInline };
  const file = spec.dockerfile as string;
  return { key: file, text: fs.readFileSync(path.join(c.dir, file), 'utf8') };
}

function readsOf(c: OracleCase, spec: ServiceBuildSpec): { record: ServiceRecord; problem?: string } {
  const { key, text } = dockerfileOf(c, spec);
  const reads = serviceReads(spec, { contextFiles: [], ignorePatterns: [], dockerfileText: text });
  const named = Object.entries(reads.namedContexts);
  return {
    record: {
      dockerfile: key,
      ...(spec.target !== undefined ? { target: spec.target } : {}),
      context: recorded(reads.context),
      ...(named.length ? { namedContexts: Object.fromEntries(named.map(([n, r]) => [n, recorded(r)])) } : {}),
    },
    ...(reads.problem ? { problem: `line ${reads.problem.line}: ${reads.problem.message}` } : {}),
  };
}

const actual = new Map<string, Record<string, ServiceRecord>>();
afterAll(() => {
  if (!update) return;
  for (const c of cases) {
    const services = actual.get(c.name);
    if (!services) continue;
    const ordered = Object.fromEntries(Object.entries(services).sort(([a], [b]) => (a < b ? -1 : 1)));
    fs.writeFileSync(path.join(c.dir, GOLDEN), `${JSON.stringify(ordered, null, 2)}\n`);
  }
});

describe('what the real corpus Dockerfiles read from their contexts', () => {
  it('reads at least 80 real Dockerfiles', () => {
    const files = new Set(rows.filter((r) => r.spec?.dockerfile).map((r) => `${r.c.name}/${r.spec!.dockerfile}`));
    expect(files.size).toBeGreaterThanOrEqual(80);
  });

  it.each(rows.map((r) => [`${r.c.name}/${r.service}`, r] as const))('%s', (key, { c, service, spec, error }) => {
    expect(error, `${key}: the build spec did not resolve`).toBeUndefined();
    const { record, problem } = readsOf(c, spec!);
    const known = KNOWN_PARSE_PROBLEMS[`${c.name}/${record.dockerfile}`];
    if (known) expect(problem, `${c.name}/${record.dockerfile} now parses: remove it from KNOWN_PARSE_PROBLEMS`).toBeDefined();
    else expect(problem, `${c.name}/${record.dockerfile} does not parse`).toBeUndefined();

    if (!actual.has(c.name)) actual.set(c.name, {});
    actual.get(c.name)![service] = record;
    if (update) return;
    const goldenFile = path.join(c.dir, GOLDEN);
    expect(fs.existsSync(goldenFile), `${goldenFile} is missing: run with UPDATE_READS=1`).toBe(true);
    const golden = JSON.parse(fs.readFileSync(goldenFile, 'utf8')) as Record<string, ServiceRecord>;
    expect(record).toEqual(golden[service]);
  });

  it.skipIf(update)('has no golden entry for a service Compose does not build', () => {
    for (const c of cases) {
      const goldenFile = path.join(c.dir, GOLDEN);
      if (!fs.existsSync(goldenFile)) continue;
      const built = rows.filter((r) => r.c === c).map((r) => r.service);
      expect(Object.keys(JSON.parse(fs.readFileSync(goldenFile, 'utf8'))).sort(), c.name).toEqual([...built].sort());
    }
  });
});
