/**
 * The local image store's edge: loading an OCI layout into it, and reading per-platform digests.
 *
 * Per-platform digests of an image in the local (containerd) image store. Docker 26 has no API that
 * lists an image index's platforms (`docker image inspect` shows only the index; `--platform` and
 * `.Manifests` arrived in API 1.48+), so we stream `docker save <ref>` (an OCI layout tar) and keep
 * only `index.json` and the small JSON blobs; layer blobs are skipped as they pass. When the caller
 * knows the index's digest (buildx's metadata file names it), the index blob alone answers: the
 * stream is stopped as soon as it has passed, so most of the image is never exported.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexPlatforms, isIndexMediaType, platformsFromOciLayout, type PlatformDigest } from '../buildx/manifest';
import { imageLoadArgv, imageSaveArgv } from '../buildx/argv';
import { DEFAULT_LONG_TIMEOUT_MS, spawnCommand, unfinishedReason, type SpawnedEnd } from './exec';
import { scanTar, tarDirectory } from './tar';

const MAX_JSON_BLOB = 256 * 1024;
const MAX_STDERR = 64 * 1024;

export interface LocalDigests {
  manifestDigest?: string;
  platforms: PlatformDigest[];
}

export type LocalDigestsFn = (ref: string, cwd: string, timeoutMs?: number, indexDigest?: string) => Promise<LocalDigests>;

/** The tar entry of a blob: `sha256:abc…` → `blobs/sha256/abc…`. */
const blobPath = (digest: string) => `blobs/${digest.replace(':', '/')}`;

export const localImageDigests: LocalDigestsFn = async (ref, cwd, timeoutMs = DEFAULT_LONG_TIMEOUT_MS, indexDigest) => {
  const argv = imageSaveArgv(ref);
  const known = indexDigest && /^[a-z0-9]+:[a-f0-9]+$/.test(indexDigest) ? blobPath(indexDigest) : undefined;
  const scan = scanTar(
    (name, size) => name === 'index.json' || (name.startsWith('blobs/') && size <= MAX_JSON_BLOB),
    (name) => {
      if (name !== known) return;
      scan.stop();
      sub.stop();
    },
  );
  let stderr = '';
  const sub = spawnCommand(argv[0]!, argv.slice(1), {
    cwd,
    timeoutMs,
    onStdout: (chunk) => scan.write(chunk),
    onStderr: (chunk) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.toString('utf8');
    },
  });
  const ended = await sub.done;
  let unreadable: Error | undefined;
  await scan.end().catch((e: Error) => (unreadable = e));
  const indexBlob = known ? scan.entries.get(known) : undefined;
  if (indexDigest && indexBlob) {
    let parsed: Parameters<typeof indexPlatforms>[0];
    try {
      parsed = JSON.parse(indexBlob.toString('utf8')) as typeof parsed;
    } catch {
      throw new Error(`docker save ${ref}: blob ${indexDigest} is not JSON, so not the image index buildx reported`);
    }
    return { manifestDigest: indexDigest, platforms: indexPlatforms(parsed).platforms };
  }
  const failed = failureOf(`docker save ${ref}`, ended, stderr, timeoutMs);
  if (failed) throw new Error(failed);
  if (unreadable) throw new Error(`docker save ${ref}: its output is not a readable tar: ${unreadable.message}`);
  const index = scan.entries.get('index.json');
  if (!index) return { platforms: [] };
  const blobs = new Map<string, string>();
  for (const [name, data] of scan.entries) {
    const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(name);
    if (m) blobs.set(`${m[1]}:${m[2]}`, data.toString('utf8'));
  }
  return platformsFromOciLayout(index.toString('utf8'), blobs, ref);
};

/**
 * The image an OCI layout folder holds (what a content-stable build wrote): its digest and, for an
 * index, each platform's manifest digest. undefined when the layout is unreadable or its entries
 * (one per tag) name different images.
 */
export function readOciLayout(layoutPath: string): LocalDigests | undefined {
  try {
    const indexJson = readFileSync(join(layoutPath, 'index.json'), 'utf8');
    const entries = (JSON.parse(indexJson) as { manifests?: Array<{ digest?: string; mediaType?: string }> }).manifests ?? [];
    const digest = entries[0]?.digest;
    if (!digest || !/^[a-z0-9]+:[a-f0-9]+$/.test(digest) || entries.some((e) => e.digest !== digest)) return undefined;
    const blobs = new Map<string, string>();
    if (isIndexMediaType(entries[0]!.mediaType)) blobs.set(digest, readFileSync(join(layoutPath, blobPath(digest)), 'utf8'));
    return platformsFromOciLayout(indexJson, blobs);
  } catch {
    return undefined;
  }
}

/** Loads an OCI layout folder of one image into the local image store under `names`; returns why it failed, if it did. */
export type LoadLayoutFn = (layoutPath: string, names: readonly string[], cwd: string, timeoutMs?: number) => Promise<string | undefined>;

const REF_NAME = 'org.opencontainers.image.ref.name';

/** The name containerd's importer prefers to REF_NAME: it would win over a name given here. */
const CONTAINERD_NAME = 'io.containerd.image.name';

/**
 * index.json naming its one image by each of `names`, an entry per name, as `docker save` writes
 * them. BuildKit's OCI exporter names an image built with several `-t` tags in one entry, the tags
 * joined by commas (a reference never holds one), which `docker load` takes as a single name and
 * tags nothing by; and a push published from its key tag was built under that tag alone. A layout
 * of several images, no names, or not JSON: as it is.
 */
export function indexNamingEachTag(indexJson: string, names: readonly string[]): string {
  let index: { manifests?: Array<{ annotations?: Record<string, string> }> };
  try {
    index = JSON.parse(indexJson);
  } catch {
    return indexJson;
  }
  const entries = index.manifests ?? [];
  if (!names.length || entries.length !== 1) return indexJson;
  const { [CONTAINERD_NAME]: _replaced, ...annotations } = entries[0]!.annotations ?? {};
  return JSON.stringify({
    ...index,
    manifests: names.map((name) => ({ ...entries[0], annotations: { ...annotations, [REF_NAME]: name } })),
  });
}

export const loadOciLayout: LoadLayoutFn = async (layoutPath, names, cwd, timeoutMs = DEFAULT_LONG_TIMEOUT_MS) => {
  const argv = imageLoadArgv();
  let stderr = '';
  const indexJson = readFileSync(join(layoutPath, 'index.json'), 'utf8');
  const ended = await spawnCommand(argv[0]!, argv.slice(1), {
    cwd,
    timeoutMs,
    input: tarDirectory(layoutPath, { 'index.json': Buffer.from(indexNamingEachTag(indexJson, names)) }),
    onStderr: (chunk) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.toString('utf8');
    },
  }).done;
  return failureOf('docker load', ended, stderr, timeoutMs);
};

/** Why a docker command that streams did not succeed, or undefined when it did: exec's reason when it did not finish on its own. */
function failureOf(what: string, ended: SpawnedEnd, stderr: string, timeoutMs: number): string | undefined {
  const unfinished = unfinishedReason(ended, 'docker', timeoutMs, process.env.PATH);
  if (unfinished) return `${what}: ${unfinished}`;
  return ended.exitCode === 0 ? undefined : `${what} failed (exit ${ended.exitCode}): ${stderr.trim()}`;
}
