// Bench scenario "overhead" (issue 12, "a lighter plugin on every nx command"): what the plugin adds
// to an nx command, side by side with what it is measured against, in the same workspace files:
//   graph   `nx affected -t docker-build --graph=stdout` (the task graph printed, nothing run) with the plugin vs the same files without it;
//           target: at most +0.3 s at 50 services
//   run     `nx affected -t docker-build` with one service changed vs `docker buildx build` of that
//           service alone with the plugin's flags (the build itself); target: at most +1.3 s
// Every repetition changes the service again (a never-seen file content), then runs each command of
// the pair; the order rotates. Reported: medians, min–max, the median of the per-repetition
// differences (robust when others load the machine) and the load average around each part.
import { loadavg } from 'node:os';
import { median } from './bench-stats.mjs';

const REPS = Number(process.env.BENCH_OVERHEAD_REPS ?? 5);
const GRAPH_TARGET_MS = 300;
const RUN_TARGET_MS = 1300;

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const s = (ms) => `${ms >= 0 ? '+' : ''}${(ms / 1000).toFixed(2)} s`;

/** Per-repetition differences a[i] - b[i] (the two ran next to each other). */
const pairedDiffs = (a, b) => a.slice(0, Math.min(a.length, b.length)).map((x, i) => x - b[i]);

/**
 * ctx (from scripts/bench.mjs): { n, ws, bare, changed, nx, must, runOurs, alternate, changeService,
 * limitArgv, scenarioTable, sec } — ws has the plugin, bare the same files with no plugin.
 * Returns markdown lines.
 */
export async function runOverheadScenario(ctx) {
  const { n, ws, bare, changed, nx, must, runOurs, alternate, changeService, limitArgv, scenarioTable, sec } = ctx;
  const md = [];
  const affectedGraph = nx(['affected', '-t', 'docker-build', '--graph=stdout', '--base=HEAD~1', '--head=HEAD']);
  const affectedBuild = nx(['affected', '-t', 'docker-build', '--base=HEAD~1', '--head=HEAD']);
  const bumpBoth = () => {
    changeService(ws, changed);
    changeService(bare, changed);
  };

  console.log(`  overhead. the plugin's cost on an nx command (${REPS} repetitions)`);
  // warm-up, not counted: Nx's first graph in each workspace, the changed service's image and cache
  bumpBoth();
  await must(affectedGraph, ws);
  await must(affectedGraph, bare);
  await runOurs(nx(['run', `${changed}:docker-build`, '--skip-nx-cache']), ws);

  const graphLoad = [load()];
  const graph = await alternate(
    [
      { label: 'ours: nx affected --graph=stdout', run: () => must(affectedGraph, ws) },
      { label: 'no plugin: nx affected --graph=stdout', run: () => must(affectedGraph, bare) },
    ],
    bumpBoth,
    REPS,
  );
  graphLoad.push(load());

  const invocations = [];
  const runLoad = [load()];
  const run = await alternate(
    [
      {
        label: 'ours: nx affected -t docker-build',
        run: async () => {
          const r = await runOurs(affectedBuild, ws);
          invocations.push(`${r.tasks} task(s)/${r.invocations.length} docker`);
          return r;
        },
      },
      { label: 'the build alone: buildx build 1 svc', run: () => must(limitArgv(changed, ['--load']), ws) },
    ],
    () => changeService(ws, changed),
    REPS,
  );
  runLoad.push(load());

  const [og, ng] = [graph['ours: nx affected --graph=stdout'], graph['no plugin: nx affected --graph=stdout']];
  const [or, br] = [run['ours: nx affected -t docker-build'], run['the build alone: buildx build 1 svc']];
  const graphOver = median(og) - median(ng);
  const runOver = median(or) - median(br);
  const graphPaired = median(pairedDiffs(og, ng));
  const runPaired = median(pairedDiffs(or, br));
  const verdict = (ms, target) => (ms <= target ? 'met' : 'missed');

  md.push(
    ...scenarioTable(`Overhead a. Graph computation (${changed} changed, nothing run)`, graph, {
      ours: 'ours: nx affected --graph=stdout',
    }).lines,
    `Load average (1, 5, 15 min) before / after: ${graphLoad.join(' / ')}.`,
    '',
    ...scenarioTable(`Overhead b. One service changed (${changed}), run vs the build alone`, run, {
      ours: 'ours: nx affected -t docker-build',
      limit: 'the build alone: buildx build 1 svc',
    }).lines,
    `Ours per run: ${invocations.join(', ')}. Load average before / after: ${runLoad.join(' / ')}.`,
    '',
    '| N | graph: plugin adds (medians; paired) | target ≤ +0.3 s | run: ours minus the build (medians; paired) | target ≤ +1.3 s |',
    '|---|---|---|---|---|',
    `| ${n} | ${s(graphOver)}; ${s(graphPaired)} | ${verdict(graphPaired, GRAPH_TARGET_MS)} | ${s(runOver)}; ${s(runPaired)} (build alone ${sec(median(br))}) | ${verdict(runPaired, RUN_TARGET_MS)} |`,
    '',
  );
  return md;
}
