/**
 * What a registry serves for a reference: per-platform manifest digests. Asked of the registry API
 * in-process (run/registry-http.ts) and, when that cannot answer as the CLI would, of
 * `docker buildx imagetools inspect`: the same answer either way.
 */
import { createHash } from 'node:crypto';
import { imagetoolsInspectArgv } from '../../../buildx/argv';
import { parseRawManifest, platformFromImageConfig, type PlatformDigest } from '../../../buildx/manifest';
import { repositoryOf } from '../../../buildx/image-ref';
import { failureText } from '../../../run/exec';
import { RegistryFallback, type RegistryClient } from '../../../run/registry-http';
import type { ExecutorDeps } from './deps';

/** Marks "ask the docker CLI instead" (no registry client, or it could not answer as the CLI would). */
export const USE_CLI = Symbol('use the docker CLI');

const fallbacksSeen = new Set<string>();

/**
 * `fast(client)` through the in-process registry client, or USE_CLI when it throws (said once per
 * reason; the client's messages name no credential).
 */
export async function viaRegistryApi<T>(
  deps: Pick<ExecutorDeps, 'registry' | 'log'>,
  fast: (client: RegistryClient) => Promise<T>,
): Promise<T | typeof USE_CLI> {
  if (!deps.registry) return USE_CLI;
  try {
    return await fast(deps.registry);
  } catch (e) {
    // Anything unexpected, not only what the client names, is left to the CLI.
    const why = e instanceof RegistryFallback ? e.message : `${(e as Error).name}: ${(e as Error).message.split('\n')[0]!.slice(0, 120)}`;
    if (!fallbacksSeen.has(why)) {
      fallbacksSeen.add(why);
      deps.log(`registry API: ${why}; asking docker buildx imagetools instead`);
    }
    return USE_CLI;
  }
}

/** The platform an image config names (`os/arch[/variant]`), read from the registry by its digest. */
async function configPlatform(client: RegistryClient, ref: string, configDigest: string | undefined): Promise<string | undefined> {
  if (!configDigest) return undefined;
  return platformFromImageConfig((await client.getBlob(ref, configDigest)).toString('utf8'));
}

async function registryImageViaApi(ref: string, client: RegistryClient): Promise<RegistryImage> {
  const m = await client.getManifest(ref);
  if (!m) throw new RegistryFallback(`${ref}: not found`); // the CLI's own error is the one to report
  const parsed = parseRawManifest(m.bytes.toString('utf8'));
  if (parsed.kind === 'index') return { kind: 'index', digest: m.digest, platforms: parsed.platforms };
  const platform = await configPlatform(client, `${repositoryOf(ref)}@${m.digest}`, parsed.configDigest);
  return { kind: 'manifest', digest: m.digest, platforms: platform ? [{ platform, digest: m.digest }] : [] };
}

export interface RegistryImage {
  kind: 'index' | 'manifest';
  /** Digest of what the tag points to (the index, or the one manifest), when known. */
  digest?: string;
  platforms: PlatformDigest[];
}

/** Template for a single (non-index) manifest: its descriptor and its config's platform fields. */
export const SINGLE_MANIFEST_FORMAT = '{"manifest":{{json .Manifest}},"image":{{json .Image}}}';

export async function registryImage(ref: string, cwd: string, deps: ExecutorDeps, builder?: string): Promise<RegistryImage> {
  const fast = await viaRegistryApi(deps, (client) => registryImageViaApi(ref, client));
  if (fast !== USE_CLI) return fast;
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

/** Answers a digest lookup once per reference: `lookup` runs for the first ask, later asks share its answer. */
export type ExternalDigests = (ref: string, lookup: () => Promise<string | undefined>) => Promise<string | undefined>;

/**
 * For a batch: the images its services build on that none of them pushes (an external base such as
 * `node:20`, named by fifty Dockerfiles) are looked up once. An image in a repository the batch
 * pushes to is asked every time: a task that builds on it runs after the one that pushed it. An
 * answer of "none" is not kept, so a lookup that failed is tried again.
 */
export function externalDigestsExcept(pushedRepositories: ReadonlySet<string>): ExternalDigests {
  const answers = new Map<string, Promise<string | undefined>>();
  return (ref, lookup) => {
    if (pushedRepositories.has(repositoryOf(ref))) return lookup();
    let answer = answers.get(ref);
    if (!answer) {
      answer = lookup();
      answers.set(ref, answer);
      void answer.then(
        (digest) => digest ?? answers.delete(ref),
        () => answers.delete(ref),
      );
    }
    return answer;
  };
}
