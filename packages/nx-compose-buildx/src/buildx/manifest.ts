/**
 * Pure parsers for what buildx and registries tell us about a built image: the `--metadata-file`
 * JSON, `imagetools inspect --raw` (OCI index / Docker manifest list, or one manifest), and the
 * OCI layout written by `docker save` (containerd image store).
 */
import { createHash } from 'node:crypto';
import { isValidPlatform, normalizePlatform, parsePlatform } from './platform';
import { splitImageRef } from './image-ref';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface PlatformDigest {
  platform: string;
  digest: string;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; platforms: PlatformDigest[]; attestations: string[] }
  | { kind: 'manifest'; mediaType: string; configDigest?: string };

function platformOf(d: Descriptor): string | undefined {
  const p = d.platform;
  if (!p?.os || !p.architecture) return undefined;
  const s = [p.os, p.architecture, p.variant].filter(Boolean).join('/');
  return isValidPlatform(s) ? normalizePlatform(s) : s;
}

function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown')
  );
}

/** Platform entries of an index (attestation manifests listed apart). */
export function indexPlatforms(index: { manifests?: Descriptor[] }): { platforms: PlatformDigest[]; attestations: string[] } {
  const platforms: PlatformDigest[] = [];
  const attestations: string[] = [];
  for (const d of index.manifests ?? []) {
    if (isAttestation(d)) {
      attestations.push(d.digest);
      continue;
    }
    const platform = platformOf(d);
    if (platform) platforms.push({ platform, digest: d.digest });
  }
  return { platforms, attestations };
}

/**
 * The one-entry list `docker buildx imagetools create <repo>@<manifest digest>` writes for one image
 * manifest (buildx's resolver `Combine`): the manifest's descriptor with the platform its config
 * names, normalised as containerd does; a Docker list when the manifest is Docker's, else an OCI
 * index; marshalled as Go's `json.MarshalIndent(…, "", "  ")` does. Byte for byte, so that the
 * registry API and imagetools make one digest. undefined when the config names no platform that
 * normalises as ours does (then imagetools makes it).
 */
export function oneEntryList(
  manifest: { bytes: Buffer; mediaType: string; digest: string },
  config: { os?: string; architecture?: string; variant?: string },
): { bytes: Buffer; mediaType: string; digest: string; platform: string } | undefined {
  if (manifest.mediaType !== MEDIA_TYPES.dockerManifest && manifest.mediaType !== MEDIA_TYPES.ociManifest) return undefined;
  const named = [config.os, config.architecture, config.variant].filter(Boolean).join('/');
  if (!config.os || !config.architecture || !isValidPlatform(named)) return undefined;
  const p = parsePlatform(named);
  const mediaType = manifest.mediaType === MEDIA_TYPES.dockerManifest ? MEDIA_TYPES.dockerList : MEDIA_TYPES.ociIndex;
  // Key order is Go's struct order (ocispec Index, Descriptor, Platform); empty fields are omitted.
  const list = {
    schemaVersion: 2,
    mediaType,
    manifests: [
      {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.bytes.length,
        platform: { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) },
      },
    ],
  };
  const bytes = Buffer.from(JSON.stringify(list, null, 2), 'utf8');
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  return { bytes, mediaType, digest, platform: normalizePlatform(named) };
}

/** Parses `docker buildx imagetools inspect --raw <ref>` output. */
export function parseRawManifest(text: string): ParsedManifest {
  let json: { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; schemaVersion?: number };
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`Registry answer is not JSON: ${(e as Error).message}: ${text.slice(0, 200)}`, { cause: e });
  }
  const mediaType = json.mediaType ?? (json.manifests ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
  if (Array.isArray(json.manifests)) return { kind: 'index', mediaType, ...indexPlatforms(json) };
  return { kind: 'manifest', mediaType, ...(json.config?.digest ? { configDigest: json.config.digest } : {}) };
}

/** Image config as printed by `imagetools inspect --format '{{json .Image}}'` for a single manifest. */
export function platformFromImageConfig(text: string): string | undefined {
  try {
    const c = JSON.parse(text) as { os?: string; architecture?: string; variant?: string };
    return platformOf({ digest: '', platform: c });
  } catch {
    return undefined;
  }
}

export interface BuildxMetadata {
  /** Manifest (single platform) or index (several) digest of the exported image. */
  digest?: string;
  descriptor?: Descriptor;
  configDigest?: string;
  imageName?: string;
}

/** Parses the `--metadata-file` JSON buildx writes (`containerimage.digest`, `containerimage.descriptor`…). */
export function parseBuildxMetadata(text: string): BuildxMetadata {
  const json = JSON.parse(text) as Record<string, unknown>;
  const out: BuildxMetadata = {};
  if (typeof json['containerimage.digest'] === 'string') out.digest = json['containerimage.digest'];
  const desc = json['containerimage.descriptor'];
  if (desc && typeof desc === 'object' && typeof (desc as Descriptor).digest === 'string') {
    out.descriptor = desc as Descriptor;
    out.digest ??= (desc as Descriptor).digest;
  }
  if (typeof json['containerimage.config.digest'] === 'string') out.configDigest = json['containerimage.config.digest'];
  if (typeof json['image.name'] === 'string') out.imageName = json['image.name'];
  return out;
}

/** Declared vs found platforms: what the registry lacks and what it has beyond the declaration. */
export function comparePlatforms(declared: readonly string[], found: readonly string[]): { missing: string[]; extra: string[] } {
  const d = declared.map((p) => (isValidPlatform(p) ? normalizePlatform(p) : p));
  const f = found.map((p) => (isValidPlatform(p) ? normalizePlatform(p) : p));
  return { missing: d.filter((p) => !f.includes(p)), extra: f.filter((p) => !d.includes(p)) };
}

/**
 * Per-platform digests from an OCI layout (`docker save` of a containerd-store image): `index.json`
 * names the image index (or one manifest) under `org.opencontainers.image.ref.name` /
 * `io.containerd.image.name`; `blobs` holds the small JSON blobs by digest.
 */
export function platformsFromOciLayout(
  indexJson: string,
  blobs: ReadonlyMap<string, string>,
  ref?: string,
): { manifestDigest?: string; platforms: PlatformDigest[] } {
  const top = JSON.parse(indexJson) as { manifests?: Descriptor[] };
  const entries = top.manifests ?? [];
  const named =
    (ref &&
      entries.find(
        (d) =>
          d.annotations?.['io.containerd.image.name'] === ref ||
          d.annotations?.['io.containerd.image.name'] === `docker.io/${ref}` ||
          d.annotations?.['io.containerd.image.name'] === `docker.io/library/${ref}` ||
          d.annotations?.['org.opencontainers.image.ref.name'] === (splitImageRef(ref).tag ?? 'latest'),
      )) ||
    entries[0];
  if (!named) return { platforms: [] };
  if (isIndexMediaType(named.mediaType)) {
    const blob = blobs.get(named.digest);
    if (!blob) return { manifestDigest: named.digest, platforms: [] };
    return { manifestDigest: named.digest, platforms: indexPlatforms(JSON.parse(blob)).platforms };
  }
  const platform = platformOf(named);
  return { manifestDigest: named.digest, platforms: platform ? [{ platform, digest: named.digest }] : [] };
}

/**
 * A registry's server error that a second attempt can get past: registries answer
 * 5xx under load, and distribution 2.8's filesystem driver does so when a HEAD on a
 * tag races the PUT of the same tag ("invalid checksum digest format"), which
 * buildx's multi-platform push triggers. "Connection refused" is not transient.
 */
export function isTransientRegistryError(output: string): boolean {
  return /\b50[0234] (Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)\b/.test(output);
}

/** Compressed size of one platform's image: the sum of the layer sizes its manifest lists. */
export function manifestLayersSize(text: string): number | undefined {
  try {
    const json = JSON.parse(text) as { layers?: Array<{ size?: unknown }> };
    if (!Array.isArray(json.layers)) return undefined;
    return json.layers.reduce((sum, l) => sum + (typeof l.size === 'number' ? l.size : 0), 0);
  } catch {
    return undefined;
  }
}
