/**
 * docker-build and docker-push share one flow, in four named phases (as Nx's docker build executor reads):
 *   normalise   options + git + environment → a BuildPlan (build-plan.ts, pure)
 *   preflight   the builder exists and can run every platform
 *   reuse       docker-push only: the image with this content key, if the registry has it (registry-reuse.ts)
 *   run         `docker buildx build`, again on a transient registry error
 *   record      per-platform digests, push confirmation, the metadata JSON (build-record.ts)
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { maskSecretArgs } from '../../../build-spec/secret-args';
import type { BuildMode } from '../../../buildx/argv';
import { isTransientRegistryError } from '../../../buildx/manifest';
import type { GitFacts } from '../../../buildx/tags';
import { prefixedLog } from '../../../run/log';
import { commandTimeouts, displayCommand, type CommandTimeouts, type RunCommandOptions, type RunResult } from '../../../run/exec';
import { builderNamed, ensureBuilder, type EnsuredBuilder } from './builder';
import {
  buildInvocation,
  headerLine,
  isCacheReadOnly,
  noTagsError,
  planBuild,
  platformProblem,
  type BuildInvocation,
  type BuildPlan,
} from './build-plan';
import { writeProblem } from '../../containment';
import {
  confirmPushed,
  describeMetadata,
  initialMetadata,
  readBuildxMetadata,
  recordLocalDigests,
  writeMetadata,
  type ImageMetadata,
} from './build-record';
import { inBuildSlot, withTimeouts, type ExecutorDeps } from './deps';
import { normalizeBuildOptions, type BuildExecutorOptions, type NormalizedBuild } from './options';
import { lastInputCommit, taskHistoryQuery } from './source-epoch';
import type { CommitStamp } from '../../../run/git';
import {
  BASES_LABEL,
  CONTENT_KEY_LABEL,
  KEY_IMAGE_FORMAT,
  basesLabel,
  findReusable,
  isReuseEnabled,
  keyTag,
  retag,
  retagArgv,
  type KeyImage,
} from './registry-reuse';
import { imageLoadArgv, imagetoolsInspectArgv } from '../../../buildx/argv';
import { readOciLayout, type LocalDigests } from '../../../run/image-save';
import { pushOciLayout } from '../../../run/layout-push';
import { RegistryFallback, type RegistryClient } from '../../../run/registry-http';
import { legPlatforms, platformRestriction } from '../../native-leg';
import { repositoryOf } from '../../../buildx/image-ref';

export interface BuildResult {
  success: boolean;
  error?: string;
  metadata?: ImageMetadata;
}

/** Pushes tried in all when the registry answers a transient server error. */
export const PUSH_ATTEMPTS = 3;

/** Git facts for generated tags, OCI labels and the reproducible build time; none outside a git checkout. */
async function runTimeFacts(root: string, deps: ExecutorDeps): Promise<GitFacts | undefined> {
  try {
    return await deps.gitFacts(root);
  } catch {
    return undefined;
  }
}

/**
 * The last commit that changed this task's inputs (source-epoch.ts), asked while git facts are
 * read. None without a project graph, outside git, or with SOURCE_DATE_EPOCH set (it wins anyway).
 */
export async function inputCommitOf(context: ExecutorContext, root: string, deps: ExecutorDeps): Promise<CommitStamp | undefined> {
  if (deps.env.SOURCE_DATE_EPOCH) return undefined;
  const query = taskHistoryQuery(context);
  if (!query) return undefined;
  try {
    return await lastInputCommit(query, root, deps.run, deps.fileHistories);
  } catch {
    return undefined;
  }
}

/** Whether a failed run is worth another attempt: only a push the registry refused with a 5xx. */
export function shouldRetry(mode: BuildMode, r: RunResult, attempt: number): boolean {
  return mode === 'push' && r.exitCode !== 0 && attempt < PUSH_ATTEMPTS && isTransientRegistryError(`${r.stdout}\n${r.stderr}`);
}

/** Phase 3: run the build; the build itself is cached after the first attempt, so another only repeats the push. */
export async function runWithRetry(
  mode: BuildMode,
  argv: string[],
  runOptions: RunCommandOptions,
  deps: ExecutorDeps,
  logTag: string,
): Promise<RunResult> {
  let r = await deps.run(argv, runOptions);
  for (let attempt = 1; shouldRetry(mode, r, attempt); attempt++) {
    deps.log(`${logTag} the registry answered a server error; pushing again (attempt ${attempt + 1} of ${PUSH_ATTEMPTS})`);
    await deps.sleep(1000 * attempt);
    r = await deps.run(argv, runOptions);
  }
  return r;
}

const buildFailed = (plan: BuildPlan, r: RunResult): BuildResult => ({
  success: false,
  error: `${plan.logTag} docker buildx build failed (exit ${r.exitCode})${r.failure ? `: ${r.failure}` : ''}`,
});

/** What phase 3 ends with: the failure, or (docker-build, content-stable) the image loaded as its layout holds it. */
/** `layout`: the image went from its OCI layout as it is (loaded, or pushed through the registry API), so buildx wrote no metadata. */
export type BuildStepsOutcome = { failed: BuildResult } | { layout?: LocalDigests };

/**
 * Phase 3: the build, and for a content-stable build what follows its OCI layout: docker-build
 * loads the layout as it is (`docker load`: the layout already has the republished image's digests,
 * see ociLayoutOutput), docker-push (or a load that failed) republishes it, retried like a push.
 * In a batch it holds one of the build slots throughout.
 */
export function runBuildSteps(
  plan: BuildPlan,
  inv: BuildInvocation,
  deps: ExecutorDeps,
  timeouts: CommandTimeouts,
): Promise<BuildStepsOutcome> {
  return inBuildSlot(deps, () => buildSteps(plan, inv, deps, timeouts));
}

async function buildSteps(
  plan: BuildPlan,
  inv: BuildInvocation,
  deps: ExecutorDeps,
  timeouts: CommandTimeouts,
): Promise<BuildStepsOutcome> {
  const long = { ...inv.runOptions, timeoutMs: timeouts.long };
  deps.log(`${plan.logTag} ${displayCommand(maskSecretArgs(inv.argv))}`); // secret-like build args masked
  if (!inv.stable) {
    const r = await runWithRetry(plan.mode, inv.argv, long, deps, plan.logTag);
    if (r.exitCode === 0) return {};
    rmSync(inv.buildxMetadataPath, { force: true });
    return { failed: buildFailed(plan, r) };
  }
  const { layoutPath } = inv.stable;
  const epoch = plan.build.args.SOURCE_DATE_EPOCH;
  try {
    rmSync(layoutPath, { recursive: true, force: true });
    const built = await deps.run(inv.argv, long);
    if (built.exitCode !== 0) return { failed: buildFailed(plan, built) };
    const image = readOciLayout(layoutPath);
    if (!image?.manifestDigest)
      return { failed: { success: false, error: `${plan.logTag} the build wrote no readable OCI layout to ${inv.stable.layoutDir}` } };
    if (plan.mode === 'build') {
      deps.log(`${plan.logTag} ${displayCommand(imageLoadArgv())} < ${inv.stable.layoutDir} (as a tar)`);
      const notLoaded = await deps.loadOciLayout(layoutPath, plan.build.tags, long.cwd, timeouts.long);
      if (!notLoaded) return { layout: image };
      deps.log(`${plan.logTag} ${notLoaded.split('\n')[0]}; loading it with buildx instead`);
    }
    if (plan.mode === 'push' && inv.pushTags && deps.registry) {
      const [notPushed, notLoaded] = await Promise.all([
        pushLayout(plan, inv.pushTags, layoutPath, deps.registry.withTimeout(timeouts.long), deps),
        inv.loadPushedAs ? loadPushedLayout(plan, inv.stable, inv.loadPushedAs, long.cwd, deps, timeouts.long) : undefined,
      ]);
      if (!notPushed && !notLoaded) return { layout: image };
      deps.log(`${plan.logTag} ${notPushed ?? notLoaded}; pushing it with buildx instead`);
    }
    const argv = inv.republish(`oci-layout://${layoutPath}@${image.manifestDigest}`, epoch);
    deps.log(`${plan.logTag} ${displayCommand(argv)}`);
    const r = await runWithRetry(plan.mode, argv, { ...long, stdin: inv.republishStdin }, deps, plan.logTag);
    if (r.exitCode === 0) return {};
    rmSync(inv.buildxMetadataPath, { force: true });
    return { failed: buildFailed(plan, r) };
  } finally {
    rmSync(layoutPath, { recursive: true, force: true });
  }
}

/**
 * docker-push of a content-stable build: the layout pushed as it is through the registry API
 * (run/layout-push.ts), so no second buildx build republishes it. Returns why not, when the API
 * could not do it the docker CLI's way (the caller republishes then).
 */
async function pushLayout(
  plan: BuildPlan,
  tags: readonly string[],
  layoutPath: string,
  registry: RegistryClient,
  deps: ExecutorDeps,
): Promise<string | undefined> {
  deps.log(`${plan.logTag} pushing the built OCI layout under ${tags.join(', ')} through the registry API`);
  try {
    const pushed = await pushOciLayout(registry, layoutPath, tags);
    deps.log(
      `${plan.logTag} pushed ${pushed.digest.slice(0, 19)}: ${pushed.uploaded} of ${pushed.blobs} blobs uploaded, the rest were there`,
    );
    return undefined;
  } catch (e) {
    if (e instanceof RegistryFallback) return `the registry API could not push the layout (${e.message})`;
    throw e;
  }
}

/**
 * The pushed layout, loaded into the engine's image store under `tags`, as the `docker` driver's
 * exporter would have stored it (BuildInvocation.loadPushedAs). Returns why not, if it failed.
 */
async function loadPushedLayout(
  plan: BuildPlan,
  stable: { layoutDir: string; layoutPath: string },
  tags: readonly string[],
  cwd: string,
  deps: ExecutorDeps,
  timeoutMs: number,
): Promise<string | undefined> {
  deps.log(`${plan.logTag} ${displayCommand(imageLoadArgv())} < ${stable.layoutDir} (as a tar, for this engine's image store)`);
  const notLoaded = await deps.loadOciLayout(stable.layoutPath, tags, cwd, timeoutMs);
  return notLoaded?.split('\n')[0];
}

/** What a dry run prints instead of running: the build, and for a push the registry checks. */
export function dryRunLines(plan: BuildPlan, inv: BuildInvocation, registryApi: boolean): string[] {
  const lines = [
    `[dry-run] ${displayCommand(maskSecretArgs(inv.argv))}${plan.build.dockerfileInline !== undefined ? '  (inline Dockerfile on stdin)' : ''}`,
  ];
  if (inv.stable && plan.mode === 'build') lines.push(`[dry-run] ${displayCommand(imageLoadArgv())} < ${inv.stable.layoutDir} (as a tar)`);
  else if (inv.stable && inv.pushTags && registryApi) {
    lines.push(`[dry-run] push ${inv.stable.layoutDir} through the registry API under ${inv.pushTags.join(', ')}`);
    if (inv.loadPushedAs)
      lines.push(`[dry-run] ${displayCommand(imageLoadArgv())} < ${inv.stable.layoutDir} (as a tar, for this engine's image store)`);
  } else if (inv.stable) {
    const argv = inv.republish(`oci-layout://${inv.stable.layoutPath}@<digest of the layout>`, plan.build.args.SOURCE_DATE_EPOCH);
    lines.push(`[dry-run] ${displayCommand(argv)}  (${inv.republishStdin.trim()} on stdin)`);
  }
  if (plan.mode === 'push' && plan.manifestList && plan.build.platforms.length <= 1) {
    const first = plan.build.tags[0] ?? '<tag>';
    lines.push(`[dry-run] ${displayCommand(retagArgv(plan.build.tags, first, '<digest buildx reports>'))}  (a one-entry manifest list)`);
  }
  if (plan.mode === 'push') for (const t of plan.build.tags) lines.push(`[dry-run] docker buildx imagetools inspect --raw ${t}`);
  return lines;
}

/** Phase 4: what buildx reported, the digests, the confirmation of a push, the metadata JSON. */
async function record(
  plan: BuildPlan,
  inv: BuildInvocation,
  builder: EnsuredBuilder,
  root: string,
  deps: ExecutorDeps,
  timeouts: CommandTimeouts,
  reused = false,
  /** A content-stable build's layout, loaded or pushed as it is: its digests, instead of buildx's report and `docker save`. */
  layout?: LocalDigests,
): Promise<BuildResult> {
  const bx = layout
    ? { digest: layout.manifestDigest }
    : readBuildxMetadata(inv.buildxMetadataPath, (m) => deps.log(`${plan.logTag} warning: ${m}`));
  const metadata = initialMetadata(plan.service, plan.build.tags, plan.build.platforms, bx, inv.loaded);
  if (reused) metadata.reused = true;
  if (plan.mode === 'push') {
    const error = await confirmPushed(plan.service, plan.build.tags, plan.build.platforms, metadata, root, deps, builder.name);
    if (error) return { success: false, error, metadata };
    metadata.pushed = true;
  } else {
    const from = layout ? { ...deps, localImageDigests: async () => layout } : deps;
    await recordLocalDigests(plan.build.platforms, bx, metadata, root, from, plan.logTag, timeouts.long);
  }
  writeMetadata(root, plan.metadataFile, metadata);
  deps.log(
    `${plan.logTag} ${reused ? 'reused' : plan.mode === 'push' ? 'pushed' : 'built'}: ${describeMetadata(metadata)} → ${plan.metadataFile}`,
  );
  return { success: true, metadata };
}

/** The registry-cache side of one push: the key, where it lives, and whether this run may write it. */
export interface ReuseKey {
  key: string;
  ref: string;
  write: boolean;
  /** The digests of the images it builds on, recorded in BASES_LABEL. */
  bases: Record<string, string>;
}

export async function reuseKeyFor(
  mode: BuildMode,
  raw: BuildExecutorOptions,
  o: NormalizedBuild,
  plan: BuildPlan,
  root: string,
  deps: ExecutorDeps,
): Promise<ReuseKey | undefined> {
  if (plan.dryRun || !isReuseEnabled(raw.reuse, deps.env, mode === 'push') || !plan.build.tags[0]) return undefined;
  // Loaded here, not at the top: it brings the graph stage (Dockerfile parser, .dockerignore rules),
  // which only a build or push with the registry cache needs; every other task would pay for loading it.
  const { computeContentKey } = await import('./content-key.js');
  const computed = await computeContentKey(o.build, o.serviceImages, root, deps);
  if ('none' in computed) {
    deps.log(`${plan.logTag} registry cache: off for this ${mode} (${computed.none})`);
    return undefined;
  }
  // docker-build pushes nothing, so it never writes a key: it only reads one.
  const write = mode === 'push' && !isCacheReadOnly(raw.cacheReadOnly, deps.env);
  return { key: computed.key, ref: keyTag(plan.build.tags[0], computed.key), write, bases: computed.bases };
}

/**
 * A single-platform image is published from its key tag, as a hit is: buildx pushes a plain
 * manifest, `imagetools create` (buildx 0.13) always writes an index, so both paths serve the
 * same one-entry index and an image keeps its digest whether it was built or reused.
 */
function publishesFromKey(plan: BuildPlan, reuse: ReuseKey | undefined): boolean {
  return !!reuse && reuse.write && plan.build.platforms.length <= 1;
}

/**
 * `manifestList` on a single-platform push that is not published from a key tag (that is a list
 * already): buildx pushes one platform as a plain manifest, so the build pushes under the first tag
 * only and listUnderTags then lists it under every tag, as `imagetools create` does.
 */
function listsFromFirstTag(plan: BuildPlan, reuse: ReuseKey | undefined): boolean {
  return plan.mode === 'push' && plan.manifestList && plan.build.platforms.length <= 1 && !publishesFromKey(plan, reuse);
}

/**
 * The build a push runs: on a miss the key in every platform's config and (unless read-only) its
 * tag, built on the images the key names (`--pull`): the key holds their digests as the registry
 * serves them, and without `--pull` the `docker` driver builds a `FROM` on whatever image its
 * engine's store holds under that tag, an older one included.
 */
function withKey(plan: BuildPlan, reuse: ReuseKey | undefined): BuildPlan {
  const own = listsFromFirstTag(plan, reuse) ? plan.build.tags.slice(0, 1) : plan.build.tags;
  if (!reuse) return own === plan.build.tags ? plan : { ...plan, build: { ...plan.build, tags: own } };
  const bases = basesLabel(reuse.bases);
  const labels = { ...plan.build.labels, [CONTENT_KEY_LABEL]: reuse.key, ...(bases ? { [BASES_LABEL]: bases } : {}) };
  const tags = publishesFromKey(plan, reuse) ? [reuse.ref] : reuse.write ? [...own, reuse.ref] : own;
  const pull = plan.mode === 'push' && bases !== undefined;
  return { ...plan, build: { ...plan.build, labels, tags, ...(pull ? { pull: true } : {}) } };
}

/**
 * The image under the key tag, tagged under every tag by digest (no build, no layer transfer)
 * and recorded like a push. undefined when the registry has no trusted image under the key.
 */
async function publishFromKey(
  plan: BuildPlan,
  reuse: ReuseKey,
  builder: EnsuredBuilder,
  root: string,
  deps: ExecutorDeps,
  how: 'reused' | 'built',
): Promise<BuildResult | undefined> {
  const found = await findReusable(reuse.ref, reuse.key, plan.build.platforms, root, deps, plan.logTag, builder.name);
  if (!found) return undefined;
  if (how === 'reused')
    deps.log(`${plan.logTag} registry cache hit: ${reuse.ref} (${found.digest.slice(0, 19)}); tagging it, building nothing`);
  const expected = new Map(found.platforms.map((p) => [p.platform, p.digest]));
  // One manifest under the key tag: it is listed in the one-entry index imagetools makes of it.
  // The key tag moves onto that index too (where this run writes keys), so the next hit finds an
  // index and puts its bytes as they are: the same digest.
  const keyOnList = reuse.write && !found.index && plan.build.platforms.length <= 1;
  return listUnderTags(
    plan,
    reuse.ref,
    found.digest,
    (p) => expected.get(p),
    builder,
    root,
    deps,
    how,
    found,
    keyOnList ? [reuse.ref] : [],
  );
}

/**
 * The image `source@digest` tagged under every tag as `imagetools create` does (for one manifest it
 * writes a one-entry index; `retag`: through the registry API where it can), confirmed, and recorded like a push; `expected` gives the digest each
 * platform must have (a platform that differs changed while tagging). undefined when imagetools fails.
 * `known`: the trusted image a lookup read through the registry API (its index bytes and platforms).
 */
async function listUnderTags(
  plan: BuildPlan,
  source: string,
  digest: string,
  expected: (platform: string) => string | undefined,
  builder: EnsuredBuilder,
  root: string,
  deps: ExecutorDeps,
  how: 'reused' | 'built',
  known?: KeyImage,
  /** Tagged too, but not the service's (its key tag): neither confirmed nor recorded. */
  alsoTagged: readonly string[] = [],
): Promise<BuildResult | undefined> {
  const tagged = await retag([...plan.build.tags, ...alsoTagged], source, digest, root, deps, plan.logTag, builder.name, known?.index);
  if ('failed' in tagged) {
    deps.log(`${plan.logTag} could not tag ${source}: ${tagged.failed}`);
    return undefined;
  }
  const metadata = initialMetadata(plan.service, plan.build.tags, plan.build.platforms, {}, false);
  if (tagged.via === 'api' && known?.index) {
    // The registry answered every PUT of the index's bytes with their digest: each tag serves the
    // image the lookup read and trusted, whose platforms it checked. Nothing to read back.
    metadata.manifestDigest = digest;
    for (const { platform, digest: d } of known.platforms) {
      if (platform in metadata.platforms) metadata.platforms[platform] = { digest: d, ...sizeOf(known, platform) };
    }
  } else if (tagged.via === 'api' && tagged.listed && tagged.listed.platform in metadata.platforms) {
    // The same word of the registry for the one-entry list the API made of the manifest `digest`.
    metadata.manifestDigest = tagged.listed.digest;
    const { platform, bytes } = tagged.listed;
    metadata.platforms[platform] = { digest, ...(bytes !== undefined ? { bytes } : {}) };
  } else {
    // The tags now serve what imagetools wrote (for one manifest, a one-entry index): confirm that,
    // and that it holds exactly the platform images expected.
    const error = await confirmPushed(plan.service, plan.build.tags, plan.build.platforms, metadata, root, deps, builder.name, {
      index: plan.manifestList,
    });
    if (error) return { success: false, error, metadata };
    const moved = Object.entries(metadata.platforms).filter(([p, v]) => expected(p) !== undefined && v.digest !== expected(p));
    if (moved.length)
      return { success: false, error: `${plan.logTag} push not confirmed: ${moved.map(([p]) => p).join(', ')} changed while tagging` };
  }
  metadata.pushed = true;
  if (how === 'reused') metadata.reused = true;
  writeMetadata(root, plan.metadataFile, metadata);
  deps.log(`${plan.logTag} ${how === 'reused' ? 'reused' : 'pushed'}: ${describeMetadata(metadata)} → ${plan.metadataFile}`);
  return { success: true, metadata };
}

const sizeOf = (image: KeyImage, platform: string) => (image.sizes?.[platform] !== undefined ? { bytes: image.sizes[platform] } : {});

/** After a `manifestList` push under the first tag: that manifest, listed under every tag. */
async function listFromFirstTag(
  plan: BuildPlan,
  inv: BuildInvocation,
  builder: EnsuredBuilder,
  root: string,
  deps: ExecutorDeps,
  layout?: LocalDigests,
): Promise<BuildResult> {
  const first = plan.build.tags[0]!;
  const bx = layout
    ? { digest: layout.manifestDigest }
    : readBuildxMetadata(inv.buildxMetadataPath, (m) => deps.log(`${plan.logTag} warning: ${m}`));
  if (!bx.digest) return { success: false, error: `${plan.logTag} buildx reported no digest for ${first}: cannot list it under every tag` };
  // One platform was built, whatever its name: every entry of the list must be that manifest.
  const listed = await listUnderTags(plan, first, bx.digest, () => bx.digest, builder, root, deps, 'built');
  return listed ?? { success: false, error: `${plan.logTag} could not list ${first}@${bx.digest} under every tag` };
}

/**
 * docker-build on a hit: the registry's image under every tag in the local image store (all
 * platforms, by a FROM of it: no RUN step, the layers are pulled), so dependents and `docker run`
 * find it; recorded like a build, with `"reused": true`. The epoch is the image's own, so the
 * loaded image has the registry's per-platform digests. Where nothing is loaded (a driver that
 * cannot load several platforms) the registry's digests are recorded.
 */
async function loadFromKey(
  plan: BuildPlan,
  inv: BuildInvocation,
  reuse: ReuseKey,
  builder: EnsuredBuilder,
  root: string,
  deps: ExecutorDeps,
  timeouts: CommandTimeouts,
): Promise<BuildResult | undefined> {
  const found = await findReusable(reuse.ref, reuse.key, plan.build.platforms, root, deps, plan.logTag, builder.name);
  if (!found) return undefined;
  const source = `${repositoryOf(reuse.ref)}@${found.digest}`;
  deps.log(
    `${plan.logTag} registry cache hit: ${reuse.ref} (${found.digest.slice(0, 19)}); ${inv.loaded ? 'loading it' : 'recording it'}, building nothing`,
  );
  if (!inv.loaded) {
    const metadata = initialMetadata(plan.service, plan.build.tags, plan.build.platforms, { digest: found.digest }, false);
    for (const p of found.platforms) if (metadata.platforms[p.platform]) metadata.platforms[p.platform] = { digest: p.digest };
    metadata.reused = true;
    writeMetadata(root, plan.metadataFile, metadata);
    deps.log(`${plan.logTag} reused: ${describeMetadata(metadata)} → ${plan.metadataFile}`);
    return { success: true, metadata };
  }
  const created = found.created ? Date.parse(found.created) : NaN;
  const epoch = Number.isNaN(created) ? plan.build.args.SOURCE_DATE_EPOCH : String(Math.floor(created / 1000));
  mkdirSync(dirname(inv.buildxMetadataPath), { recursive: true });
  rmSync(inv.metadataPath, { force: true });
  const argv = inv.republish(`docker-image://${source}`, epoch);
  deps.log(`${plan.logTag} ${displayCommand(argv)}`);
  const r = await inBuildSlot(deps, () => deps.run(argv, { ...inv.runOptions, stdin: inv.republishStdin, timeoutMs: timeouts.long }));
  if (r.exitCode !== 0) {
    rmSync(inv.buildxMetadataPath, { force: true });
    deps.log(`${plan.logTag} could not load ${source}: exit ${r.exitCode}${r.failure ? `: ${r.failure}` : ''}; building it`);
    return undefined;
  }
  return record(plan, inv, builder, root, deps, timeouts, true);
}

/** The epoch line: which commit SOURCE_DATE_EPOCH comes from, when it is the inputs' last commit. */
function logInputCommit(plan: BuildPlan, inputCommit: CommitStamp | undefined, deps: ExecutorDeps): void {
  if (inputCommit && plan.build.args.SOURCE_DATE_EPOCH === String(inputCommit.time)) {
    deps.log(
      `${plan.logTag} SOURCE_DATE_EPOCH=${inputCommit.time}: ${inputCommit.sha.slice(0, 12)}, the last commit that changed its inputs` +
        (inputCommit.parentless
          ? ' (it has no parent: in a shallow clone, fetch the whole history for digests that stay across commits)'
          : ''),
    );
  }
}

export async function runBuild(
  mode: BuildMode,
  raw: BuildExecutorOptions,
  context: ExecutorContext,
  given: ExecutorDeps,
): Promise<BuildResult> {
  const root = context.root;
  let o = normalizeBuildOptions(raw, mode);
  const timeouts = commandTimeouts(given.env, raw.timeout);
  const deps = withTimeouts(given, timeouts); // every query below; the build asks for timeouts.long
  if (mode === 'push' && o.build.tags.length === 0 && o.generatedTags.length === 0)
    return { success: false, error: noTagsError(o.service) };
  // A native runner's leg: only its platforms, pushed by digest, recorded in digest files (run-leg.ts).
  const restriction = platformRestriction(raw.onlyPlatforms, deps.env);
  if (restriction && mode === 'push') {
    const { runLeg } = await import('./run-leg.js'); // loaded on a leg only, as content-key is on a push
    return runLeg(restriction, raw, o, context, deps, timeouts);
  }
  // A leg's pull-request build: its platforms of the service, nothing else (and nothing when it declares none of them).
  if (restriction) {
    const platforms = legPlatforms(o.build.platforms, restriction);
    if (!platforms.length) {
      const declared = o.build.platforms.join(', ') || 'no platforms';
      deps.log(
        `[${o.service}] docker-build: restricted to ${restriction.join(', ')}, it declares ${declared}: nothing to build on this runner`,
      );
      return { success: true };
    }
    o = { ...o, build: { ...o.build, platforms } };
  }

  // The builder check starts now and runs while git is read: both are process starts that add up on a small build.
  const pendingBuilder = o.dryRun ? undefined : ensureBuilder(o.builder, root, deps, false);
  pendingBuilder?.catch(() => undefined); // awaited below; an early return must not leave it unhandled

  // Phase 1: normalise. The last commit that changed the inputs (a git process per task) only
  // matters to a build: with the registry cache it is asked only once the registry has no image.
  const mayReuse = !o.dryRun && isReuseEnabled(raw.reuse, deps.env, mode === 'push');
  const earlyInputCommit = mayReuse ? undefined : inputCommitOf(context, root, deps);
  const facts = await runTimeFacts(root, deps);
  const now = deps.now();
  const planWith = (inputCommit: CommitStamp | undefined) =>
    planBuild(mode, o, {
      facts,
      ...(inputCommit ? { inputCommit } : {}),
      env: deps.env,
      now,
      ...(raw.cacheReadOnly !== undefined ? { cacheReadOnly: raw.cacheReadOnly } : {}),
    });
  const planned = planWith(await earlyInputCommit);
  if ('error' in planned) return { success: false, error: planned.error };
  let { plan } = planned;
  // The metadata file is written, and deleted before each run: never outside the workspace.
  const outside = writeProblem(root, plan.metadataFile, 'metadataFile');
  if (outside) return { success: false, error: `${plan.logTag} ${outside}` };
  deps.log(headerLine(plan));
  logInputCommit(plan, await earlyInputCommit, deps);

  // Phase "reuse" of a push: the registry may already hold this very image. Asked while the builder
  // is still being inspected, and a hit returns without its platform check: tagging by digest
  // builds nothing, so it needs neither QEMU nor the builder's platforms.
  const reuse = await reuseKeyFor(mode, raw, o, plan, root, deps);
  if (reuse && mode === 'push') {
    // A builder spec may not exist yet on a fresh runner, and imagetools run with `--builder` needs
    // it: that lookup waits for its creation. A named builder is never created here, so its name will do.
    const lookupBuilder = typeof o.builder === 'object' && pendingBuilder ? await pendingBuilder : builderNamed(o.builder);
    const hit = await publishFromKey(plan, reuse, lookupBuilder, root, deps, 'reused');
    if (hit) return hit;
  }
  // A push misses: its build's epoch (the inputs' last commit) is asked now, beside the builder wait.
  const lateInputCommit = mayReuse && mode === 'push' ? inputCommitOf(context, root, deps) : undefined;

  // Phase 2: preflight.
  const builder = pendingBuilder ? await pendingBuilder : await ensureBuilder(o.builder, root, deps, true);
  const problem = platformProblem(plan, builder, () => deps.readBinfmt(), deps.hostArch());
  if (problem) return { success: false, error: problem };
  const invocationOf = (p: BuildPlan) =>
    buildInvocation(withKey(p, reuse), builder, { root, isTTY: deps.isTTY, env: deps.env, runId: deps.runId(), ownTags: p.build.tags });
  let inv = invocationOf(plan);
  if (plan.dryRun) {
    if (isReuseEnabled(raw.reuse, deps.env, mode === 'push') && plan.build.tags[0]) {
      deps.log(
        `[dry-run] ${displayCommand(imagetoolsInspectArgv(keyTag(plan.build.tags[0], '<content key>'), { raw: false, format: KEY_IMAGE_FORMAT }))}`,
      );
    }
    for (const line of dryRunLines(plan, inv, deps.registry !== undefined)) deps.log(line);
    return { success: true };
  }

  // Phase "reuse" of a build: loading the registry's image runs a build of it, so it needs the builder.
  if (reuse && mode === 'build') {
    const hit = await loadFromKey(plan, inv, reuse, builder, root, deps, timeouts);
    if (hit) return hit;
  }
  if (mayReuse) {
    const inputCommit = await (lateInputCommit ?? inputCommitOf(context, root, deps));
    const replanned = planWith(inputCommit);
    if ('error' in replanned) return { success: false, error: replanned.error };
    ({ plan } = replanned);
    inv = invocationOf(plan);
    logInputCommit(plan, inputCommit, deps);
  }

  // Phase 3: run with retry. A previous run's record must not outlive a failed run and pass for success.
  mkdirSync(dirname(inv.buildxMetadataPath), { recursive: true });
  rmSync(inv.metadataPath, { force: true });
  const steps = await runBuildSteps(plan, inv, deps, timeouts);
  if ('failed' in steps) return steps.failed;

  // Phase 4: record.
  if (listsFromFirstTag(plan, reuse)) return listFromFirstTag(plan, inv, builder, root, deps, steps.layout);
  if (reuse && publishesFromKey(plan, reuse)) {
    readBuildxMetadata(inv.buildxMetadataPath, () => undefined); // removes it; the registry is read instead
    return (
      (await publishFromKey(plan, reuse, builder, root, deps, 'built')) ?? {
        success: false,
        error: `${plan.logTag} the image pushed to ${reuse.ref} is not there`,
      }
    );
  }
  return record(plan, inv, builder, root, deps, timeouts, false, steps.layout);
}

/**
 * The executor body shared by docker-build and docker-push: runs the build,
 * logs its error, and turns an unexpected exception into a failed task with a
 * one-line message instead of a stack trace.
 */
export async function runBuildExecutor(
  mode: BuildMode,
  options: BuildExecutorOptions,
  context: ExecutorContext,
  given: ExecutorDeps,
): Promise<{ success: boolean }> {
  // Every line this task logs is escaped and prefixed: a value cannot forge a line of its own.
  const log = prefixedLog(given.log, `[${options.service}]`);
  const deps: ExecutorDeps = { ...given, log };
  try {
    const r = await runBuild(mode, options, context, deps);
    if (!r.success && r.error) log(r.error);
    return { success: r.success };
  } catch (e) {
    log(`[${options.service}] docker-${mode}: ${(e as Error).message}`);
    return { success: false };
  }
}
