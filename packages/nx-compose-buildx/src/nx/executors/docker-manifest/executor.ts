import type { ExecutorContext } from '@nx/devkit';
import { imagetoolsCreateArgv } from '../../../buildx/argv';
import { repositoryOf } from '../../../buildx/image-ref';
import { generateTags } from '../../../buildx/tags';
import { commandTimeouts, displayCommand } from '../../../run/exec';
import { ensureBuilder } from '../shared/builder';
import { defaultDeps, withTimeouts, type ExecutorDeps } from '../shared/deps';
import { defaultMetadataFile } from '../shared/options';
import { registryImage } from '../shared/registry';
import { confirmPushed, writeMetadata, type ImageMetadata } from '../shared/build-record';
import type { DockerManifestExecutorSchema } from './schema';

/** Run-time tags from git for the manifest list (never for one platform's image); none outside a git checkout. */
async function generatedTags(options: DockerManifestExecutorSchema, root: string, deps: ExecutorDeps): Promise<string[]> {
  if (!options.generatedTags?.length) return [];
  const facts = await deps.gitFacts(root).catch(() => undefined);
  return facts ? generateTags(options.generatedTags, facts, options.tags) : [];
}

/**
 * docker-manifest (the docker-push of a service built per platform): reads the digest of each
 * platform's pushed image, assembles one manifest list under every tag from those digests with
 * `docker buildx imagetools create`, then confirms every platform under every tag, as docker-push does.
 */
export async function dockerManifest(
  options: DockerManifestExecutorSchema,
  context: ExecutorContext,
  given: ExecutorDeps = defaultDeps(),
): Promise<{ success: boolean; metadata?: ImageMetadata }> {
  const tag = `[${options.service}]`;
  const deps = given;
  const fail = (message: string) => {
    deps.log(`${tag} ${message}`);
    return { success: false };
  };
  try {
    const timeouts = commandTimeouts(given.env);
    const bounded = withTimeouts(given, timeouts);
    const root = context.root;
    const platforms = Object.keys(options.platformImages);
    const tags = [...options.tags, ...(await generatedTags(options, root, deps))];
    if (!tags.length) return fail('docker-push needs at least one tag (compose image: or build.tags).');
    if (!platforms.length) return fail('no platform images to assemble.');
    const dryRun = options.dryRun ?? false;
    const builder = await ensureBuilder(options.builder, root, bounded, dryRun);
    const bx = builder.name ? { builder: builder.name } : {};

    if (dryRun) {
      for (const ref of Object.values(options.platformImages)) deps.log(`[dry-run] docker buildx imagetools inspect --raw ${ref}`);
      const sources = Object.values(options.platformImages).map((ref) => `${repositoryOf(ref)}@<digest of ${ref}>`);
      deps.log(`[dry-run] ${displayCommand(imagetoolsCreateArgv(tags, sources, bx))}`);
      return { success: true };
    }

    const digests: Record<string, string> = {};
    for (const [platform, ref] of Object.entries(options.platformImages)) {
      const image = await registryImage(ref, root, bounded, builder.name);
      const digest = image.kind === 'manifest' ? image.digest : image.platforms.find((p) => p.platform === platform)?.digest;
      if (!digest) return fail(`${ref} does not hold ${platform} (has ${image.platforms.map((p) => p.platform).join(', ') || 'nothing'}).`);
      digests[platform] = digest;
    }
    const sources = Object.entries(options.platformImages).map(([platform, ref]) => `${repositoryOf(ref)}@${digests[platform]}`);
    const argv = imagetoolsCreateArgv(tags, sources, bx);
    deps.log(`${tag} ${displayCommand(argv)}`);
    const r = await deps.run(argv, { cwd: root, stream: true, timeoutMs: timeouts.long }); // copies blobs between repositories
    if (r.exitCode !== 0) return fail(`docker buildx imagetools create failed (exit ${r.exitCode})${r.failure ? `: ${r.failure}` : ''}`);

    const metadata: ImageMetadata = {
      service: options.service,
      tags,
      platforms: Object.fromEntries(platforms.map((p) => [p, {}])),
      pushed: false,
      loaded: false,
    };
    const error = await confirmPushed(options.service, tags, platforms, metadata, root, bounded, builder.name);
    if (error) return fail(error);
    const moved = platforms.filter((p) => metadata.platforms[p]?.digest !== digests[p]);
    if (moved.length) return fail(`the manifest list does not point at the pushed images for ${moved.join(', ')}.`);
    metadata.pushed = true;
    const file = options.metadataFile ?? defaultMetadataFile(options.service, 'push');
    writeMetadata(root, file, metadata);
    deps.log(`${tag} assembled ${tags.join(', ')}: ${platforms.map((p) => `${p} ${digests[p]!.slice(0, 19)}`).join(', ')} → ${file}`);
    return { success: true, metadata };
  } catch (e) {
    return fail(`docker-push: ${(e as Error).message}`);
  }
}

export default async function dockerManifestExecutor(
  options: DockerManifestExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await dockerManifest(options, context);
  return { success };
}
