/**
 * Real-world corpus: compose files copied verbatim from public monorepos (each case's SOURCE.md names the
 * repository and commit), with `docker compose --profile '*' config --format json` (Compose 2.26.1) committed
 * as expected.json by scripts/compose-oracle/regenerate.mjs. No Docker needed here.
 *
 * For every service that Compose would build, the build we resolve must equal Compose's: the whole `build:`
 * section as Compose prints it, the image it tags (`image:` or `<project>-<service>`), and the platforms it
 * builds for (`build.platforms`, else the service's `platform:`). A known disagreement is listed below with
 * its reason; the test fails when a listed service starts to agree, so the list only shrinks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSpecsFromProject, defaultImageName } from '../build-spec/from-compose';
import { normalizePlatform } from '../buildx/platform';
import { listCases, loadCase, readExpected, withPlaceholder, type OracleCase } from './__fixtures__/oracle-harness';
import type { ComposeProject } from './types';

/** `<case>/<service>` → why we still disagree with Compose. */
const KNOWN_DISAGREEMENTS: Record<string, string> = {};

const cases = listCases(path.join(__dirname, '__fixtures__', 'corpus'));

interface ResolvedBuild {
  project: string;
  build: Record<string, unknown>;
  image: string;
  platforms: string[];
}

const withoutExtensions = (build: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(build).filter(([k]) => !k.startsWith('x-')));
const platformsOf = (list: unknown[]) => [...new Set(list.map((p) => normalizePlatform(String(p))))];

/** What `docker compose config --format json` prints, as far as this test reads it. */
interface OracleConfig {
  name: string;
  services: Record<string, { build: Record<string, unknown> & { platforms?: unknown[] }; platform?: string; image?: string }>;
}

function fromOracle(config: OracleConfig, service: string): ResolvedBuild {
  const svc = config.services[service];
  const declared: unknown[] = svc.build.platforms ?? (svc.platform ? [svc.platform] : []);
  return {
    project: config.name,
    build: withoutExtensions(svc.build),
    image: svc.image ?? defaultImageName(config.name, service),
    platforms: platformsOf(declared),
  };
}

function fromLoader(
  project: ComposeProject,
  specs: ReturnType<typeof buildSpecsFromProject>,
  service: string,
  dir: string,
): ResolvedBuild | string {
  const svc = project.services[service];
  if (!svc) return `service "${service}" not loaded`;
  if (!svc.build) return `service "${service}" has no build`;
  const error = specs.errors.find((e) => e.service === service);
  if (error) return error.detail;
  const spec = specs.specs.find((s) => s.service === service);
  if (!spec) return `no build spec for "${service}"`;
  return {
    project: project.name,
    build: withPlaceholder(withoutExtensions(svc.build), dir) as Record<string, unknown>,
    image: spec.tags[0],
    platforms: spec.platforms,
  };
}

interface Row {
  c: OracleCase;
  service: string;
}

const rows: Row[] = [];
const loaded = new Map<string, { project?: ComposeProject; specs?: ReturnType<typeof buildSpecsFromProject>; error?: string }>();
for (const c of cases) {
  const expected = readExpected(c);
  for (const [service, svc] of Object.entries<Record<string, unknown>>(expected.services ?? {})) if (svc.build) rows.push({ c, service });
  try {
    const project = loadCase(c);
    loaded.set(c.name, { project, specs: buildSpecsFromProject(project, { workspaceRoot: c.dir, exists: () => true }) });
  } catch (e) {
    loaded.set(c.name, { error: (e as Error).message });
  }
}

let agreeing = 0;
afterAll(() => {
  console.log(`compose corpus: ${cases.length} projects, ${rows.length} buildable services, ${agreeing} agree with docker compose 2.26`);
});

describe('real-world compose corpus agrees with docker compose 2.26', () => {
  it('covers at least 8 public repositories', () => {
    const repos = new Set(cases.map((c) => /Repository: (\S+)/.exec(fs.readFileSync(path.join(c.dir, 'SOURCE.md'), 'utf8'))?.[1]));
    expect(repos.size).toBeGreaterThanOrEqual(8);
  });

  it.each(rows.map((r) => [`${r.c.name}/${r.service}`, r] as const))('%s', (key, { c, service }) => {
    const expected = fromOracle(readExpected(c) as OracleConfig, service);
    const state = loaded.get(c.name)!;
    const ours = state.error ?? fromLoader(state.project!, state.specs!, service, c.dir);
    const agrees = typeof ours !== 'string' && JSON.stringify(sorted(ours)) === JSON.stringify(sorted(expected));
    if (agrees) agreeing++;
    const known = KNOWN_DISAGREEMENTS[key];
    if (known) {
      expect(agrees, `${key} now agrees with Compose: remove it from KNOWN_DISAGREEMENTS`).toBe(false);
      return;
    }
    expect(ours).toEqual(expected);
  });
});

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, e]) => [k, sorted(e)]),
    );
  return v;
}
