// Bench scenario "overhead" (issue 12, "a lighter plugin on every nx command"): what the plugin adds
// to an nx command, side by side with what it is measured against, in the same workspace files:
//   graph   `nx affected -t docker-build --graph=stdout` (the task graph printed, nothing run) with the plugin vs the same files without it;
//           target: at most +0.3 s at 50 services
//   run     `nx affected -t docker-build` with one service changed vs `docker buildx build` of that
//           service alone with the plugin's flags (the build itself); target: at most +1.3 s
// Every repetition changes the service again (a never-seen file content), then runs each command of
// the pair; the order rotates. Reported: medians, min–max, the median of the per-repetition
// differences (robust when others load the machine) and the load average around each part.
// Beside wall time, the CPU time (user + system) of each command and the processes it waited for,
// from GNU time when /usr/bin/time exists: on a machine others load, wall time mostly measures the
// queue. It is partial: Nx's plugin and task workers are not all waited for, and the engine's own
// build work is in dockerd; so it is printed per command and not used for the targets.
// BENCH_OVERHEAD_BASELINE=<dir of a built plugin package> (e.g. an older commit's, dist/ built) adds it
// as a third workspace, same files, alternating with the others: before and after, in one run.
// The Nx floor of the run: the same files and command with no plugin, each service a project
// (project.json) whose docker-build is Nx's no-op executor, so one task runs and nothing is built:
// Nx's own start-up, graph and task run, which the plugin cannot cut. Ours minus the floor minus
// the build alone is what the plugin adds.
// Nx's price for any plugin: the same two commands with a no-op plugin package (it matches the
// compose files and infers nothing) in nx.json, in the no-plugin and floor workspaces. Nx runs
// every plugin in a worker process of its own; what such a plugin adds is what no plugin code removes.
// And a static plugin that answers with our createNodes result, read from a file: what Nx itself
// spends on these projects and targets (affected matching, task graph), with no computation of ours.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { median } from './bench-stats.mjs';
import { generateMonorepo, svcName } from './bench-workspace.mjs';

const REPS = Number(process.env.BENCH_OVERHEAD_REPS ?? 5);
const BASELINE = process.env.BENCH_OVERHEAD_BASELINE;
const GNU_TIME = '/usr/bin/time';
const CPU_MARK = 'nxcb-bench-cpu';
const HAS_TIME = existsSync(GNU_TIME);
/** argv run under GNU time, which prints the CPU seconds last on stderr. */
const underTime = (argv) => (HAS_TIME ? [GNU_TIME, '-f', `${CPU_MARK} %U %S`, ...argv] : argv);
/** CPU ms of a run under GNU time (undefined without it). */
const cpuMs = (r) => {
  const m = new RegExp(`${CPU_MARK} ([\\d.]+) ([\\d.]+)`).exec(r.stderr ?? '');
  return m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined;
};
const GRAPH_TARGET_MS = 300;
const FLOOR = 'Nx floor: no-op task, no plugin';
const NOOP_GRAPH = 'a no-op plugin: nx affected --graph=stdout';
const NOOP_FLOOR = 'Nx floor with a no-op plugin';
const STATIC_GRAPH = 'a static plugin (our projects, fixed): nx affected --graph=stdout';
const RUN_TARGET_MS = 1300;

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const s = (ms) => `${ms >= 0 ? '+' : ''}${(ms / 1000).toFixed(2)} s`;

/** Per-repetition differences a[i] - b[i] (the two ran next to each other). */
const pairedDiffs = (a, b) => a.slice(0, Math.min(a.length, b.length)).map((x, i) => x - b[i]);

/** A node_modules of links to ws's, each entry of `replace` linked to its own folder instead; returns its folder. */
function linkedModules(ws, prefix, replace = {}) {
  const modules = realpathSync(join(ws, 'node_modules'));
  const dir = join(mkdtempSync(join(tmpdir(), prefix)), 'node_modules');
  mkdirSync(dir);
  for (const e of readdirSync(modules)) symlinkSync(replace[e] ?? join(modules, e), join(dir, e));
  return dir;
}

/** The same monorepo with the baseline plugin package in its node_modules instead of this one. */
async function baselineWorkspace(n, ws, initRepo) {
  const dir = linkedModules(ws, 'nxcb-bench-baseline-modules-', { 'nx-compose-buildx': resolve(BASELINE) });
  const root = generateMonorepo({ n, nodeModules: dir, label: `n${n}-baseline` });
  await initRepo(root);
  return { root, cleanup: [root, dirname(dir)] };
}

const NOOP_PLUGIN = 'nxcb-bench-noop-plugin';
const NOOP_PLUGIN_SOURCE = `// The least a project-inferring Nx plugin can be: it matches the compose files and infers nothing.
exports.createNodesV2 = ['**/compose.yaml', async (files) => files.map((file) => [file, {}])];
`;

export const STATIC_PLUGIN = 'nxcb-bench-static-plugin';
const STATIC_PLUGIN_SOURCE = `// Answers with a fixed createNodes result (ours, computed once): Nx's price for a plugin with these projects.
const { readFileSync } = require('node:fs');
exports.createNodesV2 = ['**/compose.yaml', async () => JSON.parse(readFileSync(require.resolve('./results.json'), 'utf8'))];
`;

/**
 * ws's node_modules plus the no-op plugin and the static plugin (answering with ours's result for ws's
 * `configFiles`, computed once here); returns its folder. bench:graph uses it too.
 */
export async function benchPluginModules(ws, configFiles = ['compose.yaml']) {
  const dir = linkedModules(ws, 'nxcb-bench-noop-modules-');
  const { createNodes } = createRequire(join(ws, 'package.json'))('nx-compose-buildx');
  const results = await createNodes[1](configFiles, undefined, { workspaceRoot: ws, nxJsonConfiguration: {} });
  for (const [name, source, extra] of [
    [NOOP_PLUGIN, NOOP_PLUGIN_SOURCE, {}],
    [STATIC_PLUGIN, STATIC_PLUGIN_SOURCE, { 'results.json': JSON.stringify(results) }],
  ]) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'package.json'), JSON.stringify({ name, version: '0.0.0', main: 'index.js' }));
    writeFileSync(join(dir, name, 'index.js'), source);
    for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, name, file), text);
  }
  return dir;
}

/** The same monorepo with no plugin, or with only `plugin` (a package in pluginModules) in nx.json. */
function withoutPlugin(n, nodeModules, label, pluginModules, plugin = NOOP_PLUGIN) {
  const root = generateMonorepo({ n, nodeModules: pluginModules ?? nodeModules, plugin: false, label });
  if (pluginModules) writeFileSync(join(root, 'nx.json'), JSON.stringify({ defaultBase: 'main', plugins: [plugin] }, null, 2));
  return root;
}

/** The floor workspace: the same files, no plugin (or only the no-op one), a no-op docker-build target on each service. */
async function floorWorkspace(n, ws, initRepo, noopModules) {
  const root = withoutPlugin(n, realpathSync(join(ws, 'node_modules')), `n${n}-floor${noopModules ? '-noop' : ''}`, noopModules);
  for (let i = 0; i < n; i++) {
    const project = { name: svcName(i), targets: { 'docker-build': { executor: 'nx:noop', cache: false } } };
    writeFileSync(join(root, 'services', svcName(i), 'project.json'), `${JSON.stringify(project, null, 2)}\n`);
  }
  await initRepo(root);
  return root;
}

/**
 * ctx (from scripts/bench.mjs): { n, ws, bare, changed, nx, must, runOurs, alternate, changeService,
 * limitArgv, scenarioTable, sec, initRepo } — ws has the plugin, bare the same files with no plugin.
 * Returns markdown lines.
 */
export async function runOverheadScenario(ctx) {
  const { n, ws, initRepo } = ctx;
  const base = BASELINE ? await baselineWorkspace(n, ws, initRepo) : undefined;
  const floor = await floorWorkspace(n, ws, initRepo);
  const noopModules = await benchPluginModules(ws);
  const noop = {
    graph: withoutPlugin(n, undefined, `n${n}-noop`, noopModules),
    staticGraph: withoutPlugin(n, undefined, `n${n}-static`, noopModules, STATIC_PLUGIN),
    floor: await floorWorkspace(n, ws, initRepo, noopModules),
  };
  await initRepo(noop.graph);
  await initRepo(noop.staticGraph);
  try {
    return await measure(ctx, base?.root, floor, noop);
  } finally {
    const dirs = [...(base?.cleanup ?? []), floor, noop.graph, noop.staticGraph, noop.floor, dirname(noopModules)];
    if (!process.env.BENCH_KEEP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** What a plugin that infers nothing adds (Nx's price for any plugin), and what ours adds beyond it; medians of paired differences. */
function noopLine(noopGraph, noPluginGraph, oursGraph, noopFloor, floor, oursRun, buildAlone) {
  const paired = (a, b) => s(median(pairedDiffs(a, b)));
  const beyond = s(median(pairedDiffs(pairedDiffs(oursRun, buildAlone), noopFloor)));
  return (
    `Nx's price for any plugin (a no-op plugin package in nx.json; paired medians): the graph ${paired(noopGraph, noPluginGraph)} ` +
    `against no plugin, the floor run ${paired(noopFloor, floor)} against the floor without it. Ours beyond the no-op plugin: ` +
    `the graph ${paired(oursGraph, noopGraph)}, the run minus the build minus the floor with the no-op plugin ${beyond}.`
  );
}

async function measure(ctx, baseWs, floorWs, noop) {
  const { n, ws, bare, changed, nx, must, runOurs, alternate, changeService, limitArgv, scenarioTable, sec } = ctx;
  const md = [];
  const affectedGraph = underTime(nx(['affected', '-t', 'docker-build', '--graph=stdout', '--base=HEAD~1', '--head=HEAD']));
  const affectedBuild = underTime(nx(['affected', '-t', 'docker-build', '--base=HEAD~1', '--head=HEAD']));
  const cpu = {};
  /** A tool whose runs also record their CPU time. */
  const tool = (label, run) => ({
    label,
    run: async () => {
      const r = await run();
      const ms = cpuMs(r);
      if (ms !== undefined) (cpu[label] ??= []).push(ms);
      return r;
    },
  });
  const bumpBoth = () => {
    changeService(ws, changed);
    changeService(bare, changed);
    changeService(noop.graph, changed);
    changeService(noop.staticGraph, changed);
    if (baseWs) changeService(baseWs, changed);
  };

  console.log(`  overhead. the plugin's cost on an nx command (${REPS} repetitions)`);
  // warm-up, not counted: Nx's first graph in each workspace, the changed service's image and cache
  bumpBoth();
  await must(affectedGraph, ws);
  await must(affectedGraph, bare);
  await must(affectedGraph, noop.graph);
  await must(affectedGraph, noop.staticGraph);
  await runOurs(nx(['run', `${changed}:docker-build`, '--skip-nx-cache']), ws);
  changeService(floorWs, changed);
  await must(affectedBuild, floorWs);
  changeService(noop.floor, changed);
  await must(affectedBuild, noop.floor);
  if (baseWs) {
    await must(affectedGraph, baseWs);
    await runOurs(nx(['run', `${changed}:docker-build`, '--skip-nx-cache']), baseWs);
  }

  const graphLoad = [load()];
  const graph = await alternate(
    [
      tool('ours: nx affected --graph=stdout', () => must(affectedGraph, ws)),
      tool('no plugin: nx affected --graph=stdout', () => must(affectedGraph, bare)),
      tool(NOOP_GRAPH, () => must(affectedGraph, noop.graph)),
      tool(STATIC_GRAPH, () => must(affectedGraph, noop.staticGraph)),
      ...(baseWs ? [tool('baseline: nx affected --graph=stdout', () => must(affectedGraph, baseWs))] : []),
    ],
    bumpBoth,
    REPS,
  );
  graphLoad.push(load());

  const invocations = [];
  const runLoad = [load()];
  const run = await alternate(
    [
      tool('ours: nx affected -t docker-build', async () => {
        const r = await runOurs(affectedBuild, ws);
        invocations.push(`${r.tasks} task(s)/${r.invocations.length} docker`);
        return r;
      }),
      tool('the build alone: buildx build 1 svc', () => must(underTime(limitArgv(changed, ['--load'])), ws)),
      tool(FLOOR, () => must(affectedBuild, floorWs)),
      tool(NOOP_FLOOR, () => must(affectedBuild, noop.floor)),
      ...(baseWs ? [tool('baseline: nx affected -t docker-build', () => runOurs(affectedBuild, baseWs))] : []),
    ],
    () => {
      changeService(ws, changed);
      changeService(floorWs, changed);
      changeService(noop.floor, changed);
      if (baseWs) changeService(baseWs, changed);
    },
    REPS,
  );
  runLoad.push(load());

  const [og, ng] = [graph['ours: nx affected --graph=stdout'], graph['no plugin: nx affected --graph=stdout']];
  const [or, br, fr] = [run['ours: nx affected -t docker-build'], run['the build alone: buildx build 1 svc'], run[FLOOR]];
  const verdict = (ms, target) => (ms <= target ? 'met' : 'missed');
  /** One summary row: what the plugin adds to the graph and to the run, as medians and paired; the run also beyond the Nx floor. */
  const row = (label, graphRuns, runRuns) => {
    const graphPaired = median(pairedDiffs(graphRuns, ng));
    const runPaired = median(pairedDiffs(runRuns, br));
    const beyondFloor = median(pairedDiffs(pairedDiffs(runRuns, br), fr));
    return `| ${n} | ${label} | ${s(median(graphRuns) - median(ng))}; ${s(graphPaired)} | ${verdict(graphPaired, GRAPH_TARGET_MS)} | ${s(median(runRuns) - median(br))}; ${s(runPaired)} (build alone ${sec(median(br))}) | ${verdict(runPaired, RUN_TARGET_MS)} | ${sec(median(fr))}; ${s(beyondFloor)} |`;
  };
  const cpuMed = (label) => (cpu[label]?.length ? median(cpu[label]) : undefined);
  const cpuLine = (labels) =>
    HAS_TIME
      ? `CPU time (user + system of the command and the processes it waited for; Nx's plugin and task workers are not all among them, so a partial figure; medians): ${labels
          .filter((l) => cpuMed(l) !== undefined)
          .map((l) => `${l} ${sec(cpuMed(l))}`)
          .join('; ')}.`
      : 'CPU time not measured (no /usr/bin/time).';
  md.push(
    ...scenarioTable(`Overhead a. Graph computation (${changed} changed, nothing run)`, graph, {
      ours: 'ours: nx affected --graph=stdout',
    }).lines,
    `Load average (1, 5, 15 min) before / after: ${graphLoad.join(' / ')}.`,
    '',
    cpuLine(Object.keys(graph)),
    '',
    ...scenarioTable(`Overhead b. One service changed (${changed}), run vs the build alone`, run, {
      ours: 'ours: nx affected -t docker-build',
      limit: 'the build alone: buildx build 1 svc',
    }).lines,
    `Ours per run: ${invocations.join(', ')}. Load average before / after: ${runLoad.join(' / ')}.`,
    '',
    cpuLine(Object.keys(run)),
    '',
    '| N | plugin | graph: plugin adds (medians; paired) | target ≤ +0.3 s | run: ours minus the build (medians; paired) | target ≤ +1.3 s | Nx floor (no-op task); ours minus the build minus the floor (paired) |',
    '|---|---|---|---|---|---|---|',
    row('this tree', og, or),
    ...(baseWs
      ? [row(`baseline (${BASELINE})`, graph['baseline: nx affected --graph=stdout'], run['baseline: nx affected -t docker-build'])]
      : []),
    '',
    noopLine(graph[NOOP_GRAPH], ng, og, run[NOOP_FLOOR], fr, or, br),
    '',
    `Nx's price for these ${n} projects (a plugin answering with our createNodes result read from a file, no computation; paired medians): ` +
      `the graph ${s(median(pairedDiffs(graph[STATIC_GRAPH], ng)))} against no plugin. Ours beyond it: ${s(median(pairedDiffs(og, graph[STATIC_GRAPH])))}.`,
    '',
  );
  return md;
}
