/**
 * The pure phases of docker-build / docker-push, in the order runBuild calls them:
 *   normalise  (options + run-time facts → BuildPlan: tags, labels, epoch, read-only cache)
 *   preflight  (BuildPlan + builder + host → the platform problem, if any)
 *   invocation (BuildPlan + builder → the exact argv, paths and run options)
 * Nothing here reads files, the environment or the clock: run-build.ts passes them in.
 */
import { join, basename, dirname, isAbsolute } from 'node:path';
import type { BuildOptions } from '../../../build-spec/types';
import { buildArgv, progressFor, republishArgv, REPUBLISH_DOCKERFILE, type BuildMode } from '../../../buildx/argv';
import { missingPlatforms, missingPlatformsMessage, parseBinfmtMisc, supportedPlatforms } from '../../../buildx/builder-support';
import { reproducibleTime, withOciLabels, type InputCommit } from '../../../buildx/labels';
import { generateTags, type GitFacts } from '../../../buildx/tags';
import type { RunCommandOptions } from '../../../run/exec';
import type { EnsuredBuilder } from './builder';
import type { NormalizedBuild } from './options';

type Env = Record<string, string | undefined>;

/** Everything the run of one build needs, decided before anything runs. */
export interface BuildPlan extends Omit<NormalizedBuild, 'generatedTags' | 'ociLabels'> {
  mode: BuildMode;
  /** `[service]`, the prefix of every line this build logs. */
  logTag: string;
}

/** What normalise reads from outside the options: git, the environment, the clock. */
export interface RunTimeInputs {
  facts: GitFacts | undefined;
  /** The last commit that changed this task's inputs (source-epoch.ts); absent: HEAD stands in. */
  inputCommit?: InputCommit;
  env: Env;
  now: Date;
  /** The executor option `cacheReadOnly`; the environment decides when it is absent. */
  cacheReadOnly?: boolean;
}

export const CACHE_READONLY_ENV = 'NX_COMPOSE_BUILDX_CACHE_READONLY';

/** Pull-request builds read the shared cache but must not write to it. */
export function isCacheReadOnly(option: boolean | undefined, env: Env): boolean {
  return option ?? /^(1|true|yes)$/i.test(env[CACHE_READONLY_ENV] ?? '');
}

/** SOURCE_DATE_EPOCH (seconds) for the build: the variable, else the inputs' last commit, else HEAD's commit time. */
export function sourceDateEpochOf(facts: GitFacts | undefined, env: Env, inputCommit?: InputCommit): string | undefined {
  const time = reproducibleTime(facts, env.SOURCE_DATE_EPOCH, inputCommit);
  return time ? String(Math.floor(time.getTime() / 1000)) : undefined;
}

export function noTagsError(service: string): string {
  return `[${service}] docker-push needs at least one tag (compose image: or build.tags).`;
}

/** Phase 1, normalise: the run-time values (never in target options, so never in Nx cache keys). */
export function planBuild(mode: BuildMode, o: NormalizedBuild, inputs: RunTimeInputs): { plan: BuildPlan } | { error: string } {
  const { facts, env, now, inputCommit } = inputs;
  const generated = facts && o.generatedTags.length ? generateTags(o.generatedTags, facts, o.build.tags) : [];
  const epoch = sourceDateEpochOf(facts, env, inputCommit);
  const build: BuildOptions = {
    ...o.build,
    // BuildKit stamps the image config (and, with rewrite-timestamp, the layers' file times)
    // with this time instead of the clock, so a rebuild of unchanged inputs at any later
    // commit, on a fresh runner with no cache, gives the same digest. An explicit build arg of
    // the same name wins.
    args: epoch && !('SOURCE_DATE_EPOCH' in o.build.args) ? { ...o.build.args, SOURCE_DATE_EPOCH: epoch } : o.build.args,
    tags: [...o.build.tags, ...generated],
    labels: withOciLabels(o.build.labels, facts, now, o.ociLabels, env.SOURCE_DATE_EPOCH, inputCommit),
    cacheTo: isCacheReadOnly(inputs.cacheReadOnly, env) ? [] : o.build.cacheTo,
  };
  if (mode === 'push' && build.tags.length === 0) return { error: noTagsError(o.service) };
  const { generatedTags: _g, ociLabels: _l, ...rest } = o;
  return { plan: { ...rest, build, mode, logTag: `[${o.service}]` } };
}

/** The line that opens a build's output. */
export function headerLine(plan: BuildPlan): string {
  const { build } = plan;
  return (
    `${plan.logTag} docker-${plan.mode}: ${build.platforms.join(', ') || 'builder default platform'}` +
    ` → ${build.tags.join(', ') || '(untagged)'}${plan.dryRun ? ' (dry run)' : ''}`
  );
}

/** Phase 2, preflight: the reason the builder (with QEMU) cannot build every platform, if it cannot. */
export function platformProblem(
  plan: BuildPlan,
  builder: EnsuredBuilder,
  binfmt: () => Record<string, string>,
  hostArch: string,
): string | undefined {
  const platforms = plan.build.platforms;
  if (plan.dryRun || !plan.checkPlatforms || !platforms.length) return undefined;
  if (!builder.info?.platforms.length) return undefined; // the builder says nothing: let buildx decide
  const supported = supportedPlatforms(builder.info, parseBinfmtMisc(binfmt()));
  const missing = missingPlatforms(platforms, supported, hostArch);
  return missing.length ? missingPlatformsMessage(plan.service, missing, builder.name ?? builder.info.name) : undefined;
}

export interface BuildInvocation {
  argv: string[];
  runOptions: RunCommandOptions;
  /** Where buildx writes its own metadata: as in argv, and resolved against the workspace. */
  buildxMetadataFile: string;
  buildxMetadataPath: string;
  /** Our metadata JSON, resolved against the workspace. */
  metadataPath: string;
  /** The image goes into the local image store (`--load`). */
  loaded: boolean;
  /**
   * The image pushed or loaded under the tags from `source` (`oci-layout://…@digest` or
   * `docker-image://…@digest`) with a FROM of it and nothing else; its Dockerfile is
   * `republishStdin`. buildx/argv.ts republishArgv says why.
   */
  republish: (source: string, sourceDateEpoch?: string) => string[];
  republishStdin: string;
  /**
   * What `republish` pushes under, when the layout may instead be pushed there as it is through the
   * registry API: a push by tag (not by digest, not a load).
   */
  pushTags?: string[];
  /**
   * The layout pushed through the registry API is also loaded into the engine's image store, under
   * these tags: the `docker` driver's exporter stores what it pushes there, and a later build's
   * `FROM` of that tag on this engine resolves against that store, so without the load a dependent
   * built after it would get the image the store held before. The pushed tags, and the service's
   * own tags that are published from one of them afterwards (`host.ownTags`).
   */
  loadPushedAs?: string[];
  /** A content-stable build (rewriteTimestamp): `argv` writes an OCI layout here, which docker-build loads as it is and `republish` pushes. */
  stable?: { layoutDir: string; layoutPath: string };
}

const resolveIn = (root: string, file: string) => (isAbsolute(file) ? file : join(root, file));

/**
 * buildx's metadata file for one run: next to ours, named by `runId` so that two runs in one
 * workspace (two terminals, two CI jobs on one runner) never read each other's.
 */
export function buildxMetadataFileFor(metadataFile: string, runId: string): string {
  return join(dirname(metadataFile), `.buildx-${runId}-${basename(metadataFile)}`);
}

/** The OCI layout folder of one content-stable build, next to the metadata and named by `runId` too. */
export function ociLayoutDirFor(metadataFile: string, runId: string): string {
  return join(dirname(metadataFile), `.oci-${runId}-${basename(metadataFile, '.json')}`);
}

/**
 * Whether the build clamps layer file times to SOURCE_DATE_EPOCH (rewrite-timestamp), so an image
 * rebuilt with no cache keeps its digest. Not without an epoch, not when the result is neither
 * pushed nor loaded, and not with provenance or an SBOM (they would describe the republish step).
 */
export function isContentStable(plan: BuildPlan, willLoad: boolean): boolean {
  return (
    plan.rewriteTimestamp &&
    plan.build.args.SOURCE_DATE_EPOCH !== undefined &&
    (plan.mode === 'push' || willLoad) &&
    plan.provenance === false &&
    plan.sbom === false
  );
}

/** Phase 3's input: the exact command and how to run it. */
export function buildInvocation(
  plan: BuildPlan,
  builder: EnsuredBuilder,
  /** ownTags: the service's own tags, when the plan's build pushes fewer of them (a push published from its key tag or first tag). */
  host: { root: string; isTTY: boolean; env: Env; runId: string; pushByDigest?: string; ownTags?: readonly string[] },
): BuildInvocation {
  // docker driver (+ containerd image store) loads multi-platform images; other drivers cannot.
  const driver = builder.info?.driver;
  const loadMultiPlatform = plan.loadMultiPlatform ?? (driver === undefined || driver === 'docker');
  const buildxMetadataFile = buildxMetadataFileFor(plan.metadataFile, host.runId);
  const progress = plan.progress ?? progressFor(host.isTTY, host.env);
  const settings = {
    ...(builder.name ? { builder: builder.name } : {}),
    progress,
    loadMultiPlatform,
    ...(host.pushByDigest ? { pushByDigest: host.pushByDigest } : {}),
  };
  const willLoad = plan.mode === 'build' && (plan.build.platforms.length <= 1 || loadMultiPlatform);
  const layoutDir = isContentStable(plan, willLoad) ? ociLayoutDirFor(plan.metadataFile, host.runId) : undefined;
  const pushTags = plan.mode === 'push' && !host.pushByDigest ? [...plan.build.tags] : undefined;
  // docker driver (or none known): what it pushes, its exporter also stores in the engine's image store.
  const loadPushed = pushTags !== undefined && (driver === undefined || driver === 'docker');
  const loadPushedAs = loadPushed ? [...new Set([...pushTags, ...(host.ownTags ?? [])])] : undefined;
  // A layout to load keeps the tags (its index names them, so `docker load` tags the image); one only to push needs none.
  const argv = buildArgv(layoutDir && plan.mode === 'push' && !loadPushed ? { ...plan.build, tags: [] } : plan.build, plan.mode, {
    ...settings,
    serviceImages: plan.serviceImages,
    provenance: plan.provenance,
    sbom: plan.sbom,
    ...(layoutDir ? { ociLayout: layoutDir } : { metadataFile: buildxMetadataFile }),
  });
  const republish = (source: string, sourceDateEpoch?: string) =>
    republishArgv(
      { source, platforms: plan.build.platforms, tags: plan.build.tags, ...(sourceDateEpoch ? { sourceDateEpoch } : {}) },
      plan.mode,
      dirname(plan.metadataFile),
      { ...settings, metadataFile: buildxMetadataFile },
    );
  return {
    argv,
    runOptions: {
      cwd: host.root,
      ...(plan.build.dockerfileInline !== undefined ? { stdin: plan.build.dockerfileInline } : {}),
      stream: true,
      ...(progress === 'plain' ? { prefix: `${plan.logTag} ` } : {}),
    },
    buildxMetadataFile,
    buildxMetadataPath: resolveIn(host.root, buildxMetadataFile),
    metadataPath: resolveIn(host.root, plan.metadataFile),
    loaded: willLoad,
    republish,
    republishStdin: REPUBLISH_DOCKERFILE,
    ...(pushTags ? { pushTags } : {}),
    ...(loadPushedAs ? { loadPushedAs } : {}),
    ...(layoutDir ? { stable: { layoutDir, layoutPath: resolveIn(host.root, layoutDir) } } : {}),
  };
}
