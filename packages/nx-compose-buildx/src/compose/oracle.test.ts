/**
 * Differential test against Docker Compose 2.26: each fixture's expected.json was produced by
 * `docker compose --profile '*' config --format json` (scripts/compose-oracle/regenerate.mjs).
 * No Docker needed here: we compare our loader's build-relevant projection with the committed output.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listCases, loadCase, readExpected, withPlaceholder } from './__fixtures__/oracle-harness';

const cases = listCases(path.join(__dirname, '__fixtures__', 'oracle'));

interface Projection {
  name: string;
  services: Record<string, { build?: unknown; image?: unknown; profiles?: unknown }>;
  secrets: Record<string, unknown>;
}

/** A compose model as `docker compose config --format json` prints it, as far as this test reads it. */
interface ConfigJson {
  name: string;
  services?: Record<string, Record<string, unknown>>;
  secrets?: Record<string, unknown>;
}

function project(config: ConfigJson): Projection {
  const services: Projection['services'] = {};
  for (const [name, svc] of Object.entries<Record<string, unknown>>(config.services ?? {})) {
    const entry: Projection['services'][string] = {};
    for (const key of ['build', 'image', 'profiles'] as const) if (svc[key] !== undefined && svc[key] !== null) entry[key] = svc[key];
    // Compose does not print `x-*` extension keys of `build`; we keep them for later stages.
    if (entry.build && typeof entry.build === 'object') {
      entry.build = Object.fromEntries(Object.entries(entry.build).filter(([k]) => !k.startsWith('x-')));
    }
    services[name] = entry;
  }
  return { name: config.name, services, secrets: config.secrets ?? {} };
}

describe('compose loader agrees with docker compose 2.26 (oracle fixtures)', () => {
  it('has fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(8));

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const loaded = loadCase(c);
    const ours = project({
      name: loaded.name,
      services: Object.fromEntries(
        Object.entries(loaded.services).map(([n, s]) => [n, { build: s.build, image: s.image, profiles: s.profiles }]),
      ),
      secrets: Object.keys(loaded.secrets).length ? loaded.secrets : undefined,
    });
    expect(withPlaceholder(ours, c.dir)).toEqual(project(readExpected(c) as ConfigJson));
  });

  // Keys that do not affect a build are still merged as Compose merges them (short and long forms across files).
  it.each(['networks', 'depends_on', 'ulimits', 'dns', 'dns_search', 'tmpfs', 'labels'])('short-long-forms: services.*.%s', (key) => {
    const c = cases.find((x) => x.name === 'short-long-forms')!;
    const loaded = loadCase(c);
    const expected = readExpected(c).services as Record<string, Record<string, unknown>>;
    // api and web set every key; db gets only Compose's normalisation defaults (default network, command: null).
    for (const name of ['api', 'web']) expect(loaded.services[name].definition[key], `${name}.${key}`).toEqual(expected[name][key]);
  });
});
