/**
 * Pushes an OCI layout folder (what a content-stable build wrote) through the registry API, in the
 * order a registry accepts it: the blobs each repository lacks (configs, layers), each platform's
 * manifest by its digest, then the layout's image (an index, or one manifest) under every tag.
 * The bytes are the layout's own, so the registry serves the layout's digests: the very image
 * buildx's republish of it pushes (buildx/argv.ts republishArgv), without a second buildx build.
 *
 * Anything the client cannot do the docker CLI's way throws RegistryFallback (registry-http.ts),
 * and so does a layout this does not read (a blob it names is missing): the caller then republishes
 * with buildx, as before.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isIndexMediaType, type Descriptor } from '../buildx/manifest';
import { repositoryOf } from '../buildx/image-ref';
import { RegistryFallback, type RegistryClient } from './registry-http';
import { slotPool } from './slot-pool';

/** Uploads at once: enough to overlap round trips, few enough not to flood a registry. */
const UPLOADS_AT_ONCE = 4;

interface LayoutManifest {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

const blobFile = (layoutPath: string, digest: string) => {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new RegistryFallback(`the layout names a blob ${digest} that is not sha256`);
  return join(layoutPath, 'blobs', 'sha256', digest.slice('sha256:'.length));
};

function readBlob(layoutPath: string, digest: string): Buffer {
  try {
    return readFileSync(blobFile(layoutPath, digest));
  } catch {
    throw new RegistryFallback(`the layout has no blob ${digest}`);
  }
}

function parseManifest(bytes: Buffer, digest: string): LayoutManifest {
  try {
    return JSON.parse(bytes.toString('utf8')) as LayoutManifest;
  } catch {
    throw new RegistryFallback(`the layout's manifest ${digest} is not JSON`);
  }
}

/** What the layout's image is made of: its top manifest, the platform manifests under it, and every blob they name. */
export interface LayoutImage {
  top: { digest: string; mediaType: string; bytes: Buffer };
  manifests: Array<{ digest: string; mediaType: string; bytes: Buffer }>;
  blobs: Array<{ digest: string; size: number }>;
}

/** Reads the layout's image (index.json's first entry; readOciLayout checked that every entry names it). */
export function readLayoutImage(layoutPath: string): LayoutImage {
  let entries: Descriptor[];
  try {
    entries = (JSON.parse(readFileSync(join(layoutPath, 'index.json'), 'utf8')) as { manifests?: Descriptor[] }).manifests ?? [];
  } catch {
    throw new RegistryFallback('the layout has no readable index.json');
  }
  const first = entries[0];
  if (!first?.digest || !first.mediaType) throw new RegistryFallback('the layout names no image');
  const top = { digest: first.digest, mediaType: first.mediaType, bytes: readBlob(layoutPath, first.digest) };
  const platformManifests = isIndexMediaType(top.mediaType)
    ? (parseManifest(top.bytes, top.digest).manifests ?? []).map((d) => {
        if (!d.mediaType) throw new RegistryFallback(`the layout's index names ${d.digest} without a media type`);
        return { digest: d.digest, mediaType: d.mediaType, bytes: readBlob(layoutPath, d.digest) };
      })
    : [];
  const blobs = new Map<string, number>();
  for (const m of platformManifests.length ? platformManifests : [top]) {
    const parsed = parseManifest(m.bytes, m.digest);
    for (const d of [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])]) {
      let size: number;
      try {
        size = statSync(blobFile(layoutPath, d.digest)).size;
      } catch {
        throw new RegistryFallback(`the layout has no blob ${d.digest}`);
      }
      blobs.set(d.digest, size);
    }
  }
  return { top, manifests: platformManifests, blobs: [...blobs].map(([digest, size]) => ({ digest, size })) };
}

/**
 * Pushes the layout's image under every tag: its digest, and how many blobs were uploaded of how
 * many it has. Each repository the tags name gets the blobs it lacks and the platform manifests
 * first, so no PUT names something missing.
 */
export async function pushOciLayout(
  client: RegistryClient,
  layoutPath: string,
  tags: readonly string[],
): Promise<{ digest: string; uploaded: number; blobs: number }> {
  if (!tags.length) throw new RegistryFallback('no tag to push the layout under');
  const image = readLayoutImage(layoutPath);
  const upload = slotPool(UPLOADS_AT_ONCE);
  const repositories = [...new Set(tags.map((t) => repositoryOf(t)))];
  let uploaded = 0;
  await Promise.all(
    repositories.map(async (repository) => {
      const ref = tags.find((t) => repositoryOf(t) === repository)!;
      await Promise.all(
        image.blobs.map(({ digest, size }) =>
          upload(async () => {
            if (await client.hasBlob(ref, digest)) return;
            await client.putBlob(ref, digest, size, () => createReadStream(blobFile(layoutPath, digest)));
            uploaded++;
          }),
        ),
      );
      for (const m of image.manifests) await client.putManifest(`${repository}@${m.digest}`, m);
    }),
  );
  for (const tag of tags) {
    const digest = await client.putManifest(tag, image.top);
    if (digest !== image.top.digest) throw new RegistryFallback(`${tag} was stored as ${digest}, not ${image.top.digest}`);
  }
  return { digest: image.top.digest, uploaded, blobs: image.blobs.length * repositories.length };
}
