#!/usr/bin/env node
// Regenerates expected.json for every compose oracle fixture by running the real Docker Compose:
//   docker compose [-f file...] --profile '*' config --format json
// in the fixture folder (or its oracle-case.json "workdir") with a fixed environment (the root's
// oracle-env.json + the case's oracle-case.json "env"). Absolute fixture paths become <FIXTURE> so
// the files are machine independent.
//
// Two fixture roots: __fixtures__/oracle (invented cases) and __fixtures__/corpus (real public
// compose files, see each case's SOURCE.md).
//
// Usage: node scripts/compose-oracle/regenerate.mjs [case...]
// Compose binary: `docker compose` by default; set COMPOSE_ORACLE_BIN to a docker-compose plugin binary
// (e.g. the Debian docker-compose 2.26.1 package extracted somewhere) to run it directly.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fixturesBase = resolve(here, '../../packages/nx-compose-buildx/src/compose/__fixtures__');
const roots = ['oracle', 'corpus'].map((name) => join(fixturesBase, name)).filter((dir) => existsSync(dir));

const bin = process.env.COMPOSE_ORACLE_BIN;
const [command, prefix] = bin ? [bin, []] : ['docker', ['compose']];
const version = execFileSync(command, [...prefix, 'version'], { encoding: 'utf8' }).trim();
console.log(`oracle: ${version}`);

const only = process.argv.slice(2);
for (const root of roots) {
  const fixedEnv = JSON.parse(readFileSync(join(root, 'oracle-env.json'), 'utf8'));
  const cases = readdirSync(root)
    .filter((name) => statSync(join(root, name)).isDirectory())
    .filter((name) => only.length === 0 || only.includes(name))
    .sort();
  for (const name of cases) {
    const dir = join(root, name);
    const caseFile = join(dir, 'oracle-case.json');
    const spec = existsSync(caseFile) ? JSON.parse(readFileSync(caseFile, 'utf8')) : {};
    const fileArgs = (spec.files ?? []).flatMap((f) => ['-f', f]);
    const argv = [...prefix, ...fileArgs, '--profile', '*', 'config', '--format', 'json'];
    const env = { PATH: process.env.PATH, ...fixedEnv, ...(spec.env ?? {}) };
    let output;
    try {
      output = execFileSync(command, argv, {
        cwd: join(dir, spec.workdir ?? '.'),
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      console.error(`${name}: compose failed:\n${e.stderr || e.message}`);
      process.exitCode = 1;
      continue;
    }
    const json = JSON.parse(output.split(dir).join('<FIXTURE>'));
    writeFileSync(join(dir, 'expected.json'), `${JSON.stringify(json, null, 2)}\n`);
    console.log(`${name}: ${Object.keys(json.services ?? {}).length} services`);
  }
}
