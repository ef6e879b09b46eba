/**
 * docker-build and docker-push share one flow: resolve run-time tags and labels, ensure the builder,
 * check platforms, run `docker buildx build`, then record per-platform digests in a metadata JSON.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { buildArgv, progressFor, type BuildMode } from '../../../buildx/argv';
import { missingPlatforms, missingPlatformsMessage, parseBinfmtMisc, supportedPlatforms } from '../../../buildx/builder-support';
import { reproducibleTime, withOciLabels } from '../../../buildx/labels';
import { comparePlatforms, isIndexMediaType, isTransientRegistryError, parseBuildxMetadata, type BuildxMetadata } from '../../../buildx/manifest';
import { generateTags, type GitFacts } from '../../../buildx/tags';
import { displayCommand } from '../../../run/exec';
import { ensureBuilder } from './builder';
import type { ExecutorDeps } from './deps';
import { normalizeBuildOptions, type BuildExecutorOptions } from './options';
import { registryImage } from './registry';

/** The metadata JSON docker-build / docker-push write (their Nx output). */
export interface ImageMetadata {
  service: string;
  /** Every tag the image was built with (declared + generated). */
  tags: string[];
  /** Declared platform → manifest digest of that platform (digest absent when it cannot be known). */
  platforms: Record<string, { digest?: string }>;
  /** Digest of the image index (several platforms) or of the one manifest. */
  manifestDigest?: string;
  /** true for docker-push: every platform was confirmed in the registry under every tag. */
  pushed: boolean;
  /** true when the image was loaded into the local image store (`--load`). */
  loaded: boolean;
}

export interface BuildResult {
  success: boolean;
  error?: string;
  metadata?: ImageMetadata;
}

/** Pushes tried in all when the registry answers a transient server error. */
const PUSH_ATTEMPTS = 3;

/** Git facts for generated tags, OCI labels and the reproducible build time; none outside a git checkout. */
async function runTimeFacts(root: string, deps: ExecutorDeps): Promise<GitFacts | undefined> {
  try {
    return await deps.gitFacts(root);
  } catch {
    return undefined;
  }
}

export async function runBuild(
  mode: BuildMode,
  raw: BuildExecutorOptions,
  context: ExecutorContext,
  deps: ExecutorDeps,
): Promise<BuildResult> {
  const o = normalizeBuildOptions(raw, mode);
  const root = context.root;
  const tag = `[${o.service}]`;

  const noTags = { success: false, error: `${tag} docker-push needs at least one tag (compose image: or build.tags).` };
  if (mode === 'push' && o.build.tags.length === 0 && o.generatedTags.length === 0) return noTags;

  // Run-time only: generated tags and OCI labels (never in target options → not in cache keys).
  // The builder check runs meanwhile: both are process starts that add up on a small build.
  const pendingBuilder = o.dryRun ? undefined : ensureBuilder(o.builder, root, deps, false);
  pendingBuilder?.catch(() => undefined); // awaited below; an early return must not leave it unhandled
  const facts = await runTimeFacts(root, deps);
  const generated = facts && o.generatedTags.length ? generateTags(o.generatedTags, facts, o.build.tags) : [];
  // Pull-request builds read the shared cache but must not write to it.
  const cacheReadOnly = raw.cacheReadOnly ?? /^(1|true|yes)$/i.test(deps.env.NX_COMPOSE_BUILDX_CACHE_READONLY ?? '');
  const reproducible = reproducibleTime(facts, deps.env.SOURCE_DATE_EPOCH);
  const sourceDateEpoch = reproducible ? String(Math.floor(reproducible.getTime() / 1000)) : undefined;
  const build = {
    ...o.build,
    // BuildKit stamps the image config with this time instead of the clock, so a
    // rebuild of the same commit (say, on a fresh runner from the registry cache)
    // gives the same digest. An explicit build arg of the same name wins.
    args: sourceDateEpoch && !('SOURCE_DATE_EPOCH' in o.build.args) ? { ...o.build.args, SOURCE_DATE_EPOCH: sourceDateEpoch } : o.build.args,
    tags: [...o.build.tags, ...generated],
    labels: withOciLabels(o.build.labels, facts, deps.now(), o.ociLabels),
    ...(cacheReadOnly ? { cacheTo: [] } : {}),
  };
  if (mode === 'push' && build.tags.length === 0) return noTags; // the generated rules gave none either

  deps.log(
    `${tag} docker-${mode}: ${build.platforms.join(', ') || 'builder default platform'}` +
      ` → ${build.tags.join(', ') || '(untagged)'}${o.dryRun ? ' (dry run)' : ''}`,
  );

  const builder = pendingBuilder ? await pendingBuilder : await ensureBuilder(o.builder, root, deps, true);

  if (!o.dryRun && o.checkPlatforms && build.platforms.length) {
    const supported = supportedPlatforms(builder.info, parseBinfmtMisc(deps.readBinfmt()));
    if (builder.info && builder.info.platforms.length) {
      const missing = missingPlatforms(build.platforms, supported, deps.hostArch());
      if (missing.length) return { success: false, error: missingPlatformsMessage(o.service, missing, builder.name ?? builder.info.name) };
    }
  }

  // docker driver (+ containerd image store) loads multi-platform images; other drivers cannot.
  const driver = builder.info?.driver;
  const loadMultiPlatform = o.loadMultiPlatform ?? (driver === undefined || driver === 'docker');
  // buildx's own metadata goes next to ours (deterministic, so a dry run prints the exact command)
  // and is removed once read.
  const buildxMetadataFile = join(dirname(o.metadataFile), `.buildx-${basename(o.metadataFile)}`);
  const buildxMetadataPath = isAbsolute(buildxMetadataFile) ? buildxMetadataFile : join(root, buildxMetadataFile);
  const progress = o.progress ?? progressFor(deps.isTTY, deps.env);
  const argv = buildArgv(build, mode, {
    serviceImages: o.serviceImages,
    ...(builder.name ? { builder: builder.name } : {}),
    provenance: o.provenance,
    sbom: o.sbom,
    metadataFile: buildxMetadataFile,
    progress,
    loadMultiPlatform,
  });
  const loaded = mode === 'build' && argv.includes('--load');

  if (o.dryRun) {
    deps.log(`[dry-run] ${displayCommand(argv)}${build.dockerfileInline !== undefined ? '  (inline Dockerfile on stdin)' : ''}`);
    if (mode === 'push') {
      for (const t of build.tags) deps.log(`[dry-run] docker buildx imagetools inspect --raw ${t}`);
    }
    return { success: true };
  }

  mkdirSync(dirname(buildxMetadataPath), { recursive: true });
  // A previous run's record must not outlive a failed run and pass for success.
  rmSync(isAbsolute(o.metadataFile) ? o.metadataFile : join(root, o.metadataFile), { force: true });
  deps.log(`${tag} ${displayCommand(argv)}`);
  const runOptions = {
    cwd: root,
    ...(build.dockerfileInline !== undefined ? { stdin: build.dockerfileInline } : {}),
    stream: true,
    ...(progress === 'plain' ? { prefix: `${tag} ` } : {}),
  };
  let r = await deps.run(argv, runOptions);
  // The build itself is cached by now: another attempt only repeats the push.
  for (let attempt = 2; attempt <= PUSH_ATTEMPTS && r.exitCode !== 0 && mode === 'push' && isTransientRegistryError(`${r.stdout}\n${r.stderr}`); attempt++) {
    deps.log(`${tag} the registry answered a server error; pushing again (attempt ${attempt} of ${PUSH_ATTEMPTS})`);
    await deps.sleep(1000 * (attempt - 1));
    r = await deps.run(argv, runOptions);
  }
  if (r.exitCode !== 0) {
    return { success: false, error: `${tag} docker buildx build failed (exit ${r.exitCode})${r.failure ? `: ${r.failure}` : ''}` };
  }

  let bx: BuildxMetadata = {};
  try {
    if (existsSync(buildxMetadataPath)) bx = parseBuildxMetadata(readFileSync(buildxMetadataPath, 'utf8'));
  } catch (e) {
    deps.log(`${tag} warning: cannot read buildx metadata: ${(e as Error).message}`);
  } finally {
    rmSync(buildxMetadataPath, { force: true });
  }

  const metadata: ImageMetadata = {
    service: o.service,
    tags: build.tags,
    platforms: Object.fromEntries(build.platforms.map((p) => [p, {}])),
    ...(bx.digest ? { manifestDigest: bx.digest } : {}),
    pushed: false,
    loaded,
  };

  if (mode === 'push') {
    const error = await confirmPushed(o.service, build.tags, build.platforms, metadata, root, deps, builder.name);
    if (error) return { success: false, error, metadata };
    metadata.pushed = true;
  } else {
    await recordLocalDigests(build.platforms, bx, metadata, loaded, root, deps, tag);
  }

  writeMetadata(root, o.metadataFile, metadata);
  deps.log(`${tag} ${mode === 'push' ? 'pushed' : 'built'}: ${describe(metadata)} → ${o.metadataFile}`);
  return { success: true, metadata };
}

function describe(m: ImageMetadata): string {
  const entries = Object.entries(m.platforms);
  if (!entries.length) return m.manifestDigest ?? 'done';
  return entries.map(([p, v]) => `${p} ${v.digest ? v.digest.slice(0, 19) : '(digest unknown)'}`).join(', ');
}

export function writeMetadata(root: string, file: string, metadata: ImageMetadata): void {
  const path = isAbsolute(file) ? file : join(root, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(metadata, null, 2)}\n`);
}

async function recordLocalDigests(
  platforms: string[],
  bx: BuildxMetadata,
  metadata: ImageMetadata,
  loaded: boolean,
  root: string,
  deps: ExecutorDeps,
  tag: string,
): Promise<void> {
  const isIndex = isIndexMediaType(bx.descriptor?.mediaType) || (bx.descriptor === undefined && platforms.length > 1);
  if (!isIndex) {
    // One manifest: the exported digest IS the platform's manifest digest.
    if (bx.digest && platforms.length === 1) metadata.platforms[platforms[0]!] = { digest: bx.digest };
    if (bx.digest && platforms.length === 0) metadata.platforms = {};
    return;
  }
  if (!loaded) return; // kept in the builder cache only: no per-platform digests to read
  const ref = metadata.tags[0] ?? bx.digest;
  if (!ref) return;
  try {
    const local = await deps.localImageDigests(ref, root);
    for (const { platform, digest } of local.platforms) {
      if (platform in metadata.platforms || platforms.length === 0) metadata.platforms[platform] = { digest };
    }
    if (!metadata.manifestDigest && local.manifestDigest) metadata.manifestDigest = local.manifestDigest;
  } catch (e) {
    deps.log(`${tag} warning: per-platform digests unavailable: ${(e as Error).message}`);
  }
}

/** After a push: every tag must serve every declared platform, all tags the same content. */
export async function confirmPushed(
  service: string,
  tags: string[],
  platforms: string[],
  metadata: ImageMetadata,
  root: string,
  deps: ExecutorDeps,
  builder?: string,
): Promise<string | undefined> {
  const problems: string[] = [];
  let first: Record<string, string> | undefined;
  for (const t of tags) {
    let lastError = '';
    let found: Array<{ platform: string; digest: string }> | undefined;
    let single: string | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt) await deps.sleep(1000 * attempt);
      try {
        const img = await registryImage(t, root, deps, builder);
        found = img.platforms;
        single = img.kind === 'manifest' ? img.digest : undefined;
        if (comparePlatforms(platforms, found.map((f) => f.platform)).missing.length === 0) break;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    if (!found) {
      problems.push(`${t}: ${lastError}`);
      continue;
    }
    const { missing } = comparePlatforms(platforms, found.map((f) => f.platform));
    if (missing.length) problems.push(`${t}: registry lacks ${missing.join(', ')} (has ${found.map((f) => f.platform).join(', ') || 'nothing'})`);
    const map = Object.fromEntries(found.map((f) => [f.platform, f.digest]));
    if (!first) {
      first = map;
      for (const [p, d] of Object.entries(map)) if (p in metadata.platforms || platforms.length === 0) metadata.platforms[p] = d ? { digest: d } : {};
      if (!metadata.manifestDigest && single) metadata.manifestDigest = single;
    } else if (JSON.stringify(first) !== JSON.stringify(map)) {
      problems.push(`${t}: serves different content than ${tags[0]}`);
    }
  }
  return problems.length ? `[${service}] push not confirmed:\n  ${problems.join('\n  ')}` : undefined;
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
  deps: ExecutorDeps,
): Promise<{ success: boolean }> {
  try {
    const r = await runBuild(mode, options, context, deps);
    if (!r.success && r.error) deps.log(r.error);
    return { success: r.success };
  } catch (e) {
    deps.log(`[${options.service}] docker-${mode}: ${(e as Error).message}`);
    return { success: false };
  }
}
