/**
 * Per-platform digests of an image in the local (containerd) image store. Docker 26 has no API that
 * lists an image index's platforms (`docker image inspect` shows only the index; `--platform` and
 * `.Manifests` arrived in API 1.48+), so we stream `docker save <ref>` (an OCI layout tar) and keep
 * only `index.json` and the small JSON blobs; layer blobs are skipped as they pass. When the caller
 * knows the index's digest (buildx's metadata file names it), the index blob alone answers: the
 * stream is stopped as soon as it has passed, so most of the image is never exported.
 */
import { indexPlatforms, platformsFromOciLayout, type PlatformDigest } from '../buildx/manifest';
import { imageSaveArgv } from '../buildx/argv';
import { DEFAULT_LONG_TIMEOUT_MS, spawnCommand } from './exec';
import { TarScanner } from './tar';

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
  const scanner = new TarScanner((name, size) => name === 'index.json' || (name.startsWith('blobs/') && size <= MAX_JSON_BLOB));
  let stderr = '';
  const sub = spawnCommand(argv[0]!, argv.slice(1), {
    cwd,
    timeoutMs,
    onStdout: (chunk) => {
      scanner.push(chunk);
      if (known && scanner.entries.has(known)) sub.stop();
    },
    onStderr: (chunk) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.toString('utf8');
    },
  });
  const ended = await sub.done;
  const indexBlob = known ? scanner.entries.get(known) : undefined;
  if (indexDigest && indexBlob) {
    let parsed: Parameters<typeof indexPlatforms>[0];
    try {
      parsed = JSON.parse(indexBlob.toString('utf8')) as typeof parsed;
    } catch {
      throw new Error(`docker save ${ref}: blob ${indexDigest} is not JSON, so not the image index buildx reported`);
    }
    return { manifestDigest: indexDigest, platforms: indexPlatforms(parsed).platforms };
  }
  if (ended.timedOut) throw new Error(`docker save ${ref} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`);
  if (ended.exitCode !== 0) {
    const why = ended.exitCode === undefined ? (ended.errorMessage ?? `killed by ${ended.signal ?? 'a signal'}`) : stderr.trim();
    throw new Error(`docker save ${ref} failed (exit ${ended.exitCode ?? '-'}): ${why}`);
  }
  const index = scanner.entries.get('index.json');
  if (!index) return { platforms: [] };
  const blobs = new Map<string, string>();
  for (const [name, data] of scanner.entries) {
    const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(name);
    if (m) blobs.set(`${m[1]}:${m[2]}`, data.toString('utf8'));
  }
  return platformsFromOciLayout(index.toString('utf8'), blobs, ref);
};
