/**
 * The record phase of docker-build / docker-push: read what buildx reported, learn the per-platform
 * digests (local image store for a build, the registry for a push), and write the metadata JSON.
 */
import { workspacePathForWrite } from '../../containment';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { comparePlatforms, isIndexMediaType, parseBuildxMetadata, type BuildxMetadata } from '../../../buildx/manifest';
import type { ExecutorDeps } from './deps';
import { registryImage } from './registry';

/** The metadata JSON docker-build / docker-push write (their Nx output). */
export interface ImageMetadata {
  service: string;
  /** Every tag the image was built with (declared + generated). */
  tags: string[];
  /**
   * Declared platform → manifest digest of that platform (digest absent when it cannot be known), and
   * its compressed size (the sum of its layers) when the run read it anyway: the summary then asks
   * the registry for it no more.
   */
  platforms: Record<string, { digest?: string; bytes?: number }>;
  /** Digest of the image index (several platforms) or of the one manifest. */
  manifestDigest?: string;
  /** true for docker-push: every platform was confirmed in the registry under every tag. */
  pushed: boolean;
  /** true when the image was loaded into the local image store (`--load`). */
  loaded: boolean;
  /** true when docker-push found the image by its content key in the registry and built nothing. */
  reused?: boolean;
}

/** buildx's own metadata file, read once and removed (it is per run, never an output). */
export function readBuildxMetadata(path: string, warn: (message: string) => void): BuildxMetadata {
  try {
    return existsSync(path) ? parseBuildxMetadata(readFileSync(path, 'utf8')) : {};
  } catch (e) {
    warn(`cannot read buildx metadata: ${(e as Error).message}`);
    return {};
  } finally {
    rmSync(path, { force: true });
  }
}

/** The record before any digest is looked up: declared platforms, buildx's image digest. */
export function initialMetadata(service: string, tags: string[], platforms: string[], bx: BuildxMetadata, loaded: boolean): ImageMetadata {
  return {
    service,
    tags,
    platforms: Object.fromEntries(platforms.map((p) => [p, {}])),
    ...(bx.digest ? { manifestDigest: bx.digest } : {}),
    pushed: false,
    loaded,
  };
}

export function describeMetadata(m: ImageMetadata): string {
  const entries = Object.entries(m.platforms);
  if (!entries.length) return m.manifestDigest ?? 'done';
  return entries.map(([p, v]) => `${p} ${v.digest ? v.digest.slice(0, 19) : '(digest unknown)'}`).join(', ');
}

/** Written whole or not at all: a reader (or a second run) never sees half a file. */
export function writeMetadata(root: string, file: string, metadata: ImageMetadata): void {
  const path = workspacePathForWrite(root, file, 'metadataFile');
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}-${Date.now()}.tmp`;
  writeFileSync(temp, `${JSON.stringify(metadata, null, 2)}\n`);
  renameSync(temp, path);
}

/** docker-build: per-platform digests from buildx's descriptor, or from the local image store. */
export async function recordLocalDigests(
  platforms: string[],
  bx: BuildxMetadata,
  metadata: ImageMetadata,
  root: string,
  deps: ExecutorDeps,
  logTag: string,
  timeoutMs?: number,
): Promise<void> {
  const isIndex = isIndexMediaType(bx.descriptor?.mediaType) || (bx.descriptor === undefined && platforms.length > 1);
  if (!isIndex) {
    // One manifest: the exported digest IS the platform's manifest digest.
    if (bx.digest && platforms.length === 1) metadata.platforms[platforms[0]!] = { digest: bx.digest };
    if (bx.digest && platforms.length === 0) metadata.platforms = {};
    return;
  }
  if (!metadata.loaded) return; // kept in the builder cache only: no per-platform digests to read
  const ref = metadata.tags[0] ?? bx.digest;
  if (!ref) return;
  try {
    const local = await deps.localImageDigests(ref, root, timeoutMs, bx.digest); // the index's digest ends the stream early
    for (const { platform, digest } of local.platforms) {
      if (platform in metadata.platforms || platforms.length === 0) metadata.platforms[platform] = { digest };
    }
    if (!metadata.manifestDigest && local.manifestDigest) metadata.manifestDigest = local.manifestDigest;
  } catch (e) {
    deps.log(`${logTag} warning: per-platform digests unavailable: ${(e as Error).message}`);
  }
}

/**
 * After a push: every tag must serve every declared platform, all tags the same content, and, when
 * buildx reported the digest it pushed (metadata.manifestDigest), that very image. A tag that serves
 * another digest was overwritten by a concurrent push of the same tag: that is reported, never counted
 * as success.
 */
export async function confirmPushed(
  service: string,
  tags: string[],
  platforms: string[],
  metadata: ImageMetadata,
  root: string,
  deps: ExecutorDeps,
  builder?: string,
  /** `index`: every tag must serve a manifest list (the `manifestList` option), not one manifest. */
  expect: { index?: boolean } = {},
): Promise<string | undefined> {
  const problems: string[] = [];
  const pushed = metadata.manifestDigest;
  let first: Record<string, string> | undefined;
  for (const t of tags) {
    let lastError = '';
    let found: Array<{ platform: string; digest: string }> | undefined;
    let served: string | undefined;
    let kind: string | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt) await deps.sleep(1000 * attempt);
      try {
        const img = await registryImage(t, root, deps, builder);
        found = img.platforms;
        served = img.digest;
        kind = img.kind;
        if (
          comparePlatforms(
            platforms,
            found.map((f) => f.platform),
          ).missing.length === 0
        )
          break;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    if (!found) {
      problems.push(`${t}: ${lastError}`);
      continue;
    }
    if (expect.index && kind !== 'index') {
      problems.push(`${t}: the registry serves a single manifest, not the manifest list asked for (manifestList)`);
      continue;
    }
    if (pushed && served && served !== pushed) {
      problems.push(`${t}: the registry serves ${served}, not ${pushed} that this run pushed: another push of the same tag replaced it`);
      continue;
    }
    const { missing } = comparePlatforms(
      platforms,
      found.map((f) => f.platform),
    );
    if (missing.length)
      problems.push(`${t}: registry lacks ${missing.join(', ')} (has ${found.map((f) => f.platform).join(', ') || 'nothing'})`);
    const map = Object.fromEntries(found.map((f) => [f.platform, f.digest]));
    if (!first) {
      first = map;
      for (const [p, d] of Object.entries(map))
        if (p in metadata.platforms || platforms.length === 0) metadata.platforms[p] = d ? { digest: d } : {};
      if (!metadata.manifestDigest && served) metadata.manifestDigest = served;
    } else if (JSON.stringify(first) !== JSON.stringify(map)) {
      problems.push(`${t}: serves different content than ${tags[0]}`);
    }
  }
  return problems.length ? `[${service}] push not confirmed:\n  ${problems.join('\n  ')}` : undefined;
}
