#!/usr/bin/env node
// npm run demo — the examples/ workspace end to end against a real Docker stack:
//   1. a usable engine: NXCB_USE_EXISTING_ENGINE=1 or a working DOCKER_HOST as is,
//      otherwise `bash scripts/local-stack.sh up` (idempotent; fast when already up)
//   2. npm run build (the plugin, which examples/ resolves through node_modules)
//   3. in examples/: nx run-many -t docker-push, then -t docker-verify
//   4. a table of service x platform -> digest, compressed size, `uname -m`
//   5. wall time of every phase and of the whole demo
// The engine is chosen as the e2e suites choose it (scripts/lib/stack.mjs).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, formatTimings, rowProblem } from './lib/demo-table.mjs';
import { dockerEnv, ensureStack } from './lib/stack.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = join(REPO, 'examples');
const NX_BIN = join(REPO, 'node_modules/nx/dist/bin/nx.js');
const CHECK_TIMEOUT_MS = 60_000;
const RUN_TIMEOUT_MS = 180_000;
const UNAME_CONCURRENCY = 4;

const started = performance.now();
const phases = [];

class DemoError extends Error {}

const say = (msg) => process.stdout.write(`${msg}\n`);
const tail = (text, lines = 10) => text.trimEnd().split('\n').slice(-lines).join('\n');

async function phase(name, fn) {
  say(`\n==> ${name}`);
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    phases.push({ name, ms: performance.now() - t0 });
  }
}

/** Runs file+argv (never a shell string), capturing output. Never rejects. */
function capture(file, args, { cwd = REPO, env = process.env, timeout = CHECK_TIMEOUT_MS } = {}) {
  return new Promise((done) => {
    execFile(file, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024, encoding: 'utf-8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      done({ code, stdout: stdout ?? '', stderr: stderr ?? '', error: error && code === null ? error : undefined });
    });
  });
}

/** Runs file+argv with the given stdio; resolves with the exit code (or rejects if it cannot start). */
function stream(file, args, { cwd = REPO, env = process.env, stdio = 'inherit', onStdout } = {}) {
  return new Promise((done, fail) => {
    const child = spawn(file, args, { cwd, env, stdio });
    if (onStdout) child.stdout.on('data', onStdout);
    child.on('error', (e) => fail(new DemoError(`cannot run ${file}: ${e.message}`)));
    child.on('close', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

/** A usable engine: the one DOCKER_HOST points at, else the local stack (scripts/lib/stack.mjs decides). */
async function ensureEngine() {
  try {
    return (await ensureStack({ log: say, progress: true })).dockerHost;
  } catch (e) {
    throw new DemoError(e.message);
  }
}

function npmArgv(args) {
  // Under `npm run`, npm_execpath is npm's own CLI script: run it with this node.
  const cli = process.env.npm_execpath;
  if (cli && /\.(c|m)?js$/.test(cli)) return [process.execPath, [cli, ...args]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
}

function nxEnv(dockerHost) {
  return { ...dockerEnv(dockerHost), NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
}

/** Every project of examples/ with its compose project and docker-push options, from one `nx graph --file`. */
async function listProjects(env) {
  const dir = mkdtempSync(join(tmpdir(), 'nxcb-demo-'));
  try {
    const file = join(dir, 'graph.json');
    const r = await capture(process.execPath, [NX_BIN, 'graph', `--file=${file}`], { cwd: EXAMPLES, env, timeout: RUN_TIMEOUT_MS });
    if (r.code !== 0) throw new DemoError(`\`nx graph --file\` in examples/ failed (exit ${r.code}):\n${tail(r.stderr || r.stdout, 20)}`);
    const { nodes, dependencies } = JSON.parse(readFileSync(file, 'utf-8')).graph;
    const projects = Object.values(nodes)
      .map(({ name, data }) => {
        const push = data.targets?.['docker-push'];
        if (!push) return undefined;
        const compose = (data.tags ?? []).find((t) => t.startsWith('compose:'))?.slice('compose:'.length) ?? '';
        return {
          name,
          compose,
          service: push.options?.service ?? name,
          tags: push.options?.tags ?? [],
          platforms: push.options?.platforms ?? [],
        };
      })
      .filter(Boolean);
    if (projects.length === 0)
      throw new DemoError('examples/ has no project with a docker-push target: is the plugin built and registered in examples/nx.json?');
    return displayOrder(projects, dependencies ?? {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Dependencies first (base before api before docs), ties by name; then grouped by compose
 * project in the order the groups first appear.
 */
function displayOrder(projects, dependencies) {
  const names = new Set(projects.map((p) => p.name));
  const deps = new Map(
    projects.map((p) => [p.name, new Set((dependencies[p.name] ?? []).map((d) => d.target).filter((t) => names.has(t) && t !== p.name))]),
  );
  const order = [];
  while (deps.size) {
    const ready = [...deps]
      .filter(([, ds]) => [...ds].every((d) => !deps.has(d)))
      .map(([n]) => n)
      .sort();
    const next = ready[0] ?? [...deps.keys()].sort()[0]; // a cycle cannot stop the listing
    order.push(next);
    deps.delete(next);
  }
  const byName = new Map(projects.map((p) => [p.name, p]));
  const groups = [...new Set(order.map((n) => byName.get(n).compose))];
  return groups.flatMap((g) => order.map((n) => byName.get(n)).filter((p) => p.compose === g));
}

async function nxRunMany(target, extra, env) {
  const args = [NX_BIN, 'run-many', '-t', target, '--output-style=static', ...extra];
  say(`(cd examples && nx ${args.slice(1).join(' ')})`);
  const code = await stream(process.execPath, args, { cwd: EXAMPLES, env });
  if (code !== 0) throw new DemoError(`\`nx run-many -t ${target}\` in examples/ failed (exit ${code}); its output is above.`);
}

/** A module of the built plugin (the build phase has run), so the demo reads refs and platforms as the plugin does. */
function pluginModule(path) {
  return createRequire(import.meta.url)(join(REPO, 'packages/nx-compose-buildx/dist', path));
}

/** The plugin's own table of the `uname -m` answers of a correct run of each platform (docker-verify's). */
function unameMachines() {
  const { acceptedUnameMachines } = pluginModule('buildx/platform.js');
  return (platform) => {
    try {
      return acceptedUnameMachines(platform);
    } catch {
      return undefined; // a platform the plugin does not know: the cell shows what ran, unchecked
    }
  };
}

/** Compressed size: the sum of the layer sizes the registry lists in the platform's manifest. */
async function compressedSize(host, repo, digest) {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${digest}`, {
    headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`registry answered ${res.status} for ${repo}@${digest}`);
  const manifest = await res.json();
  if (!Array.isArray(manifest.layers)) throw new Error(`${repo}@${digest} is not a single-platform manifest`);
  return manifest.layers.reduce((sum, l) => sum + (l.size ?? 0), 0);
}

async function unameOf(image, platform, env) {
  const r = await capture('docker', ['run', '--rm', '--network', 'none', '--platform', platform, image, 'uname', '-m'], {
    env,
    timeout: RUN_TIMEOUT_MS,
  });
  if (r.code !== 0) return { error: r.error?.message ?? `exit ${r.code}: ${tail(r.stderr, 1)}` };
  return { machine: r.stdout.trim() };
}

async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** One row per project x platform from push-metadata.json, the registry and a `uname -m` run of the pushed digest. */
async function collectRows(projects, env, pushStartedAt) {
  const notes = [];
  const jobs = [];
  for (const p of projects) {
    const file = join(EXAMPLES, 'dist/docker', p.name, 'push-metadata.json');
    let meta;
    try {
      meta = JSON.parse(readFileSync(file, 'utf-8'));
    } catch (e) {
      throw new DemoError(`cannot read ${file} after docker-push: ${e.message}`);
    }
    if (statSync(file).mtimeMs < pushStartedAt) notes.push(`${p.name}: ${file} predates this run's docker-push`);
    const declared = p.platforms;
    const pushed = Object.keys(meta.platforms ?? {});
    const missing = declared.filter((x) => !pushed.includes(x));
    const extra = pushed.filter((x) => !declared.includes(x));
    if (missing.length || extra.length)
      notes.push(`${p.name}: push-metadata platforms [${pushed.join(', ')}] differ from the declared [${declared.join(', ')}]`);
    const tag = meta.tags?.[0] ?? p.tags[0];
    if (!tag) throw new DemoError(`${file} names no tag`);
    const { registryLocation, repositoryOf } = pluginModule('buildx/image-ref.js');
    const { host, path: repo } = registryLocation(tag);
    // Run the exact index this run pushed (not the moving tag), on each platform.
    const image = meta.manifestDigest ? `${repositoryOf(tag)}@${meta.manifestDigest}` : tag;
    for (const platform of [...declared.filter((x) => pushed.includes(x)), ...extra]) {
      jobs.push({ compose: p.compose, service: p.name, platform, digest: meta.platforms[platform]?.digest, host, repo, image });
    }
    for (const platform of missing) jobs.push({ compose: p.compose, service: p.name, platform, missing: true });
  }
  const rows = await pool(jobs, UNAME_CONCURRENCY, async (j) => {
    const row = { compose: j.compose, service: j.service, platform: j.platform, digest: j.digest };
    if (j.missing) return { ...row, error: 'not in push-metadata.json' };
    const [size, uname] = await Promise.all([
      compressedSize(j.host, j.repo, j.digest).then(
        (bytes) => ({ bytes }),
        (e) => ({ sizeError: e.message }),
      ),
      unameOf(j.image, j.platform, env),
    ]);
    if (size.sizeError) notes.push(`${j.service} ${j.platform}: size: ${size.sizeError}`);
    return { ...row, bytes: size.bytes, ...uname };
  });
  return { rows, notes };
}

async function main() {
  const dockerHost = await phase('engine', ensureEngine);
  const env = nxEnv(dockerHost);

  await phase('build plugin', async () => {
    const [file, args] = npmArgv(['run', 'build']);
    const code = await stream(file, args, { cwd: REPO });
    if (code !== 0) throw new DemoError(`\`npm run build\` failed (exit ${code}); its output is above.`);
  });

  const projects = await phase('list projects', async () => {
    const list = await listProjects(env);
    for (const p of list) say(`  ${p.compose.padEnd(6)} ${p.name.padEnd(8)} ${p.platforms.join(', ')}`);
    return list;
  });

  const pushStartedAt = Date.now();
  // --skip-nx-cache: the demo really builds and pushes every image each time
  // instead of replaying docker-push from the Nx cache.
  await phase('docker-push', () => nxRunMany('docker-push', ['--skip-nx-cache'], env));
  // docker-verify depends on docker-push; the pushes just ran, so don't run them again.
  // (verify itself is never cached.)
  await phase('docker-verify', () => nxRunMany('docker-verify', ['--exclude-task-dependencies'], env));

  const { rows, notes } = await phase('table (registry + uname -m)', () => collectRows(projects, env, pushStartedAt));

  say(`\nImages pushed to the registry (DOCKER_HOST=${dockerHost}):\n`);
  const machines = unameMachines();
  const { humanSize, shortDigest } = pluginModule('nx/run-summary.js');
  say(formatTable(rows, { machines, humanSize, shortDigest }));
  for (const n of notes) say(`note: ${n}`);
  const bad = rows.filter((r) => rowProblem(r, machines));
  return bad.length ? `${bad.length} row(s) of the table show a missing value or a wrong \`uname -m\`` : undefined;
}

function printTimings() {
  say(`\nWall time:\n${formatTimings(phases, performance.now() - started)}`);
}

main().then(
  (problem) => {
    printTimings();
    if (problem) {
      process.stderr.write(`\ndemo FAILED: ${problem}\n`);
      process.exitCode = 1;
    } else {
      say('\ndemo OK');
    }
  },
  (e) => {
    printTimings();
    process.stderr.write(
      `\ndemo FAILED in phase "${phases.at(-1)?.name ?? 'start'}": ${e instanceof DemoError ? e.message : (e?.stack ?? e)}\n`,
    );
    process.exitCode = 1;
  },
);
