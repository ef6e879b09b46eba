/**
 * Differential test against Docker Compose 2.26: each fixture's expected.json was produced by
 * `docker compose --profile '*' config --format json` (scripts/compose-oracle/regenerate.mjs).
 * No Docker needed here: we compare our loader's build-relevant projection with the committed output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverComposeFiles } from './discover';
import { parseDotenv } from './dotenv';
import { loadComposeProject } from './load';
import { readFileIfExists } from './load-from-disk';

const root = path.join(__dirname, '__fixtures__', 'oracle');
const fixedEnv: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, 'oracle-env.json'), 'utf8'));
const cases = fs
  .readdirSync(root)
  .filter((name) => fs.statSync(path.join(root, name)).isDirectory())
  .sort();

/** Compose prints a literal `$` as `$$` in its output; undo that to compare values. */
function unescapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$\$/g, '$');
  if (Array.isArray(v)) return v.map(unescapeDollars);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, unescapeDollars(e)]));
  return v;
}

const withPlaceholder = (v: unknown, dir: string): unknown => JSON.parse(JSON.stringify(v).split(dir).join('<FIXTURE>'));

interface Projection {
  name: string;
  services: Record<string, { build?: unknown; image?: unknown; profiles?: unknown }>;
  secrets: Record<string, unknown>;
}

function project(config: Record<string, any>): Projection {
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

  it.each(cases)('%s', (name) => {
    const dir = path.join(root, name);
    const spec = fs.existsSync(path.join(dir, 'oracle-case.json')) ? JSON.parse(fs.readFileSync(path.join(dir, 'oracle-case.json'), 'utf8')) : {};
    const files: string[] = spec.files ? spec.files.map((f: string) => path.join(dir, f)) : discoverComposeFiles(fs.readdirSync(dir)).map((f) => path.join(dir, f));
    const projectDir = path.dirname(files[0]);
    const processEnv: Record<string, string> = { ...fixedEnv, ...(spec.env ?? {}) };
    const dotenvFile = path.join(projectDir, '.env');
    const dotenvText = readFileIfExists(dotenvFile);
    const dotenv = dotenvText === undefined ? {} : parseDotenv(dotenvText, dotenvFile, (n) => processEnv[n]).values;

    const loaded = loadComposeProject({ projectDir, files }, { process: processEnv, dotenv }, readFileIfExists);
    const ours = project({
      name: loaded.name,
      services: Object.fromEntries(Object.entries(loaded.services).map(([n, s]) => [n, { build: s.build, image: s.image, profiles: s.profiles }])),
      secrets: Object.keys(loaded.secrets).length ? loaded.secrets : undefined,
    });
    const expected = project(unescapeDollars(JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'))) as Record<string, any>);
    expect(withPlaceholder(ours, dir)).toEqual(expected);
  });
});
