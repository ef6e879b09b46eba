import type { ExecutorContext } from '@nx/devkit';
import { imagetoolsCreateArgv } from '../../../buildx/argv';
import { manifestListTags, runListTask, type ListTaskResult } from '../shared/manifest-list';
import { platformRestriction } from '../../native-leg';
import { repositoryOf } from '../../../buildx/image-ref';
import { displayCommand } from '../../../run/exec';
import { ensureBuilder } from '../shared/builder';
import { defaultDeps, type ExecutorDeps } from '../shared/deps';
import { registryImage } from '../shared/registry';
import type { DockerManifestExecutorSchema } from './schema';

/**
 * docker-manifest (the docker-push of a service built per platform): reads the digest of each
 * platform's pushed image, assembles one manifest list under every tag from those digests with
 * `docker buildx imagetools create`, then confirms every platform under every tag, as docker-push does.
 */
export async function dockerManifest(
  options: DockerManifestExecutorSchema,
  context: ExecutorContext,
  given: ExecutorDeps = defaultDeps(),
): Promise<ListTaskResult> {
  const deps = given;
  const root = context.root;
  return runListTask(options, root, deps, 'docker-push', async ({ tag, fail, bounded, publish }) => {
    const restriction = platformRestriction(undefined, deps.env);
    if (restriction) {
      deps.log(
        `${tag} docker-push: a run restricted to ${restriction.join(', ')} pushes platform images only; docker-merge assembles the manifest list`,
      );
      return { success: true };
    }
    const platforms = Object.keys(options.platformImages);
    // Run-time tags from git go on the manifest list, never on one platform's image.
    const tags = await manifestListTags(options, root, deps);
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
    const sources = Object.fromEntries(
      Object.entries(options.platformImages).map(([platform, ref]) => [platform, `${repositoryOf(ref)}@${digests[platform]}`]),
    );
    return publish(tags, sources, builder.name);
  });
}

export default async function dockerManifestExecutor(
  options: DockerManifestExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await dockerManifest(options, context);
  return { success };
}
