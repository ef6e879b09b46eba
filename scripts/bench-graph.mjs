#!/usr/bin/env node
// npm run bench:graph — project-graph creation with 1,000 compose services in
// 100 compose files, cold and warm, next to the same workspace with no plugin, in
// two layouts:
//   per-service  each service its own context (about 50 context files each);
//   root-context every service of a compose file builds the compose folder
//                (`context: .`, `dockerfile: src/<svc>/Dockerfile`), each Dockerfile
//                COPYing its own folder and a shared pb/ folder: the plugin parses
//                every Dockerfile to know what it reads.
// Runs both alternately, several times, and prints medians and the plugin's own
// createNodes time (NX_PERF_LOGGING), and the CPU time of the same call run in a process of
// its own (lib/create-nodes-cpu.mjs), which a shared machine's load distorts less than wall
// time. BENCH_LAYOUTS=per-service,root-context picks.
// Beside them, the same files with a static plugin that answers with our createNodes result read
// from a file (scripts/lib/bench-overhead.mjs): what Nx's figure charges for these 1,000 projects
// alone (the plugin worker's reply, serialised and parsed, and Nx's own work on them), with no
// computation of ours: the 'static' row, against the warm run with no plugin.
// A benchmark, not a test: nothing here asserts a time.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/bench-stats.mjs';
import { STATIC_PLUGIN, benchPluginModules } from './lib/bench-overhead.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nxBin = join(repo, 'node_modules/nx/dist/bin/nx.js');
const GROUPS = Number(process.env.BENCH_GROUPS ?? 100);
const PER_GROUP = Number(process.env.BENCH_SERVICES_PER_GROUP ?? 10);
const REPS = Number(process.env.BENCH_REPS ?? 3);

function write(root, path, content) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** plugin: 'nx-compose-buildx', STATIC_PLUGIN (found in nodeModules) or undefined (none). */
function generate(plugin, layout, nodeModules = join(repo, 'node_modules')) {
  const kind = plugin === undefined ? 'bare' : plugin === STATIC_PLUGIN ? 'static' : 'plugin';
  const root = mkdtempSync(join(tmpdir(), `nxcb-bench-graph-${layout}-${kind}-`));
  symlinkSync(nodeModules, join(root, 'node_modules'), 'dir');
  write(root, 'package.json', JSON.stringify({ name: 'bench', private: true }));
  write(root, '.gitignore', 'node_modules\n.nx\ndist\n');
  write(root, 'nx.json', JSON.stringify({ plugins: plugin ? [plugin] : [] }, null, 2));
  for (let g = 0; g < GROUPS; g++) {
    const group = `stack-${String(g).padStart(3, '0')}`;
    let compose = `name: ${group}\nservices:\n`;
    for (let s = 0; s < PER_GROUP; s++) {
      const svc = `${group}-svc-${String(s).padStart(2, '0')}`;
      const from =
        s === 0 ? '127.0.0.1:5000/nxcb/busybox:latest' : `127.0.0.1:5000/${group}/svc-${String(s - 1).padStart(2, '0')}:\${TAG:-latest}`;
      const image = `127.0.0.1:5000/${group}/svc-${String(s).padStart(2, '0')}:\${TAG:-latest}`;
      if (layout === 'root-context') {
        compose += `  ${svc}:\n    image: ${image}\n    build:\n      context: .\n      dockerfile: src/svc-${s}/Dockerfile\n      platforms: [linux/amd64, linux/arm64]\n      args:\n        BASE: ${from}\n`;
        const dir = `${group}/src/svc-${s}`;
        write(root, `${dir}/Dockerfile`, `ARG BASE\nFROM \${BASE}\nCOPY pb/ /pb/\nCOPY src/svc-${s}/ /app/\nRUN ls /app\n`);
        write(root, `${dir}/README.md`, `# ${svc}\n`);
        for (let f = 0; f < 40; f++) write(root, `${dir}/mod-${f}.js`, `export const v${f} = ${f};\n`);
        for (let f = 0; f < 4; f++) write(root, `${dir}/docs-${f}.md`, `doc ${f}\n`);
        for (let f = 0; f < 3; f++) write(root, `${dir}/tmp/t-${f}.txt`, `tmp ${f}\n`);
        continue;
      }
      compose += `  ${svc}:\n    image: ${image}\n    build:\n      context: ./svc-${s}\n      platforms: [linux/amd64, linux/arm64]\n      args:\n        BASE: ${from}\n`;
      const ctx = `${group}/svc-${s}`;
      write(root, `${ctx}/Dockerfile`, `ARG BASE\nFROM \${BASE}\nCOPY src/ /app/\nRUN ls /app\n`);
      write(root, `${ctx}/.dockerignore`, '*.md\n!README.md\ntmp/\n');
      write(root, `${ctx}/README.md`, `# ${svc}\n`);
      for (let f = 0; f < 40; f++) write(root, `${ctx}/src/mod-${f}.js`, `export const v${f} = ${f};\n`);
      for (let f = 0; f < 4; f++) write(root, `${ctx}/docs-${f}.md`, `doc ${f}\n`);
      for (let f = 0; f < 3; f++) write(root, `${ctx}/tmp/t-${f}.txt`, `tmp ${f}\n`);
    }
    if (layout === 'root-context') {
      write(root, `${group}/.dockerignore`, '**/*.md\n!README.md\n**/tmp/\n');
      for (let f = 0; f < 10; f++) write(root, `${group}/pb/msg-${f}.proto`, `syntax = "proto3"; // ${f}\n`);
      write(root, `${group}/docs/guide.md`, '# guide\n');
    }
    write(root, `${group}/compose.yaml`, compose);
    write(root, `${group}/.env`, 'TAG=latest\n');
  }
  execFileSync('git', ['init', '-q'], { cwd: root });
  return root;
}

function graphOnce(root, cold) {
  if (cold) rmSync(join(root, '.nx'), { recursive: true, force: true });
  // stdout goes to a file: Nx exits before a pipe drains, which cut the list at ~2,000 projects
  const outFile = join(root, '.bench-stdout.txt');
  const fd = openSync(outFile, 'w');
  const start = process.hrtime.bigint();
  const out = spawnSync(process.execPath, [nxBin, 'show', 'projects'], {
    cwd: root,
    encoding: 'utf-8',
    stdio: ['ignore', fd, 'pipe'],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_PERF_LOGGING: 'true', NX_TUI: 'false' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  closeSync(fd);
  const stdout = readFileSync(outFile, 'utf-8');
  if (out.status !== 0) throw new Error(`nx show projects failed:\n${stdout}\n${out.stderr}`);
  const projects = stdout.split('\n').filter((l) => l && !l.includes(' - ') && !/^Time (taken )?for/.test(l)).length;
  const plugin = /nx-compose-buildx:createNodes[^\d]*([\d.]+)ms/.exec(`${stdout}\n${out.stderr}`);
  return { ms, projects, pluginMs: plugin ? Number(plugin[1]) : undefined };
}

const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** createNodes alone in a fresh process (cold: graph cache removed first): { wallMs, cpuMs }. */
function createNodesCpu(root, mode) {
  const out = execFileSync(process.execPath, [join(repo, 'scripts/lib/create-nodes-cpu.mjs'), root, mode], {
    encoding: 'utf-8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.trim().split('\n').pop());
}

const LAYOUTS = (process.env.BENCH_LAYOUTS ?? 'per-service,root-context')
  .split(',')
  .map((l) => l.trim())
  .filter(Boolean);
for (const layout of LAYOUTS) {
  console.log(
    `bench:graph [${layout}] — ${GROUPS * PER_GROUP} services in ${GROUPS} compose files, ~50 context files each${layout === 'root-context' ? ' (one shared context per compose file)' : ''}; ${REPS} repetitions, alternating`,
  );
  const ours = generate('nx-compose-buildx', layout);
  const bare = generate(undefined, layout);
  const composeFiles = Array.from({ length: GROUPS }, (_, g) => `stack-${String(g).padStart(3, '0')}/compose.yaml`);
  const staticModules = await benchPluginModules(ours, composeFiles);
  const fixed = generate(STATIC_PLUGIN, layout, staticModules);
  try {
    const runs = {
      oursCold: [],
      bareCold: [],
      oursWarm: [],
      bareWarm: [],
      pluginCold: [],
      pluginWarm: [],
      cpuCold: [],
      cpuWarm: [],
      fixed: [],
    };
    let projects = 0;
    for (let r = 0; r < REPS; r++) {
      const oc = graphOnce(ours, true);
      const bc = graphOnce(bare, true);
      runs.oursCold.push(oc.ms);
      runs.bareCold.push(bc.ms);
      if (oc.pluginMs !== undefined) runs.pluginCold.push(oc.pluginMs);
      const ow = graphOnce(ours, false);
      const bw = graphOnce(bare, false);
      runs.oursWarm.push(ow.ms);
      runs.bareWarm.push(bw.ms);
      if (ow.pluginMs !== undefined) runs.pluginWarm.push(ow.pluginMs);
      runs.fixed.push(graphOnce(fixed, false).ms);
      runs.cpuCold.push(createNodesCpu(ours, 'cold'));
      runs.cpuWarm.push(createNodesCpu(ours, 'warm'));
      projects = oc.projects;
    }
    const row = (label, a, b) =>
      console.log(
        `${label.padEnd(6)} with plugin ${fmt(median(a))} (min ${fmt(Math.min(...a))}, max ${fmt(Math.max(...a))})  no plugin ${fmt(median(b))}  added ${fmt(median(a) - median(b))}  ratio ${(median(a) / median(b)).toFixed(2)}x`,
      );
    console.log(`projects inferred: ${projects}`);
    row('cold', runs.oursCold, runs.bareCold);
    row('warm', runs.oursWarm, runs.bareWarm);
    if (runs.pluginCold.length)
      console.log(
        `plugin createNodes (NX_PERF_LOGGING): cold median ${median(runs.pluginCold).toFixed(0)} ms, warm median ${median(runs.pluginWarm).toFixed(0)} ms`,
      );
    const cpuRow = (xs) => `${median(xs.map((x) => x.cpuMs)).toFixed(0)} ms CPU (${median(xs.map((x) => x.wallMs)).toFixed(0)} ms wall)`;
    console.log(`plugin createNodes in a process of its own: cold median ${cpuRow(runs.cpuCold)}, warm median ${cpuRow(runs.cpuWarm)}`);
    // Its createNodes has no NX_PERF_LOGGING line: Nx stops a worker without task hooks once the
    // graph is built, before the worker's performance observer prints. Its wall time is the figure.
    row('static', runs.fixed, runs.bareWarm);
    console.log('targets: createNodes cold <= 1 s, warm <= 100 ms (2-core machine)');
  } finally {
    if (!process.env.BENCH_KEEP) {
      for (const dir of [ours, bare, fixed, dirname(staticModules)]) rmSync(dir, { recursive: true, force: true });
    }
  }
}
