#!/usr/bin/env node
// npm run bench — issue 6's harness: nx-compose-buildx against `docker buildx bake` and
// `docker compose build` on a generated compose monorepo of N services, on the real stack.
//
//   node scripts/bench.mjs [N ...]        default N = 12 50 200 (or BENCH_N=12,50)
//   BENCH_REPS=3                          repetitions per scenario (tools alternate each rep)
//   BENCH_SCENARIOS=1,2,3,4               which scenarios to run
//   BENCH_MD=path                         also write the results as markdown there
//   BENCH_KEEP=1                          keep the temp workspaces
//   BENCH_PLATFORMS=linux/amd64           every service's platforms (default linux/amd64,linux/arm64)
//   BENCH_COLD_MAX_N=50                   run scenario 1 only for N up to this (it dominates at N = 200)
//   BENCH_PEERS=0                         scenarios 2-3 without bake and compose (at N = 200 on our
//                                         stack both fail: BuildKit "no such job" with 200 targets)
//
// Each service: a 2-platform (linux/amd64, linux/arm64) image FROM the local busybox base, three
// RUN steps, a COPY of its context and a .dockerignore. Scenarios:
//   1 cold build of everything      nx run-many -t docker-build --skip-nx-cache | bake | compose build
//   2 nothing changed               nx affected -t docker-build | bake | compose build (warm BuildKit)
//   3 one service changed           nx affected -t docker-build | bake | compose build | limit
//   4 fresh CI runner (push+cache)  nx affected -t docker-push  | bake --push | limit
// Scenarios in modules of their own (scripts/lib/bench-*.mjs), each registered in SCENARIO_MODULES
// with one line and picked by its id in BENCH_SCENARIOS:
//   overhead                        the plugin's cost on an nx command (graph; one-service run vs its build)
//   5 fresh runner, release         nx run-many -t docker-push with reuse | without | bake --push | limit
//   6 Go: cross-compile vs QEMU     the generated Go service for linux/arm64,linux/arm/v7 (once, not per N)
// Everything runs on a private engine (`local-stack.sh engine-up bench`: own image store and
// BuildKit cache, same registry and QEMU), so its `docker buildx prune -af` clears no one else's
// cache; NXCB_USE_EXISTING_ENGINE=1 runs on the engine DOCKER_HOST points at instead.
// "limit" = `docker buildx build` of the changed service alone with the plugin's flags.
// A benchmark, not a test: it asserts nothing, it prints medians, min–max and ratios.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { median, scenarioTable, sec } from './lib/bench-stats.mjs';
import { ensureEngine, ensureStack } from './lib/stack.mjs';
import {
  BASE_IMAGE,
  IMAGE_PREFIX,
  NX_BIN,
  PLATFORMS,
  REPO,
  dockerWrapper,
  failureLine,
  generateMonorepo,
  git,
  resolveOnPath,
  snapshotNodeModules,
  svcName,
  timed,
} from './lib/bench-workspace.mjs';
import { runOverheadScenario } from './lib/bench-overhead.mjs';
import { runReleaseScenario } from './lib/bench-release.mjs';
import { runGoEmulationScenario } from './lib/bench-go-emulation.mjs';

/** Scenario id → module function(ctx) returning markdown lines; ctx is built in benchN. */
const SCENARIO_MODULES = {
  overhead: runOverheadScenario,
  5: runReleaseScenario,
  6: runGoEmulationScenario,
};

const argNs = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
const NS = argNs.length
  ? argNs
  : (process.env.BENCH_N ?? '12,50,200')
      .split(',')
      .map(Number)
      .filter((x) => x > 0);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const SCENARIOS = new Set(
  (process.env.BENCH_SCENARIOS ?? `1,2,3,4,${Object.keys(SCENARIO_MODULES).join(',')}`).split(',').map((s) => s.trim()),
);
const COLD_MAX_N = Number(process.env.BENCH_COLD_MAX_N ?? Infinity);
const PEERS = process.env.BENCH_PEERS !== '0';
const LOG = join(tmpdir(), `nxcb-bench-${Date.now()}.log`);

// ---- the stack --------------------------------------------------------------------------------
const stackLog = (line) => console.log(line);
const { dockerHost } =
  process.env.NXCB_USE_EXISTING_ENGINE === '1' ? await ensureStack({ log: stackLog }) : await ensureEngine('bench', { log: stackLog });
const realDocker = resolveOnPath('docker');
const ENV = {
  ...process.env,
  DOCKER_HOST: dockerHost,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_VERBOSE_LOGGING: 'false',
  FORCE_COLOR: '0',
  CI: 'true', // plain progress everywhere; no prompts
  // compose and bake add a provenance attestation by default; the plugin passes --provenance=false
  BUILDX_NO_DEFAULT_ATTESTATIONS: '1',
};
const wrapper = dockerWrapper(realDocker);
const OURS_ENV = { ...ENV, PATH: `${wrapper.dir}:${process.env.PATH}` };
const docker = (args) => execFileSync(realDocker, args, { env: ENV, encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024 });

if (!existsSync(join(REPO, 'packages/nx-compose-buildx/dist/index.js'))) {
  console.log('building the plugin (npm run build)…');
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
}
const nodeModules = snapshotNodeModules();

function machine() {
  const v = (f) => {
    try {
      return f().trim();
    } catch (e) {
      return `? (${e.message.split('\n')[0]})`;
    }
  };
  return {
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: release(),
    docker: v(
      () =>
        `client ${docker(['version', '--format', '{{.Client.Version}}']).trim()}, engine ${docker(['version', '--format', '{{.Server.Version}}']).trim()}`,
    ),
    buildx: v(() => docker(['buildx', 'version'])),
    compose: v(() => docker(['compose', 'version', '--short'])),
    nx: JSON.parse(readFileSync(join(REPO, 'node_modules/nx/package.json'), 'utf-8')).version,
    node: process.version,
  };
}

// ---- helpers ----------------------------------------------------------------------------------
const nx = (args) => [process.execPath, NX_BIN, ...args];
const bakeArgv = (extra) => [
  realDocker,
  'buildx',
  'bake',
  '-f',
  'compose.yaml',
  '--progress=plain',
  '--provenance=false',
  '--set',
  `*.platform=${PLATFORMS}`,
  ...extra,
];
const composeArgv = [realDocker, 'compose', 'build'];
function limitArgv(svc, extra, imagePrefix = IMAGE_PREFIX) {
  return [
    realDocker,
    'buildx',
    'build',
    '--progress=plain',
    '--platform',
    PLATFORMS,
    '-f',
    `services/${svc}/Dockerfile`,
    '-t',
    `${imagePrefix}/${svc}:latest`,
    '--network',
    'none',
    '--provenance=false',
    '--sbom=false',
    ...extra,
    `services/${svc}`,
  ];
}

/** Runs argv; on failure retries once (concurrent users of the engine occasionally make a BuildKit
 * cache export fail with "not found"); a second failure throws. */
async function must(argv, cwd, env = ENV) {
  let r = await timed(argv, { cwd, env, logFile: LOG });
  if (r.status !== 0) {
    console.log(`    (failed, exit ${r.status}; retrying once: ${argv.slice(1, 5).join(' ')} …)`);
    r = await timed(argv, { cwd, env, logFile: LOG });
  }
  if (r.status !== 0)
    throw new Error(`${argv.slice(0, 6).join(' ')} … failed (exit ${r.status}); see ${LOG}\n${(r.stdout + r.stderr).slice(-3000)}`);
  return r;
}

async function initRepo(root) {
  git(root, ['init', '-q', '-b', 'main']);
  git(root, ['add', '-A']); // the service lock hashes only files git tracks
  if (existsSync(join(root, 'nx.json')) && readFileSync(join(root, 'nx.json'), 'utf-8').includes('nx-compose-buildx'))
    await must(nx(['sync']), root);
  git(root, ['add', '-A']);
  git(root, ['commit', '-q', '-m', 'initial']);
}

let bumpCounter = 0;
/** A commit that changes one service's context (a file COPY sends), with a never-seen value. */
function changeService(root, svc) {
  writeFileSync(join(root, `services/${svc}/src/version.txt`), `${Date.now()}-${++bumpCounter}\n`);
  git(root, ['commit', '-q', '-am', `change ${svc}`]);
}
/** A commit that touches no service. */
function changeNothing(root) {
  writeFileSync(join(root, 'NOTES.md'), `# bench monorepo\n${Date.now()}-${++bumpCounter}\n`);
  git(root, ['commit', '-q', '-am', 'notes']);
}

/** Cold builder: drop the whole BuildKit cache and our local images (only 127.0.0.1:5000/bench…). */
function coldReset() {
  docker(['buildx', 'prune', '-af']);
  const refs = docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])
    .split('\n')
    .filter((r) => r.startsWith(IMAGE_PREFIX));
  for (let i = 0; i < refs.length; i += 100) docker(['image', 'rm', '-f', ...refs.slice(i, i + 100)]);
}

/** Ours through the docker wrapper: wall time and the docker invocations it made. */
async function runOurs(argv, cwd, extraEnv = {}) {
  wrapper.take();
  const r = await must(argv, cwd, { ...OURS_ENV, ...extraEnv });
  const tasks =
    /Successfully ran target \S+ for (\d+) project/.exec(r.stdout)?.[1] ??
    (/Successfully ran target \S+ for project /.test(r.stdout) ? '1' : /No tasks were run/.test(r.stdout) ? '0' : '?');
  return { ...r, invocations: wrapper.take(), tasks };
}

/** Runs REPS repetitions; within a rep each tool runs once, and the order rotates between reps. */
async function alternate(tools, before, reps = REPS) {
  const runs = Object.fromEntries(tools.map((t) => [t.label, []]));
  for (let rep = 0; rep < reps; rep++) {
    const order = tools.map((_, i) => tools[(i + rep) % tools.length]);
    for (const tool of order) {
      if (before) await before(tool);
      const r = await tool.run();
      runs[tool.label].push(r.ms);
      process.stdout.write(
        `    rep ${rep + 1} ${tool.label.padEnd(28)} ${sec(r.ms)}${r.invocations ? `  (${r.tasks} task(s), ${r.invocations.length} docker invocation(s))` : ''}\n`,
      );
    }
  }
  return runs;
}

function perfLines(output) {
  const times = [...output.matchAll(/Time taken for '([^']+)' ([\d.]+)ms/g)].map((m) => [m[1], Number(m[2])]);
  return times
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`);
}

const IN_PROCESS = 'ours, NX_ISOLATE_PLUGINS=false';
const med = (runs, label) => median(runs[label] ?? []);
const ratioText = (slow, fast) => `${(slow / fast).toFixed(1)}×`;

// ---- scenarios --------------------------------------------------------------------------------
async function benchN(n) {
  const md = [`### N = ${n} services`, ''];
  const changed = svcName(Math.floor(n / 2));
  const ws = generateMonorepo({ n, nodeModules, label: `n${n}` });
  const bare = generateMonorepo({ n, nodeModules, plugin: false, label: `n${n}-bare` });
  const cleanup = [ws, bare];
  console.log(`\n=== N = ${n} (workspace ${ws}; changed service ${changed}) ===`);
  try {
    await initRepo(ws);
    await initRepo(bare);
    const affectedBuild = nx(['affected', '-t', 'docker-build', '--base=HEAD~1', '--head=HEAD']);
    const oursBuildAffected = { label: 'ours: nx affected', run: () => runOurs(affectedBuild, ws) };
    // Nx starts each plugin (its own js/package-json/project-json and ours) in a worker process by
    // default; NX_ISOLATE_PLUGINS=false loads them in-process. A user's choice, measured as a variant.
    const oursInProcess = { label: IN_PROCESS, run: () => runOurs(affectedBuild, ws, { NX_ISOLATE_PLUGINS: 'false' }) };
    const floor = { label: 'Nx floor: no plugin', run: () => must(affectedBuild, bare) };
    const bakeLoad = { label: 'docker buildx bake --load', run: () => must(bakeArgv(['--load']), ws) };
    let bakeFailed;
    let composeFailed;
    const withPeers = (tools) => tools.filter((t) => !(t === bakeLoad && bakeFailed) && !(t === composeBuild && composeFailed));
    const composeBuild = { label: 'docker compose build', run: () => must(composeArgv, ws) };

    if (SCENARIOS.has('1') && n > COLD_MAX_N) md.push(`Scenario 1 not run for N = ${n} (BENCH_COLD_MAX_N = ${COLD_MAX_N}).`, '');
    if (SCENARIOS.has('1') && n <= COLD_MAX_N) {
      console.log('  1. cold build of everything');
      const runs = await alternate(
        [
          { label: 'ours: nx run-many', run: () => runOurs(nx(['run-many', '-t', 'docker-build', '--skip-nx-cache']), ws) },
          bakeLoad,
          composeBuild,
        ],
        () => coldReset(),
      );
      // diagnosis, one run: the batch runs 3 builds at a time by default; bake hands BuildKit every target at once
      coldReset();
      const par = await runOurs(nx(['run-many', '-t', 'docker-build', '--skip-nx-cache']), ws, { NX_PARALLEL: '8' });
      console.log(`    diag ours NX_PARALLEL=8            ${sec(par.ms)}`);
      const kinds = [
        ...new Set(
          par.invocations.map((l) =>
            l
              .split(' ')
              .slice(0, l.startsWith('buildx') ? 2 : 1)
              .join(' '),
          ),
        ),
      ];
      md.push(
        ...scenarioTable('1. Cold build of everything (builder cache pruned, images removed)', runs, {
          ours: 'ours: nx run-many',
          notes: [
            `Ours made ${par.invocations.length} docker invocations for ${n} services (${kinds.map((k) => `\`${k}\``).join(', ')}). Diagnosis, one cold run with \`NX_PARALLEL=8\` (8 builds at once in the batch): ${sec(par.ms)}.`,
          ],
        }).lines,
      );
    }

    if (SCENARIOS.has('2') || SCENARIOS.has('3')) {
      // warm: every image built, Nx cache filled, BuildKit cache warm for all tools
      await must(nx(['run-many', '-t', 'docker-build']), ws, OURS_ENV);
      if (!PEERS) {
        bakeFailed = composeFailed = 'BENCH_PEERS=0';
        md.push('Peers not run for this N (`BENCH_PEERS=0`).', '');
      }
      // bake is dropped from scenarios 2 and 3 when it cannot build the monorepo at all (seen at N = 200)
      if (PEERS)
        try {
          await must(bakeArgv(['--load']), ws);
        } catch (e) {
          bakeFailed = failureLine(e);
          console.log(`    bake failed twice on the warm-up build; left out of scenarios 2-3: ${bakeFailed}`);
          md.push(
            `\`docker buildx bake --load\` failed twice building all ${n} services (\`${bakeFailed}\`), so it is left out of scenarios 2 and 3 below.`,
            '',
          );
        }
      if (PEERS)
        try {
          await must(composeArgv, ws);
        } catch (e) {
          composeFailed = failureLine(e, /rpc error|ERROR/);
          console.log(`    compose failed twice on the warm-up build; left out of scenarios 2-3: ${composeFailed}`);
          md.push(
            `\`docker compose build\` failed twice building all ${n} services (\`${composeFailed}\`), so it is left out of scenarios 2 and 3 below.`,
            '',
          );
        }
    }

    if (SCENARIOS.has('2')) {
      console.log('  2. nothing changed');
      const invocations = [];
      const ours = {
        ...oursBuildAffected,
        run: async () => {
          const r = await oursBuildAffected.run();
          invocations.push(r.invocations.length);
          return r;
        },
      };
      const runs = await alternate(withPeers([ours, oursInProcess, bakeLoad, composeBuild, floor]), () => {
        changeNothing(ws);
        changeNothing(bare);
      });
      changeNothing(ws);
      const perf = await runOurs(nx(['affected', '-t', 'docker-build', '--base=HEAD~1', '--head=HEAD']), ws, { NX_PERF_LOGGING: 'true' });
      const t = scenarioTable('2. Nothing changed (a commit touching no service; warm BuildKit cache)', runs, {
        ours: 'ours: nx affected',
        limit: 'Nx floor: no plugin',
        notes: [
          `Docker invocations by ours per run: ${invocations.join(', ')} (target 0). "Nx floor" = the same files and commit with no plugin in nx.json (Nx start-up, file hashing, affected computation); here ours/limit is ours/floor.`,
          `NX_PERF_LOGGING (longest): ${perfLines(perf.stdout + perf.stderr).join('; ') || 'n/a'}.`,
        ],
      });
      md.push(...t.lines);
    }

    if (SCENARIOS.has('3')) {
      console.log('  3. one service changed');
      const invocations = [];
      let lastInv = [];
      const ours = {
        ...oursBuildAffected,
        run: async () => {
          const r = await oursBuildAffected.run();
          invocations.push(`${r.tasks} task(s)/${r.invocations.length} docker`);
          lastInv = r.invocations;
          return r;
        },
      };
      const limit = { label: 'limit: buildx build 1 svc', run: () => must(limitArgv(changed, ['--load']), ws) };
      const runs = await alternate(withPeers([ours, oursInProcess, bakeLoad, composeBuild, limit, floor]), () => {
        changeService(ws, changed);
        changeNothing(bare);
      });
      changeService(ws, changed);
      const perf = await runOurs(nx(['affected', '-t', 'docker-build', '--base=HEAD~1', '--head=HEAD']), ws, { NX_PERF_LOGGING: 'true' });
      const t = scenarioTable(`3. One service changed (${changed}; warm BuildKit cache)`, runs, {
        ours: 'ours: nx affected',
        limit: 'limit: buildx build 1 svc',
        notes: [
          `Ours per run: ${invocations.join(', ')}. Its docker commands: ${lastInv.map((l) => `\`docker ${l.split(' ').slice(0, 3).join(' ')} …\``).join(', ')}.`,
          `Decomposition (medians): Nx floor (no plugin, nothing to run) ${sec(med(runs, 'Nx floor: no plugin'))}; ours minus that floor ${sec(med(runs, 'ours: nx affected') - med(runs, 'Nx floor: no plugin'))} against the limit's ${sec(med(runs, 'limit: buildx build 1 svc'))}. ${IN_PROCESS}: ${ratioText(med(runs, 'docker buildx bake --load'), med(runs, IN_PROCESS))} faster than bake, ${(med(runs, IN_PROCESS) / med(runs, 'limit: buildx build 1 svc')).toFixed(2)}× the limit.`,
          `NX_PERF_LOGGING (longest): ${perfLines(perf.stdout + perf.stderr).join('; ') || 'n/a'}.`,
        ],
      });
      md.push(...t.lines);
      scenario3[n] = t.med;
    }

    if (SCENARIOS.has('4')) {
      console.log('  4. fresh CI runner: one service changed, push with registry cache, after buildx prune');
      const ws4 = generateMonorepo({ n, nodeModules, cache: true, label: `n${n}-ci` });
      cleanup.push(ws4);
      await initRepo(ws4);
      // the main branch's previous CI run: every image and its registry cache pushed
      await must(nx(['run-many', '-t', 'docker-push']), ws4, OURS_ENV);
      const ref = `${IMAGE_PREFIX}/${changed}:buildcache`;
      const tools = [
        {
          label: 'ours: nx affected docker-push',
          run: () => {
            rmSync(join(ws4, '.nx'), { recursive: true, force: true }); // a fresh runner has no Nx cache either
            rmSync(join(ws4, 'dist'), { recursive: true, force: true });
            return runOurs(nx(['affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD']), ws4);
          },
        },
        { label: 'docker buildx bake --push', run: () => must(bakeArgv(['--push']), ws4) },
        {
          label: 'limit: buildx build --push 1 svc',
          run: () =>
            must(
              limitArgv(changed, ['--cache-from', `type=registry,ref=${ref}`, '--cache-to', `type=registry,ref=${ref},mode=max`, '--push']),
              ws4,
            ),
        },
      ];
      const runs = await alternate(tools, () => {
        changeService(ws4, changed);
        coldReset();
      });
      md.push(
        ...scenarioTable(
          `4. Fresh CI runner (${changed} changed; \`docker buildx prune -af\`, no local images, no .nx; registry cache for every service)`,
          runs,
          {
            ours: 'ours: nx affected docker-push',
            limit: 'limit: buildx build --push 1 svc',
          },
        ).lines,
      );
    }
    const ctx = { n, ws, bare, changed, nx, must, runOurs, alternate, changeService, changeNothing, limitArgv, scenarioTable, sec };
    Object.assign(ctx, { nodeModules, initRepo, coldReset, docker, realDocker, bakeArgv, ENV, OURS_ENV }); // scenarios 5 and 6
    for (const [id, run] of Object.entries(SCENARIO_MODULES)) if (SCENARIOS.has(id)) md.push(...(await run(ctx)));
  } finally {
    if (!process.env.BENCH_KEEP) for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  }
  return md;
}

// ---- main -------------------------------------------------------------------------------------
const scenario3 = {};
const info = machine();
console.log(`bench — N = ${NS.join(', ')}; ${REPS} repetitions; scenarios ${[...SCENARIOS].join(',')}; log ${LOG}`);
for (const [k, v] of Object.entries(info)) console.log(`  ${k}: ${v}`);
const md = [
  `Machine: ${info.cpus}, ${info.memory}, kernel ${info.kernel}. Docker ${info.docker}; ${info.buildx}; compose ${info.compose}; Nx ${info.nx}; Node ${info.node}.`,
  `Base image ${BASE_IMAGE}; ${REPS} repetitions per scenario, tools alternating.`,
  '',
];
for (const n of NS) {
  const lines = await benchN(n);
  console.log(`\n${lines.join('\n')}`);
  md.push(...lines);
}
const targets = [];
const s3 = scenario3[50];
if (s3) {
  const vsBake = s3['docker buildx bake --load'] / s3['ours: nx affected'];
  const vsLimit = s3['ours: nx affected'] / s3['limit: buildx build 1 svc'];
  targets.push(
    `- Scenario 3, N = 50: ${vsBake.toFixed(1)}× faster than bake (target ≥ 5×: ${vsBake >= 5 ? 'met' : 'missed'}); ${vsLimit.toFixed(2)}× the limit (target ≤ 1.3×: ${vsLimit <= 1.3 ? 'met' : 'missed'}).`,
  );
  if (s3[IN_PROCESS])
    targets.push(
      `- Scenario 3, N = 50, ${IN_PROCESS}: ${(s3['docker buildx bake --load'] / s3[IN_PROCESS]).toFixed(1)}× faster than bake; ${(s3[IN_PROCESS] / s3['limit: buildx build 1 svc']).toFixed(2)}× the limit.`,
    );
}
if (scenario3[50] && scenario3[200]) {
  const r = scenario3[200]['ours: nx affected'] / scenario3[50]['ours: nx affected'];
  targets.push(`- Scenario 3, N = 200 vs N = 50: ${r.toFixed(2)}× (target ≈ 1×).`);
  const b = scenario3[200]['docker buildx bake --load'] / scenario3[200]['ours: nx affected'];
  targets.push(`- Scenario 3, N = 200: ${b.toFixed(1)}× faster than bake.`);
}
if (targets.length) {
  console.log(`\n${targets.join('\n')}`);
  md.push('### Targets', '', ...targets, '');
}
if (process.env.BENCH_MD) writeFileSync(process.env.BENCH_MD, `${md.join('\n')}\n`);
console.log(`\nfull command output: ${LOG}${process.env.BENCH_MD ? `; markdown: ${process.env.BENCH_MD}` : ''}`);
rmSync(wrapper.dir, { recursive: true, force: true });
rmSync(dirname(nodeModules), { recursive: true, force: true });
