// Generates the benchmark's compose monorepo (N services) as an Nx workspace in a temp git repo,
// and runs commands in it from argv arrays (never a shell), timing them.
import { spawn, execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
  appendFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const NX_BIN = join(REPO, 'node_modules/nx/dist/bin/nx.js');
export const BASE_IMAGE = '127.0.0.1:5000/nxcb/busybox:latest';
/** Every service's platforms, for ours and the peers alike; BENCH_PLATFORMS=linux/amd64 benchmarks one-platform services. */
export const PLATFORMS = process.env.BENCH_PLATFORMS || 'linux/amd64,linux/arm64';
export const IMAGE_PREFIX = '127.0.0.1:5000/bench';

/** The line that says why a failed command failed: its last line matching `pattern`, else its first line. */
export const failureLine = (e, pattern = /ERROR/) =>
  e.message
    .split('\n')
    .filter((l) => pattern.test(l))
    .pop() ?? e.message.split('\n')[0];

export const svcName = (i) => `svc-${String(i).padStart(3, '0')}`;

function write(root, path, content) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** Dockerfile of one service. Every RUN carries the service name, so no two services share a step
 * (BuildKit would otherwise dedupe them and a cold build of N services would cost one).
 * `RUN --network=none`: the stack has no bridge and bake 0.13 has no per-target network key. */
function dockerfile(name) {
  return [
    `FROM ${BASE_IMAGE}`,
    `RUN --network=none mkdir -p /app /data && echo "${name}" > /etc/service-name`,
    `RUN --network=none for i in 1 2 3 4 5 6 7 8; do echo "${name} $i $(uname -m)" >> /data/seed.txt; done`,
    `COPY . /app/`,
    `RUN --network=none ls -R /app > /app/manifest.txt && sha256sum /app/src/* > /app/sums.txt`,
    `CMD ["cat", "/etc/service-name"]`,
    '',
  ].join('\n');
}

/**
 * Writes the monorepo: compose.yaml at the root, services/<svc>/ with Dockerfile, .dockerignore,
 * src/ files, a README (kept) and docs/tmp files (ignored by .dockerignore).
 * `cache`: add per-service registry cache (cache_from/cache_to) to the compose file.
 * `plugin: false`: the same files with no Nx plugin (the floor: Nx's own start-up).
 * `imagePrefix`: the images' registry namespace (a scenario whose tools must not share images).
 */
export function generateMonorepo({ n, nodeModules, cache = false, plugin = true, label = 'ws', imagePrefix = IMAGE_PREFIX }) {
  const root = mkdtempSync(join(tmpdir(), `nxcb-bench-${label}-`));
  symlinkSync(nodeModules, join(root, 'node_modules'), 'dir');
  write(root, 'package.json', JSON.stringify({ name: 'bench-monorepo', private: true }, null, 2));
  write(root, '.gitignore', 'node_modules\n.nx\ndist\n');
  write(
    root,
    'nx.json',
    JSON.stringify(
      plugin
        ? { defaultBase: 'main', plugins: ['nx-compose-buildx'], sync: { globalGenerators: ['nx-compose-buildx:sync'] } }
        : { defaultBase: 'main', plugins: [] },
      null,
      2,
    ),
  );
  write(root, 'NOTES.md', '# bench monorepo\n');
  let compose = 'name: bench\nservices:\n';
  for (let i = 0; i < n; i++) {
    const name = svcName(i);
    compose += `  ${name}:\n    image: ${imagePrefix}/${name}:latest\n    build:\n      context: ./services/${name}\n      network: none\n      platforms: [${PLATFORMS.split(',').join(', ')}]\n`;
    if (cache) {
      const ref = `${imagePrefix}/${name}:buildcache`;
      compose += `      cache_from: ["type=registry,ref=${ref}"]\n      cache_to: ["type=registry,ref=${ref},mode=max"]\n`;
    }
    const ctx = `services/${name}`;
    write(root, `${ctx}/Dockerfile`, dockerfile(name));
    write(root, `${ctx}/.dockerignore`, 'docs/\ntmp/\n*.log\n');
    write(root, `${ctx}/README.md`, `# ${name}\n`);
    for (let f = 0; f < 5; f++) write(root, `${ctx}/src/mod-${f}.sh`, `#!/bin/sh\necho "${name} module ${f}"\n`);
    write(root, `${ctx}/src/version.txt`, '0\n');
    write(root, `${ctx}/docs/design.md`, `design of ${name}\n`);
    write(root, `${ctx}/tmp/scratch.log`, 'scratch\n');
  }
  write(root, 'compose.yaml', compose);
  return root;
}

/**
 * A private node_modules for the benchmark workspaces: symlinks to the repo's packages, except the
 * plugin, which is a copy of its built package taken now (with a link to its nested node_modules). Others rebuild packages/…/dist while the
 * benchmark runs (a rebuild empties dist and fails running tasks); the copy is immune to that.
 */
export function snapshotNodeModules() {
  const plugin = join(REPO, 'packages/nx-compose-buildx');
  const schema = join(plugin, 'dist/nx/executors/docker-build/schema.json');
  for (let i = 0; i < 60 && !(existsSync(join(plugin, 'dist/index.js')) && existsSync(schema)); i++) execFileSync('sleep', ['2']);
  if (!existsSync(schema)) throw new Error('packages/nx-compose-buildx/dist is not built: run npm run build');
  const dir = join(mkdtempSync(join(tmpdir(), 'nxcb-bench-modules-')), 'node_modules');
  mkdirSync(dir);
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (entry === 'nx-compose-buildx') continue;
    symlinkSync(join(REPO, 'node_modules', entry), join(dir, entry));
  }
  const copy = join(dir, 'nx-compose-buildx');
  mkdirSync(copy);
  for (const f of ['package.json', 'executors.json', 'generators.json', 'dist'])
    cpSync(join(plugin, f), join(copy, f), { recursive: true });
  // The plugin's own dependencies (tar-stream 3, where nx at the root has tar-stream 2): as installed, not the root's.
  if (existsSync(join(plugin, 'node_modules'))) symlinkSync(join(plugin, 'node_modules'), join(copy, 'node_modules'), 'dir');
  // the copy must be complete: a rebuild might have raced with it
  if (!existsSync(join(copy, 'dist/nx/executors/docker-build/schema.json')))
    throw new Error('the plugin was being rebuilt while copied; run again');
  return dir;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
};
export function git(root, args) {
  return execFileSync('git', args, { cwd: root, encoding: 'utf-8', env: { ...process.env, ...GIT_ENV } });
}

/** A `docker` wrapper for the PATH: logs each invocation's argv, then execs the real docker. */
export function dockerWrapper(realDocker) {
  const dir = mkdtempSync(join(tmpdir(), 'nxcb-bench-bin-'));
  const log = join(dir, 'docker-invocations.log');
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${q(log)}\nexec ${q(realDocker)} "$@"\n`);
  chmodSync(join(dir, 'docker'), 0o755);
  return {
    dir,
    /** Invocations logged since the last call. */
    take() {
      if (!existsSync(log)) return [];
      const lines = readFileSync(log, 'utf-8').split('\n').filter(Boolean);
      writeFileSync(log, '');
      return lines;
    },
  };
}

export function resolveOnPath(file) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, file))) return join(dir, file);
  }
  throw new Error(`${file} not found on PATH`);
}

/** Runs argv (no shell), returns { ms, status, stdout, stderr }. Output is kept for diagnosis. */
export function timed(argv, { cwd, env, logFile }) {
  return new Promise((resolvePromise) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (status) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const stdout = Buffer.concat(out).toString('utf-8');
      const stderr = Buffer.concat(err).toString('utf-8');
      if (logFile)
        appendFileSync(logFile, `\n===== ${argv.join(' ')} (exit ${status}, ${(ms / 1000).toFixed(2)} s)\n${stdout}\n${stderr}\n`);
      resolvePromise({ ms, status, stdout, stderr });
    });
  });
}
