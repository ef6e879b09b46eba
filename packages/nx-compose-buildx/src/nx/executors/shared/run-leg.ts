/**
 * docker-push on a platform-restricted run (a native runner's leg, see native-leg.ts): for each of
 * the service's declared platforms that the run is restricted to, one build of that platform alone,
 * pushed by digest (or, on the `docker` driver, which cannot, under the plugin's own leg tag), and one
 * digest file. The registry cache applies per platform: a hit writes the digest file (reused: true)
 * and builds nothing. No release tag is touched: docker-merge assembles and tags the manifest list.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import type { BuildOptions } from '../../../build-spec/types';
import { familiarRef, normalizeImageRef, repositoryOf } from '../../../buildx/image-ref';
import { dockerfileImageRefs } from '../../../graph';
import type { CommandTimeouts } from '../../../run/exec';
import { writeProblem } from '../../containment';
import { ensureBuilder, type EnsuredBuilder } from './builder';
import { buildInvocation, noTagsError, planBuild, platformProblem } from './build-plan';
import { readBuildxMetadata } from './build-record';
import type { ExecutorDeps } from './deps';
import {
  canPushByDigest,
  digestsDirOf,
  legCacheEntry,
  legPlatforms,
  legTag,
  pinnedRefs,
  readDigestRecords,
  writeDigestRecord,
  type DigestRecord,
} from '../../native-leg';
import type { BuildExecutorOptions, NormalizedBuild } from './options';
import { registryImage } from './registry';
import { CONTENT_KEY_LABEL, findReusable, retagArgv } from './registry-reuse';
import { dryRunLines, inputCommitOf, reuseKeyFor, runBuildSteps, type BuildResult } from './run-build';
import type { CommitStamp } from '../../../run/git';

/**
 * The build of one platform on this leg: that platform only, its own cache location, and every image
 * it builds on that this leg pushed (another service of the workspace) pinned to this leg's digest,
 * since that service's tags still point at its last merged image.
 */
export function legBuild(
  o: NormalizedBuild,
  platform: string,
  dockerfileText: string | undefined,
  sameLeg: readonly DigestRecord[],
): { o: NormalizedBuild; pins: Record<string, string> } {
  const serviceImages = { ...o.serviceImages };
  const pins: Record<string, string> = {};
  for (const [service, image] of Object.entries(serviceImages)) {
    const pin = pinnedRefs([image], sameLeg)[image];
    if (pin) {
      serviceImages[service] = pin;
      pins[image] = pin;
    }
  }
  const named = o.build.additionalContexts ?? {};
  const refs = dockerfileImageRefs(dockerfileText, o.build.args, o.build.target, Object.keys(named));
  const additionalContexts = { ...named };
  for (const [ref, pin] of Object.entries(pinnedRefs(refs, sameLeg))) {
    // BuildKit looks a FROM up among the named contexts by its familiar name; the ref as written
    // keeps the content key (which skips refs that are named contexts) off the stale tag.
    const n = normalizeImageRef(ref);
    for (const name of new Set([ref, ...(n ? [familiarRef(n)] : [])])) additionalContexts[name] = `docker-image://${pin}`;
    pins[ref] = pin;
  }
  const build: BuildOptions = {
    ...o.build,
    platforms: [platform],
    additionalContexts,
    cacheFrom: o.build.cacheFrom.map((c) => legCacheEntry(c, platform)),
    cacheTo: o.build.cacheTo.map((c) => legCacheEntry(c, platform)),
  };
  return { o: { ...o, build, serviceImages }, pins };
}

function dockerfileTextOf(build: BuildOptions, root: string): string | undefined {
  if (build.dockerfileInline !== undefined) return build.dockerfileInline;
  if (!build.dockerfile) return undefined;
  const path = join(root, build.dockerfile);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

export async function runLeg(
  restriction: string[],
  raw: BuildExecutorOptions,
  o: NormalizedBuild,
  context: ExecutorContext,
  deps: ExecutorDeps,
  timeouts: CommandTimeouts,
): Promise<BuildResult> {
  const root = context.root;
  const project = context.projectName ?? o.service;
  const logTag = `[${o.service}]`;
  const declared = o.build.platforms;
  const only = restriction.join(', ');
  if (!declared.length) {
    deps.log(`${logTag} docker-push: declares no platforms, so a run restricted to ${only} builds nothing for it`);
    return { success: true };
  }
  const platforms = legPlatforms(declared, restriction);
  if (!platforms.length) {
    deps.log(`${logTag} docker-push: declares none of ${only} (it declares ${declared.join(', ')}): nothing to do on this runner`);
    return { success: true };
  }
  const dir = digestsDirOf(raw.digestsDir, deps.env);
  const outside = writeProblem(root, dir, 'digestsDir');
  if (outside) return { success: false, error: `${logTag} ${outside}` };
  deps.log(
    `${logTag} docker-push, restricted to ${only}: ${platforms.join(', ')} of ${declared.join(', ')} → digest files in ${dir}${
      o.dryRun ? ' (dry run)' : ''
    }`,
  );

  const builder = await ensureBuilder(o.builder, root, deps, o.dryRun);
  const [facts, inputCommit] = await Promise.all([deps.gitFacts(root).catch(() => undefined), inputCommitOf(context, root, deps)]);
  const found = readDigestRecords(root, dir, {});
  const text = dockerfileTextOf(o.build, root);
  for (const platform of platforms) {
    const sameLeg = found.records.filter((r) => r.platform === platform && r.project !== project);
    const r = await pushPlatform(platform, raw, legBuild(o, platform, text, sameLeg), {
      project,
      dir,
      root,
      builder,
      facts,
      inputCommit,
      deps,
      timeouts,
    });
    if (!r.success) return r;
  }
  return { success: true };
}

interface LegRun {
  project: string;
  dir: string;
  root: string;
  builder: EnsuredBuilder;
  facts: Awaited<ReturnType<ExecutorDeps['gitFacts']>>;
  /** The last commit that changed the task's inputs: SOURCE_DATE_EPOCH (source-epoch.ts). */
  inputCommit: CommitStamp | undefined;
  deps: ExecutorDeps;
  timeouts: CommandTimeouts;
}

async function pushPlatform(
  platform: string,
  raw: BuildExecutorOptions,
  leg: { o: NormalizedBuild; pins: Record<string, string> },
  run: LegRun,
): Promise<BuildResult> {
  const { project, dir, root, builder, deps, timeouts } = run;
  const planned = planBuild('push', leg.o, {
    facts: run.facts,
    ...(run.inputCommit ? { inputCommit: run.inputCommit } : {}),
    env: deps.env,
    now: deps.now(),
    ...(raw.cacheReadOnly !== undefined ? { cacheReadOnly: raw.cacheReadOnly } : {}),
  });
  if ('error' in planned) return { success: false, error: planned.error };
  const plan = { ...planned.plan, logTag: `[${leg.o.service}] ${platform}:` };
  const firstTag = plan.build.tags[0];
  if (!firstTag) return { success: false, error: noTagsError(leg.o.service) };
  const repository = repositoryOf(firstTag);
  for (const [ref, pin] of Object.entries(leg.pins)) deps.log(`${plan.logTag} builds on ${ref} as this runner pushed it: ${pin}`);

  const problem = platformProblem(plan, builder, () => deps.readBinfmt(), deps.hostArch());
  if (problem) return { success: false, error: problem };
  const byDigest = canPushByDigest(builder.info?.driver);
  const reuse = await reuseKeyFor('push', raw, leg.o, plan, root, deps);
  const record = (digest: string, reused: boolean): DigestRecord => ({
    project,
    service: leg.o.service,
    platform,
    repository,
    digest,
    reused,
    ...(reuse ? { contentKey: reuse.key } : {}),
    tags: leg.o.build.tags,
  });

  if (reuse && !plan.dryRun) {
    const hit = await findReusable(reuse.ref, reuse.key, [platform], root, deps, plan.logTag, builder.name);
    const digest = hit?.platforms.find((p) => p.platform === platform)?.digest;
    if (digest) {
      const file = writeDigestRecord(root, dir, record(digest, true));
      deps.log(`${plan.logTag} registry cache hit: ${reuse.ref} (${digest.slice(0, 19)}); building nothing → ${file}`);
      return { success: true };
    }
  }

  const labels = reuse ? { ...plan.build.labels, [CONTENT_KEY_LABEL]: reuse.key } : plan.build.labels;
  const tags = byDigest ? [] : [legTag(firstTag, platform), ...(reuse?.write ? [reuse.ref] : [])];
  const inv = buildInvocation({ ...plan, build: { ...plan.build, labels, tags } }, builder, {
    root,
    isTTY: deps.isTTY,
    env: deps.env,
    runId: deps.runId(),
    ...(byDigest ? { pushByDigest: repository } : {}),
  });
  if (!byDigest)
    deps.log(
      `${plan.logTag} the ${builder.info?.driver ?? 'current'} driver cannot push by digest: pushing ${tags[0]}, recording its digest`,
    );
  if (plan.dryRun) {
    for (const line of dryRunLines(plan, inv, false).slice(0, inv.stable ? 2 : 1)) deps.log(line);
    return { success: true };
  }

  mkdirSync(dirname(inv.buildxMetadataPath), { recursive: true });
  // The build (for a content-stable one, its OCI layout and the push of it), retried like a push.
  const steps = await runBuildSteps(plan, inv, deps, timeouts);
  if ('failed' in steps) return steps.failed;
  // A layout pushed through the registry API as it is: its own digest (buildx wrote no metadata then).
  const digest =
    steps.layout?.manifestDigest ?? readBuildxMetadata(inv.buildxMetadataPath, (m) => deps.log(`${plan.logTag} warning: ${m}`)).digest;
  if (!digest) return { success: false, error: `${plan.logTag} buildx reported no digest for the push, so there is nothing to merge` };

  // The registry must serve the very image: one manifest of this platform, under its digest.
  const pushed = `${repository}@${digest}`;
  try {
    const image = await registryImage(pushed, root, deps, builder.name);
    if (image.kind !== 'manifest' || !image.platforms.some((p) => p.platform === platform))
      return {
        success: false,
        error: `${plan.logTag} push not confirmed: ${pushed} is not one ${platform} image (has ${image.platforms.map((p) => p.platform).join(', ') || 'nothing'})`,
      };
  } catch (e) {
    return { success: false, error: `${plan.logTag} push not confirmed: ${(e as Error).message}` };
  }
  if (byDigest && reuse?.write) {
    // The key tag names the image for later runs; a push by digest tags nothing, so tag it here.
    const argv = retagArgv([reuse.ref], reuse.ref, digest, builder.name);
    const t = await deps.run(argv, { cwd: root });
    if (t.exitCode !== 0)
      deps.log(`${plan.logTag} warning: could not write the registry cache tag ${reuse.ref}: ${(t.stderr || t.stdout).trim()}`);
  }
  const file = writeDigestRecord(root, dir, record(digest, false));
  deps.log(`${plan.logTag} pushed ${pushed} → ${file}`);
  return { success: true };
}
