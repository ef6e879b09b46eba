// Scenario 5 of npm run bench (issue 13): "fresh runner, release". A release job on a fresh CI
// runner: `nx run-many -t docker-push` over all N services with one service changed since the
// previous release, starting with no Nx cache (`nx reset`) and a pruned builder. Side by side:
//   ours with registry reuse (the default), the same with the registry asked through the docker CLI
//   (NX_COMPOSE_BUILDX_REGISTRY_API=false), ours with NX_COMPOSE_BUILDX_REUSE=false,
//   `docker buildx bake --push` with the registry cache (compose cache_from/cache_to),
//   the limit: `docker buildx build --push` of the changed service alone (registry cache),
//   and the Nx floor: the same files with no plugin (Nx's own start-up).
// Each tool releases its own copy of the monorepo into its own registry namespace, so that "the
// previous release" of each tool is its own (the registry-via-CLI variant shares reuse's); after
// every run the N - 1 unchanged services' digests are compared with that tool's previous release. A benchmark: prints ratios, asserts nothing.
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { sec, scenarioTable, median } from './bench-stats.mjs';
import { IMAGE_PREFIX, PLATFORMS, failureLine, generateMonorepo, svcName } from './bench-workspace.mjs';
import { REGISTRY } from './stack.mjs';

const LABEL = {
  reuse: 'ours: run-many docker-push',
  reuseCli: 'ours, registry via docker CLI',
  noReuse: 'ours: NX_COMPOSE_BUILDX_REUSE=false',
  bake: 'docker buildx bake --push',
  alone: 'limit: buildx build --push 1 svc',
  floor: 'Nx floor: no plugin',
};

/** The tools that release every service (the limit pushes the changed one only). */
const DIGESTS_KEPT = new Set(['reuse', 'reuseCli', 'noReuse', 'bake']);
/** The workspace (and registry namespace) a tool releases: the registry-via-CLI variant shares reuse's. */
const wsOf = (key) => (key === 'reuseCli' ? 'reuse' : key);

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The digest the registry serves for `<REGISTRY>/<repo>:<tag>` (a HEAD request), or undefined. */
async function registryDigest(ref) {
  const rest = ref.slice(REGISTRY.length + 1);
  const at = rest.lastIndexOf(':');
  const res = await fetch(`http://${REGISTRY}/v2/${rest.slice(0, at)}/manifests/${rest.slice(at + 1)}`, {
    method: 'HEAD',
    headers: { Accept: MANIFEST_TYPES },
  });
  return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

const digestsOf = async (prefix, names) =>
  Object.fromEntries(await Promise.all(names.map(async (s) => [s, await registryDigest(`${prefix}/${s}:latest`)])));

/** How many docker invocations of each kind ours made (from the docker wrapper's log). */
function invocationKinds(lines) {
  const count = (re) => lines.filter((l) => re.test(l)).length;
  // A content-stable build whose layout the registry API cannot push is two buildx processes: the build, then a FROM-only republish (its
  // `nxcb-image=` context) that runs no step; count the builds, not the republishes.
  const builds = lines.filter((l) => /^buildx build /.test(l) && !l.includes('nxcb-image=')).length;
  return { builds, imagetools: count(/^buildx imagetools create /), all: lines.length };
}

const load1 = () => loadavg()[0];

/**
 * ctx (from scripts/bench.mjs): { n, changed, nodeModules, nx, must, runOurs, alternate, initRepo,
 * changeService, coldReset, bakeArgv, limitArgv, OURS_ENV, ... }. Returns markdown lines.
 */
export async function runReleaseScenario(ctx) {
  const { n, changed } = ctx;
  console.log(`  5. fresh runner, release: nx run-many -t docker-push, ${changed} changed, after nx reset and buildx prune`);
  const unchanged = Array.from({ length: n }, (_, i) => svcName(i)).filter((s) => s !== changed);
  const runId = Date.now().toString(36);
  const prefix = (tool) => `${IMAGE_PREFIX}-release-${runId}-${tool.toLowerCase()}`;
  const ws = {};
  for (const tool of ['reuse', 'noReuse', 'bake', 'alone'])
    ws[tool] = generateMonorepo({
      n,
      nodeModules: ctx.nodeModules,
      cache: true,
      plugin: tool === 'reuse' || tool === 'noReuse',
      label: `n${n}-release-${tool}`,
      imagePrefix: prefix(tool),
    });
  ws.floor = generateMonorepo({ n, nodeModules: ctx.nodeModules, plugin: false, label: `n${n}-release-floor` });
  const dirs = Object.values(ws);
  const noReuseEnv = { NX_COMPOSE_BUILDX_REUSE: 'false' };
  // The same reuse with every registry question asked of `docker buildx imagetools` (the in-process
  // registry API off): what the API saves, in the same run.
  const cliEnv = { NX_COMPOSE_BUILDX_REGISTRY_API: 'false' };
  const cacheRef = `${prefix('alone')}/${changed}:buildcache`;
  const aloneArgv = ctx.limitArgv(
    changed,
    ['--cache-from', `type=registry,ref=${cacheRef}`, '--cache-to', `type=registry,ref=${cacheRef},mode=max`, '--push'],
    prefix('alone'),
  );
  const pushAll = ctx.nx(['run-many', '-t', 'docker-push']);
  const md = [];
  try {
    for (const d of dirs) await ctx.initRepo(d);
    // The previous release, by each tool into its own namespace (not timed).
    console.log('    previous release: every service pushed by each tool (not timed)');
    await ctx.must(pushAll, ws.reuse, ctx.OURS_ENV);
    await ctx.must(pushAll, ws.noReuse, { ...ctx.OURS_ENV, ...noReuseEnv });
    // bake of every service can fail on a loaded engine (BuildKit "DeadlineExceeded"): then it is
    // left out and the table says why, instead of losing the other tools' figures.
    let bakeFailed;
    try {
      await ctx.must(ctx.bakeArgv(['--push']), ws.bake);
    } catch (e) {
      bakeFailed = failureLine(e);
      console.log(`    bake --push failed twice on the previous release; left out: ${bakeFailed}`);
    }
    await ctx.must(aloneArgv, ws.alone);

    const perRun = Object.fromEntries(Object.keys(LABEL).map((k) => [LABEL[k], []]));
    let before = {};
    /** A fresh runner for `tool`: a new commit changing one service, no Nx cache, no builder cache. */
    const freshRunner = async (tool) => {
      const key = wsOf(tool.key);
      ctx.changeService(ws[key], changed);
      ctx.coldReset();
      if (key === 'reuse' || key === 'noReuse') await ctx.must(ctx.nx(['reset']), ws[key]);
      rmSync(join(ws[key], 'dist'), { recursive: true, force: true });
      before = DIGESTS_KEPT.has(key) ? await digestsOf(prefix(key), unchanged) : {};
    };
    /** Times `run`, then counts the unchanged services whose digest is the previous release's. */
    const measured = (key, run) => ({
      key,
      label: LABEL[key],
      run: async () => {
        const load = load1();
        let r;
        try {
          r = await run();
        } catch (e) {
          if (key !== 'bake') throw e;
          const failed = failureLine(e);
          perRun[LABEL[key]].push({ load, ms: NaN, failed });
          console.log(`      bake --push failed twice: ${failed}`);
          return { ms: NaN };
        }
        const note = { load, ms: r.ms };
        if (DIGESTS_KEPT.has(key)) {
          const after = await digestsOf(prefix(wsOf(key)), unchanged);
          note.same = unchanged.filter((s) => before[s] && after[s] === before[s]).length;
          note.missing = unchanged.filter((s) => !after[s]).length;
        }
        if (r.invocations) note.docker = invocationKinds(r.invocations);
        perRun[LABEL[key]].push(note);
        console.log(`      ${JSON.stringify(note)}`); // kept in the output if the run is cut short
        return r;
      },
    });
    const tools = [
      measured('reuse', () => ctx.runOurs(pushAll, ws.reuse)),
      measured('reuseCli', () => ctx.runOurs(pushAll, ws.reuse, cliEnv)),
      measured('noReuse', () => ctx.runOurs(pushAll, ws.noReuse, noReuseEnv)),
      measured('bake', () => ctx.must(ctx.bakeArgv(['--push']), ws.bake)),
      measured('alone', () => ctx.must(aloneArgv, ws.alone)),
      measured('floor', () => ctx.must(pushAll, ws.floor)),
    ].filter((t) => !(t.key === 'bake' && bakeFailed));
    const runs = await ctx.alternate(tools, freshRunner);
    for (const label of Object.keys(runs)) runs[label] = runs[label].filter(Number.isFinite); // failed bake runs

    const med = (key) => median(runs[LABEL[key]]);
    const notes = [];
    for (const [label, list] of Object.entries(perRun)) {
      const parts = list.map((x) => {
        if (x.failed) return `failed twice (\`${x.failed}\`; load ${x.load.toFixed(1)})`;
        const bits = [`load ${x.load.toFixed(1)}`];
        if (x.same !== undefined)
          bits.push(`${x.same}/${unchanged.length} unchanged digests kept${x.missing ? `, ${x.missing} missing` : ''}`);
        if (x.docker) bits.push(`${x.docker.builds} buildx build, ${x.docker.imagetools} imagetools create, ${x.docker.all} docker calls`);
        return `${sec(x.ms)} (${bits.join('; ')})`;
      });
      if (parts.length) notes.push(`- ${label}: ${parts.join(' · ')}`);
    }
    if (bakeFailed) notes.push(`- ${LABEL.bake}: not run, its previous release failed twice (\`${bakeFailed}\`)`);
    const reuse = med('reuse');
    const floorPlusAlone = med('alone') + med('floor');
    const loads = Object.values(perRun)
      .flat()
      .map((x) => x.load);
    const targets = [
      `Targets (medians): with reuse ${(reuse / floorPlusAlone).toFixed(2)}× the changed service pushed alone plus Nx's start-up (${sec(med('alone'))} + ${sec(med('floor'))}; target ≤ 1.2×); bake --push / ours with reuse ${runs[LABEL.bake]?.length ? `${(med('bake') / reuse).toFixed(1)}×` : 'n/a (bake failed)'} (target ≥ 10×); without reuse / with reuse ${(med('noReuse') / reuse).toFixed(1)}×; registry via the docker CLI / via the registry API ${(med('reuseCli') / reuse).toFixed(1)}×.`,
      `Load average (1 min) at the start of each run: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (median ${median(loads).toFixed(1)}) on ${cpus().length} CPUs.`,
    ];
    md.push(
      ...scenarioTable(
        `5. Fresh runner, release (N = ${n}; ${changed} changed; platforms ${PLATFORMS}; \`nx reset\`, \`docker buildx prune -af\`, no local images; registry cache for every service)`,
        runs,
        { ours: LABEL.reuse, limit: LABEL.alone, notes: [...targets, 'Per run (in order):', notes.join('\n')] },
      ).lines,
    );
  } finally {
    if (!process.env.BENCH_KEEP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  return md;
}
