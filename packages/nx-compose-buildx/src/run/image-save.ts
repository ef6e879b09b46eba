/**
 * Per-platform digests of an image in the local (containerd) image store. Docker 26 has no API that
 * lists an image index's platforms (`docker image inspect` shows only the index; `--platform` and
 * `.Manifests` arrived in API 1.48+), so we stream `docker save <ref>` (an OCI layout tar) and keep
 * only `index.json` and the small JSON blobs; layer blobs are skipped as they pass.
 */
import { platformsFromOciLayout, type PlatformDigest } from '../buildx/manifest';
import { imageSaveArgv } from '../buildx/argv';
import { DEFAULT_LONG_TIMEOUT_MS } from './exec';
import { TarScanner } from './tar';

const MAX_JSON_BLOB = 256 * 1024;

export interface LocalDigests {
  manifestDigest?: string;
  platforms: PlatformDigest[];
}

export type LocalDigestsFn = (ref: string, cwd: string, timeoutMs?: number) => Promise<LocalDigests>;

export const localImageDigests: LocalDigestsFn = async (ref, cwd, timeoutMs = DEFAULT_LONG_TIMEOUT_MS) => {
  const { execa } = await import('execa');
  const argv = imageSaveArgv(ref);
  const scanner = new TarScanner((name, size) => name === 'index.json' || (name.startsWith('blobs/') && size <= MAX_JSON_BLOB));
  const sub = execa(argv[0]!, argv.slice(1), {
    cwd,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    reject: false,
    encoding: 'buffer',
    timeout: timeoutMs,
    forceKillAfterDelay: 5000,
  });
  sub.stdout?.on('data', (chunk: Uint8Array) => scanner.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  const result = await sub;
  if (result.timedOut) throw new Error(`docker save ${ref} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`);
  if (result.exitCode !== 0) {
    const raw: unknown = result.stderr;
    const err = raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : String(raw ?? '');
    throw new Error(`docker save ${ref} failed (exit ${result.exitCode}): ${err.trim()}`);
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
