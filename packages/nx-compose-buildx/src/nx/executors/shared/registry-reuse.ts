/**
 * The registry as the cache. Before docker-push builds, it looks for an image that an earlier run
 * built from exactly the same inputs, by a content key, in the registry the service pushes to:
 *
 *   key  = the content key (content-key.ts): a hash of the build options, the Dockerfile, the
 *          files each context sends and the digests of the images it builds on
 *   tag  = <repository of the service's first tag>:nxcb-<key>
 *   label dev.nx-compose-buildx.content-key=<key> in every platform's image config
 *
 * The key holds no secret value (build secrets are passed by id and source, never as values), and
 * it is a hash, so nothing can be read back from a tag.
 *
 * A hit is trusted only when the image's own label carries the key (a tag someone moved is not),
 * and it is then tagged under every tag with `imagetools create`: no build, no layer transfer.
 * Read-only runs (pull requests) look keys up but never write one.
 */
import { imagetoolsCreateArgv, imagetoolsInspectArgv } from '../../../buildx/argv';
import { registryLocation, repositoryOf } from '../../../buildx/image-ref';
import {
  indexPlatforms,
  isIndexMediaType,
  manifestLayersSize,
  oneEntryList,
  parseRawManifest,
  type Descriptor,
  type PlatformDigest,
} from '../../../buildx/manifest';
import { displayCommand } from '../../../run/exec';
import { RegistryFallback, type Manifest, type RegistryClient } from '../../../run/registry-http';
import type { ExecutorDeps } from './deps';
import { USE_CLI, viaRegistryApi } from './registry';

export const CONTENT_KEY_LABEL = 'dev.nx-compose-buildx.content-key';
/**
 * The digests of the images the build was made on (image ref → digest, JSON), beside the key: the
 * key is a hash, so this is what lets docker-explain say that an external base tag moved.
 */
export const BASES_LABEL = 'dev.nx-compose-buildx.bases';

/** The BASES_LABEL value for these base digests, sorted so that it never varies with the order found. */
export function basesLabel(bases: Record<string, string>): string | undefined {
  const sorted = Object.entries(bases).sort(([a], [b]) => (a < b ? -1 : 1));
  return sorted.length ? JSON.stringify(Object.fromEntries(sorted)) : undefined;
}

/** The bases whose digest differs between a BASES_LABEL value and the digests found now (unparsable: none). */
export function movedBases(label: string | undefined, now: Record<string, string>): Array<{ image: string; was: string; now: string }> {
  let was: unknown;
  try {
    was = label ? JSON.parse(label) : undefined;
  } catch {
    return [];
  }
  if (!was || typeof was !== 'object') return [];
  return Object.entries(now)
    .filter(([ref, digest]) => typeof (was as Record<string, unknown>)[ref] === 'string' && (was as Record<string, string>)[ref] !== digest)
    .map(([ref, digest]) => ({ image: ref, was: (was as Record<string, string>)[ref]!, now: digest }))
    .sort((a, b) => (a.image < b.image ? -1 : 1));
}
export const REUSE_ENV = 'NX_COMPOSE_BUILDX_REUSE';
const KEY_TAG_PREFIX = 'nxcb-';

type Env = Record<string, string | undefined>;

/**
 * docker-push: on unless the option or NX_COMPOSE_BUILDX_REUSE=false|0|no turns it off (the
 * variable wins, for one run). docker-build (`byDefault` false): off unless the option or the
 * variable turns it on.
 */
export function isReuseEnabled(option: boolean | undefined, env: Env, byDefault = true): boolean {
  const fromEnv = env[REUSE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return !/^(0|false|no|off)$/i.test(fromEnv);
  return option ?? byDefault;
}

/** Where the key lives: a tag in the repository of the service's first tag. */
export function keyTag(firstTag: string, key: string): string {
  return `${repositoryOf(firstTag)}:${KEY_TAG_PREFIX}${key}`;
}

/** What `imagetools inspect --format` prints for the key tag: the descriptor and the image config(s). */
export const KEY_IMAGE_FORMAT = '{"manifest":{{json .Manifest}},"image":{{json .Image}}}';

export interface KeyImage {
  /** Digest of the index (several platforms) or of the one manifest. */
  digest: string;
  platforms: PlatformDigest[];
  /** The image config's `created` (the SOURCE_DATE_EPOCH it was built with), when every platform has the same. */
  created?: string;
  /** Read through the registry API: the index as served (so tagging it needs no second read), and each platform's compressed size. */
  index?: Pick<Manifest, 'bytes' | 'mediaType'>;
  sizes?: Record<string, number>;
}

interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: { Labels?: Record<string, string> | null };
}

/**
 * Parses the inspect output and applies the trust rules: every platform's config carries the
 * key, and the image holds at least the declared platforms. Returns why not, or the image.
 */
export function trustedKeyImage(text: string, key: string, declared: readonly string[]): { image: KeyImage } | { reason: string } {
  let parsed: InspectedKeyImage;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { reason: 'the registry answer is not JSON' };
  }
  return trustedInspected(parsed, key, declared);
}

/** What `imagetools inspect --format KEY_IMAGE_FORMAT` prints, parsed: for an index, `image` maps each platform to its config. */
interface InspectedKeyImage {
  manifest?: { digest?: string; manifests?: Descriptor[] };
  image?: unknown;
  /** Through the registry API only: what KeyImage's `index` and `sizes` say. */
  index?: Pick<Manifest, 'bytes' | 'mediaType'>;
  sizes?: Record<string, number>;
}

function trustedInspected(parsed: InspectedKeyImage, key: string, declared: readonly string[]): { image: KeyImage } | { reason: string } {
  const digest = parsed.manifest?.digest;
  if (!digest) return { reason: 'the registry gave no digest' };
  const isIndex = Array.isArray(parsed.manifest?.manifests);
  const configs = imageConfigs(parsed.image);
  if (!configs.length) return { reason: 'no image config' };
  for (const [platform, config] of configs) {
    if (config?.config?.Labels?.[CONTENT_KEY_LABEL] !== key)
      return { reason: `the ${platform || 'image'} config does not carry this key (the tag was moved)` };
  }
  const platforms = isIndex ? indexPlatforms(parsed.manifest as { manifests: never[] }).platforms : [{ platform: configs[0]![0], digest }];
  const have = new Set(platforms.map((p) => p.platform));
  const missing = declared.filter((p) => !have.has(p));
  if (missing.length) return { reason: `it lacks ${missing.join(', ')}` };
  const created = [...new Set(configs.map(([, c]) => c?.created))];
  return {
    image: {
      digest,
      platforms,
      ...(created.length === 1 && created[0] ? { created: created[0] } : {}),
      ...(parsed.index ? { index: parsed.index } : {}),
      ...(parsed.sizes ? { sizes: parsed.sizes } : {}),
    },
  };
}

/**
 * One label of an image as `imagetools inspect --format '{{json .Image}}'` prints it: one config
 * for a manifest, platform → config for an index (the first platform's value that has it).
 */
export function inspectedImageLabel(text: string, label: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return imageConfigLabel(parsed, label);
}

/** The same, of the parsed `.Image`. */
function imageConfigLabel(parsed: unknown, label: string): string | undefined {
  for (const [, c] of imageConfigs(parsed)) {
    const value = c?.config?.Labels?.[label];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * `.Image` as `imagetools inspect` prints it, as [platform, config] pairs: one config for a
 * manifest and for an index of one platform image (a one-entry list), platform → config for an
 * index of several.
 */
function imageConfigs(image: unknown): Array<[string, ImageConfig]> {
  if (!image || typeof image !== 'object') return [];
  if ('config' in image || 'architecture' in image) return [[platformOfConfig(image as ImageConfig), image as ImageConfig]];
  return Object.entries(image as Record<string, ImageConfig>);
}

function platformOfConfig(c: ImageConfig | undefined): string {
  if (!c?.os || !c.architecture) return '';
  return [c.os, c.architecture, c.variant].filter(Boolean).join('/');
}

const configOf = async (client: RegistryClient, source: string, manifest: Buffer): Promise<ImageConfig> => {
  const parsed = parseRawManifest(manifest.toString('utf8'));
  if (parsed.kind !== 'manifest' || !parsed.configDigest) throw new RegistryFallback(`${source}: not an image manifest`);
  return JSON.parse((await client.getBlob(source, parsed.configDigest)).toString('utf8')) as ImageConfig;
};

/**
 * What `imagetools inspect --format KEY_IMAGE_FORMAT` gives, through the registry API: the
 * descriptor, and the config of the one manifest or of each platform of the index (attestation
 * manifests have no platform image). undefined when the registry has no such tag.
 */
async function inspectKeyImage(ref: string, client: RegistryClient): Promise<InspectedKeyImage | undefined> {
  const top = await client.getManifest(ref);
  if (!top) return undefined;
  const repo = repositoryOf(ref);
  const json = JSON.parse(top.bytes.toString('utf8')) as { manifests?: Descriptor[] };
  if (!isIndexMediaType(top.mediaType)) return { manifest: { digest: top.digest }, image: await configOf(client, ref, top.bytes) };
  const entries = indexPlatforms(json).platforms;
  const sizes: Record<string, number> = {};
  const configs = await Promise.all(
    entries.map(async (p) => {
      const source = `${repo}@${p.digest}`;
      const m = await client.getManifest(source);
      if (!m) throw new RegistryFallback(`${source}: listed in ${ref} but not served`);
      const size = manifestLayersSize(m.bytes.toString('utf8'));
      if (size !== undefined) sizes[p.platform] = size;
      return [p.platform, await configOf(client, source, m.bytes)] as const;
    }),
  );
  return {
    manifest: { digest: top.digest, manifests: json.manifests ?? [] },
    image: Object.fromEntries(configs),
    index: { bytes: top.bytes, mediaType: top.mediaType },
    sizes,
  };
}

/**
 * One label of the image a tag serves (the first platform's config that has it), through the
 * registry API or else `imagetools inspect`; undefined when the tag or the label is absent.
 */
export async function servedImageLabel(
  ref: string,
  label: string,
  root: string,
  deps: ExecutorDeps,
  builder?: string,
): Promise<string | undefined> {
  const fast = await viaRegistryApi(deps, (client) => inspectKeyImage(ref, client));
  if (fast !== USE_CLI) return fast ? imageConfigLabel(fast.image, label) : undefined;
  const r = await deps.run(imagetoolsInspectArgv(ref, { raw: false, format: '{{json .Image}}', ...(builder ? { builder } : {}) }), {
    cwd: root,
  });
  return r.exitCode === 0 ? inspectedImageLabel(r.stdout, label) : undefined;
}

/** Looks the key up (read only): the trusted image, or why there is none. docker-explain reports the reason. */
export async function lookupKeyImage(
  ref: string,
  key: string,
  declared: readonly string[],
  root: string,
  deps: ExecutorDeps,
  builder?: string,
): Promise<{ image: KeyImage } | { miss: string }> {
  const fast = await viaRegistryApi(deps, (client) => inspectKeyImage(ref, client));
  if (fast !== USE_CLI) {
    if (!fast) return { miss: 'no image with this key' };
    const trusted = trustedInspected(fast, key, declared);
    return 'reason' in trusted ? { miss: `not trusted, ${trusted.reason}` } : trusted;
  }
  const r = await deps.run(imagetoolsInspectArgv(ref, { raw: false, format: KEY_IMAGE_FORMAT, ...(builder ? { builder } : {}) }), {
    cwd: root,
  });
  if (r.exitCode !== 0) {
    const why = /not found|manifest unknown|404/i.test(`${r.stderr}${r.stdout}`)
      ? 'no image with this key'
      : `cannot read it (${(r.stderr || r.stdout).trim().split('\n')[0]})`;
    return { miss: why };
  }
  const trusted = trustedKeyImage(r.stdout, key, declared);
  return 'reason' in trusted ? { miss: `not trusted, ${trusted.reason}` } : trusted;
}

/** Looks the key up; undefined on a miss (no such tag, or one that is not trusted). */
export async function findReusable(
  ref: string,
  key: string,
  declared: readonly string[],
  root: string,
  deps: ExecutorDeps,
  logTag: string,
  builder?: string,
): Promise<KeyImage | undefined> {
  const found = await lookupKeyImage(ref, key, declared, root, deps, builder);
  if ('miss' in found) {
    deps.log(`${logTag} registry cache miss: ${ref}: ${found.miss}`);
    return undefined;
  }
  return found.image;
}

/** Same registry host and repository path (docker's normalisation), so a manifest put there needs no blob copied. */
function sameRepository(a: string, b: string): boolean {
  const x = registryLocation(a);
  const y = registryLocation(b);
  return x.host === y.host && x.path === y.path;
}

/**
 * How `retag` went: failed (why), or done, through the registry API (every PUT answered with the
 * list's digest: the registry's own word that each tag serves it) or by `imagetools create`.
 * `listed`: the one-entry list the API made of one manifest (its digest; that manifest's platform and
 * compressed size).
 */
export type RetagOutcome =
  { failed: string } | { via: 'cli' } | { via: 'api'; listed?: { digest: string; platform: string; bytes?: number } };

/**
 * `source@digest` under every tag, as `imagetools create` with that one source does, through the
 * registry API where every tag is in the source's repository: an index's exact bytes (buildx
 * returns a single index source unchanged; with `index`, the bytes already read: no second read),
 * or for one manifest the one-entry list imagetools would write of it, byte for byte
 * (`oneEntryList`). Anything else (another repository, whose blobs imagetools copies; a platform
 * we cannot normalise as containerd does) is left to `imagetools create`.
 */
export async function retag(
  tags: readonly string[],
  source: string,
  digest: string,
  root: string,
  deps: ExecutorDeps,
  logTag: string,
  builder?: string,
  index?: Pick<Manifest, 'bytes' | 'mediaType'>,
): Promise<RetagOutcome> {
  const from = `${repositoryOf(source)}@${digest}`;
  if (tags.every((t) => sameRepository(t, source))) {
    const fast = await viaRegistryApi(deps, async (client) => {
      const m = index ?? (await client.getManifest(from));
      if (!m) return USE_CLI;
      if (isIndexMediaType(m.mediaType)) {
        deps.log(`${logTag} tagging ${from} as ${tags.join(', ')} (the same index under each tag, through the registry API)`);
        for (const t of tags)
          if ((await client.putManifest(t, m)) !== digest) throw new RegistryFallback(`${from}: not the bytes of ${digest}`);
        return { via: 'api' as const };
      }
      const list = oneEntryList({ ...m, digest }, await configOf(client, from, m.bytes));
      if (!list) return USE_CLI;
      deps.log(
        `${logTag} listing ${from} as ${tags.join(', ')} (${list.digest.slice(0, 19)}: the one-entry list imagetools makes, through the registry API)`,
      );
      for (const t of tags)
        if ((await client.putManifest(t, list)) !== list.digest) throw new RegistryFallback(`${t}: not the bytes of ${list.digest}`);
      const bytes = manifestLayersSize(m.bytes.toString('utf8'));
      return { via: 'api' as const, listed: { digest: list.digest, platform: list.platform, ...(bytes !== undefined ? { bytes } : {}) } };
    });
    if (fast !== USE_CLI) return fast;
  }
  const argv = retagArgv(tags, source, digest, builder);
  deps.log(`${logTag} ${displayCommand(argv)}`);
  const r = await deps.run(argv, { cwd: root });
  return r.exitCode === 0 ? { via: 'cli' } : { failed: (r.stderr || r.stdout).trim().split('\n')[0] || `exit ${r.exitCode}` };
}

/** On a hit: the found image under every tag, by digest (the registry copies no layer). */
export function retagArgv(tags: readonly string[], ref: string, digest: string, builder?: string): string[] {
  return imagetoolsCreateArgv(tags, [`${repositoryOf(ref)}@${digest}`], builder ? { builder } : {});
}
