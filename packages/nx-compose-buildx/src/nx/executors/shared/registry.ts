/** What a registry serves for a reference: per-platform manifest digests, via `buildx imagetools inspect`. */
import { createHash } from 'node:crypto';
import { imagetoolsInspectArgv } from '../../../buildx/argv';
import { parseRawManifest, platformFromImageConfig, type PlatformDigest } from '../../../buildx/manifest';
import { failureText } from '../../../run/exec';
import type { ExecutorDeps } from './deps';

export interface RegistryImage {
  kind: 'index' | 'manifest';
  /** Digest of what the tag points to (the index, or the one manifest), when known. */
  digest?: string;
  platforms: PlatformDigest[];
}

/** Template for a single (non-index) manifest: its descriptor and its config's platform fields. */
export const SINGLE_MANIFEST_FORMAT = '{"manifest":{{json .Manifest}},"image":{{json .Image}}}';

export async function registryImage(ref: string, cwd: string, deps: ExecutorDeps, builder?: string): Promise<RegistryImage> {
  const r = await deps.run(imagetoolsInspectArgv(ref, { ...(builder ? { builder } : {}) }), { cwd });
  if (r.exitCode !== 0) throw new Error(`Cannot read ${ref} from its registry: ${failureText(r)}`);
  const parsed = parseRawManifest(r.stdout);
  // `--raw` prints the registry's bytes unchanged (no newline added), so their hash is the digest.
  if (parsed.kind === 'index')
    return { kind: 'index', digest: `sha256:${createHash('sha256').update(r.stdout, 'utf8').digest('hex')}`, platforms: parsed.platforms };

  // One manifest (single-platform push): the platform lives in the image config.
  const f = await deps.run(imagetoolsInspectArgv(ref, { raw: false, format: SINGLE_MANIFEST_FORMAT, ...(builder ? { builder } : {}) }), {
    cwd,
  });
  if (f.exitCode !== 0) throw new Error(`Cannot read the image config of ${ref}: ${failureText(f)}`);
  let digest: string | undefined;
  let platform: string | undefined;
  try {
    const j = JSON.parse(f.stdout) as { manifest?: { digest?: string }; image?: unknown };
    digest = j.manifest?.digest;
    platform = platformFromImageConfig(JSON.stringify(j.image ?? {}));
  } catch {
    // fall through: no platform known
  }
  return {
    kind: 'manifest',
    ...(digest ? { digest } : {}),
    platforms: platform && digest ? [{ platform, digest }] : platform ? [{ platform, digest: '' }] : [],
  };
}
