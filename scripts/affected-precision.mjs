#!/usr/bin/env node
// node scripts/affected-precision.mjs — how many services a one-file change selects in
// the real compose projects of the corpus (packages/nx-compose-buildx/src/compose/
// __fixtures__/corpus), with the plugin's real createNodes on each repository as it was
// at the fixture's commit.
//
//   PRECISION_REPOS  folder holding one bare git repository per fixture repository, named
//                    <owner>+<name>/repo (required; the fixtures name repository and commit)
//   PRECISION_BEFORE another build of the plugin (its packages/nx-compose-buildx folder) to
//                    compare with, e.g. the commit before a change (optional)
//
// For every file tracked at that commit that lies in some service's context, a change to
// it selects a service when the file matches the service's docker-image file inputs or
// those of an image it builds on (what `nx affected` does with `^docker-image`), matched
// with Nx's own glob engine. Compose files, .env and the lock also reach the service they
// define through its lock entry (not counted here: that is one service per edit).
// A measurement, not a test.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { matchGlobPaths } = require('nx/src/native');
const CORPUS = join(repo, 'packages/nx-compose-buildx/src/compose/__fixtures__/corpus');
const REPOS = process.env.PRECISION_REPOS;
if (!REPOS) {
  console.error('PRECISION_REPOS must name the folder of <owner>+<name>/repo git repositories');
  process.exit(2);
}
// Each build runs in a process of its own: two builds of the plugin in one process share
// module state and caches.
const child = process.argv[2] === '--one' ? [process.argv[3], resolve(process.argv[4])] : undefined;
if (!child) {
  const builds = [['after', join(repo, 'packages/nx-compose-buildx')]];
  if (process.env.PRECISION_BEFORE) builds.unshift(['before', resolve(process.env.PRECISION_BEFORE)]);
  const merged = new Map();
  for (const [label, dir] of builds) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--one', label, dir], {
      encoding: 'utf-8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
    for (const row of JSON.parse(out)) merged.set(row.fixture, { ...merged.get(row.fixture), ...row });
  }
  const cell = (m) => (m ? `${m.mean.toFixed(1)} / ${m.max} / ${m.all} / ${m.none}` : '–');
  console.log('| fixture | services | files in a context | before: mean / max / files selecting all / selecting none | after: same |');
  console.log('|---|---:|---:|---|---|');
  for (const r of merged.values()) {
    if (r.note) console.log(`| ${r.fixture} | – | – | ${r.note} | |`);
    else console.log(`| ${r.fixture} | ${r.services} | ${r.files} | ${cell(r.before)} | ${cell(r.after)} |`);
  }
  process.exit(0);
}
const builds = [child];
const COMPOSE_NAME = /^(docker-)?compose(\.[\w.-]+)?\.ya?ml$/;

/** Services (project name → file globs, dependencies) as one plugin build infers them. */
async function inferred(pluginDir, root, configFiles, options) {
  const { createComposeNodes } = require(join(pluginDir, 'dist/nx/create-nodes.js'));
  const { renderServiceLock, SERVICE_LOCK_FILE } = require(join(pluginDir, 'dist/nx/service-lock.js'));
  let calls = 0;
  const once = async () => {
    // A fresh workspace-data folder for each call (a cold graph): the previous call's cache write
    // is not awaited by createNodes, so removing its folder here could race with it.
    process.env.NX_WORKSPACE_DATA_DIRECTORY = join(root, '.nx', `workspace-data-${calls++}`);
    return createComposeNodes(configFiles, options, { workspaceRoot: root, nxJsonConfiguration: {} });
  };
  // As a user who ran `nx sync`: the lock is current, so compose edits go through it.
  const hashes = {};
  for (const [, result] of await once()) {
    for (const project of Object.values(result.projects ?? {})) {
      const entry = project.metadata?.nxComposeBuildx;
      if (entry?.definitionHash) hashes[project.name] = entry.definitionHash;
      Object.assign(hashes, entry?.platformHashes ?? {});
    }
  }
  writeFileSync(join(root, SERVICE_LOCK_FILE), renderServiceLock(hashes));
  const results = await once();
  const services = new Map();
  for (const [, result] of results) {
    for (const project of Object.values(result.projects ?? {})) {
      if (!project.targets?.['docker-build'] || project.targets['docker-build'].executor?.endsWith('config-error')) continue;
      const globs = (project.namedInputs?.['docker-image'] ?? []).filter((i) => typeof i === 'string');
      services.set(project.name, {
        globs,
        deps: project.implicitDependencies ?? [],
        context: project.targets['docker-build'].options?.context,
      });
    }
  }
  return services;
}

function selectedCounts(services, files) {
  const own = new Map();
  for (const [name, s] of services) {
    const globs = s.globs.map((g) => g.replace('{workspaceRoot}/', ''));
    own.set(name, globs.some((g) => !g.startsWith('!')) ? matchGlobPaths(globs, files) : files.map(() => false));
  }
  const closure = (name, seen = new Set()) => {
    if (seen.has(name)) return seen;
    seen.add(name);
    for (const d of services.get(name)?.deps ?? []) if (services.has(d)) closure(d, seen);
    return seen;
  };
  const reach = new Map([...services.keys()].map((n) => [n, [...closure(n)]]));
  return files.map((_, i) => [...services.keys()].filter((n) => reach.get(n).some((d) => own.get(d)[i])).length);
}

/**
 * The tree at `commit` written under `root`. A mirror may lack its largest blobs: those
 * files are written empty (only their names matter here).
 */
function materialise(gitDir, commit, root) {
  const entries = execFileSync('git', ['--git-dir', gitDir, 'ls-tree', '-r', '-z', commit], { maxBuffer: 256 * 1024 * 1024 })
    .toString('utf-8')
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split('\t');
      const [mode, type, id] = meta.split(' ');
      return { mode, type, id, path };
    })
    .filter((e) => e.type === 'blob' && e.mode !== '120000');
  const batch = execFileSync('git', ['--git-dir', gitDir, 'cat-file', '--batch'], {
    input: entries.map((e) => e.id).join('\n') + '\n',
    maxBuffer: 1024 * 1024 * 1024,
  });
  let at = 0;
  for (const e of entries) {
    const nl = batch.indexOf(10, at);
    const header = batch.subarray(at, nl).toString('utf-8');
    at = nl + 1;
    let content = Buffer.alloc(0);
    if (!header.endsWith('missing')) {
      const size = Number(header.split(' ')[2]);
      content = batch.subarray(at, at + size);
      at += size + 1;
    }
    const abs = join(root, e.path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}

const rows = [];
const only = process.env.PRECISION_ONLY?.split(',');
for (const fixture of readdirSync(CORPUS)
  .filter((d) => existsSync(join(CORPUS, d, 'SOURCE.md')) && (!only || only.includes(d)))
  .sort()) {
  const source = readFileSync(join(CORPUS, fixture, 'SOURCE.md'), 'utf-8');
  const url = /https:\/\/github\.com\/([^\s)]+)/.exec(source)?.[1];
  const commit = /\b[0-9a-f]{40}\b/.exec(source)?.[0];
  const gitDir = url && join(REPOS, url.replace('/', '+'), 'repo');
  if (!url || !commit || !existsSync(gitDir)) {
    rows.push({ fixture, note: 'repository not available' });
    continue;
  }
  const oracle = JSON.parse(readFileSync(join(CORPUS, fixture, 'oracle-case.json'), 'utf-8'));
  const root = mkdtempSync(join(tmpdir(), 'nxcb-precision-'));
  const savedEnv = { ...process.env };
  try {
    materialise(gitDir, commit, root);
    const tracked = execFileSync('git', ['--git-dir', gitDir, 'ls-tree', '-r', '--name-only', commit], {
      encoding: 'utf-8',
      maxBuffer: 256 * 1024 * 1024,
    })
      .split('\n')
      .filter(Boolean);
    const workdir = oracle.workdir ?? '.';
    const dir = join(root, workdir);
    const prefix = workdir === '.' ? '' : `${workdir}/`;
    const configFiles = readdirSync(dir)
      .filter((n) => COMPOSE_NAME.test(n))
      .map((n) => `${prefix}${n}`);
    const options = oracle.files ? { composeFileSets: [{ files: oracle.files.map((f) => `${prefix}${f}`) }] } : {};
    Object.assign(process.env, oracle.env ?? {});
    const row = { fixture, services: 0, files: 0 };
    let fileSet;
    for (const [label, pluginDir] of builds) {
      const services = await inferred(pluginDir, root, configFiles, options);
      row.services = services.size;
      if (!fileSet) {
        // The files in some local context (as the after build resolved them).
        const contexts = [...services.values()].map((s) => s.context).filter((c) => typeof c === 'string' && !/^[a-z]+:/.test(c));
        fileSet = tracked.filter((f) => contexts.some((c) => c === '.' || f.startsWith(`${c}/`)));
      }
      const counts = selectedCounts(services, fileSet);
      const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
      row[label] = {
        mean,
        max: Math.max(0, ...counts),
        all: counts.filter((c) => c === services.size && c > 0).length,
        none: counts.filter((c) => c === 0).length,
      };
    }
    row.files = fileSet.length;
    rows.push(row);
  } catch (e) {
    rows.push({ fixture, note: String(e.message).split('\n')[0] });
  } finally {
    process.env = savedEnv;
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}

process.stdout.write(JSON.stringify(rows));
