/** Reads the local registry's HTTP API directly: what is really there, not what Nx says. */
import { registryLocation, splitImageRef } from '../../packages/nx-compose-buildx/src/buildx/image-ref';

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Where a reference lives in the registry: read with the plugin's one image-reference parser. */
function locate(ref: string): { registry: string; repository: string; tag: string } {
  const { host, path } = registryLocation(ref);
  return { registry: host, repository: path, tag: splitImageRef(ref).tag ?? 'latest' };
}

async function manifest(ref: string): Promise<{ digest: string; body: { manifests?: unknown } } | undefined> {
  const { registry, repository, tag } = locate(ref);
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, { headers: { Accept: ACCEPT } });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`registry answered ${response.status} for ${ref}`);
  return { digest: response.headers.get('docker-content-digest') ?? '', body: await response.json() };
}

/** The manifest-list digest a tag points at, or undefined when the tag is absent. */
export async function tagDigest(ref: string): Promise<string | undefined> {
  return (await manifest(ref))?.digest;
}

/** Platforms of the manifest list a tag points at ("os/arch[/variant]"), attestation entries left out. */
export async function indexPlatforms(ref: string): Promise<string[]> {
  const found = await manifest(ref);
  if (!found) throw new Error(`${ref} is not in the registry`);
  const list = found.body.manifests as Array<{ platform?: { os: string; architecture: string; variant?: string } }> | undefined;
  if (!list) throw new Error(`${ref} is a single-platform manifest, not a manifest list`);
  return list
    .map((m) => m.platform)
    .filter((p): p is { os: string; architecture: string; variant?: string } => !!p && p.os !== 'unknown')
    .map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join('/'))
    .sort();
}

/** Platform → manifest digest of each entry of the manifest list a tag points at (attestations left out). */
export async function indexDigests(ref: string): Promise<Record<string, string>> {
  const found = await manifest(ref);
  if (!found) throw new Error(`${ref} is not in the registry`);
  const list = found.body.manifests as
    Array<{ digest: string; platform?: { os: string; architecture: string; variant?: string } }> | undefined;
  if (!list) throw new Error(`${ref} is a single-platform manifest, not a manifest list`);
  const out: Record<string, string> = {};
  for (const m of list) {
    if (m.platform && m.platform.os !== 'unknown')
      out[[m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/')] = m.digest;
  }
  return out;
}

/** Every tag of a repository ("127.0.0.1:5000/ns/repo"), sorted; [] when it has none. */
export async function listTags(repository: string): Promise<string[]> {
  const { host, path } = registryLocation(repository);
  const response = await fetch(`http://${host}/v2/${path}/tags/list`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`registry answered ${response.status} for the tags of ${repository}`);
  return (((await response.json()) as { tags?: string[] | null }).tags ?? []).sort();
}

/** Deletes the manifest a tag points at (and so every tag of that digest), as a registry admin would. */
export async function deleteImage(ref: string): Promise<void> {
  const { registry, repository } = locate(ref);
  const digest = await tagDigest(ref);
  if (!digest) throw new Error(`${ref} is not in the registry`);
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
  if (response.status !== 202) throw new Error(`registry answered ${response.status} to deleting ${ref}`);
}

/**
 * The manifest digest of one platform's image under a tag: the tag's own digest for a plain
 * manifest, the entry's for an index (docker-push publishes one-platform images as one-entry indexes).
 */
export async function platformManifestDigest(ref: string, platform: string): Promise<string | undefined> {
  const found = await manifest(ref);
  if (!found) return undefined;
  if (!Array.isArray(found.body.manifests)) return found.digest;
  return (await indexDigests(ref))[platform];
}
