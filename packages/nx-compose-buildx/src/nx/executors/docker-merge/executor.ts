import type { ExecutorContext } from '@nx/devkit';
import { imagetoolsCreateArgv } from '../../../buildx/argv';
import { displayCommand } from '../../../run/exec';
import { ensureBuilder } from '../shared/builder';
import { defaultDeps, type ExecutorDeps } from '../shared/deps';
import { manifestListTags, runListTask, type ListTaskResult } from '../shared/manifest-list';
import { coverage, digestFileName, digestsDirOf, readDigestRecords, PLATFORMS_ENV } from '../../native-leg';
import type { DockerMergeExecutorSchema } from './schema';

/**
 * docker-merge: the merge job after native runners' legs. Reads this project's digest files
 * (`<digestsDir>/<project>/<platform>.json`, one per platform a leg pushed or found in the registry
 * cache), fails naming every declared platform no file covers, then assembles the manifest list under
 * every tag from those digests and confirms it as docker-push does (manifest-list.ts).
 */
export async function dockerMerge(
  options: DockerMergeExecutorSchema,
  context: ExecutorContext,
  given: ExecutorDeps = defaultDeps(),
): Promise<ListTaskResult> {
  const deps = given;
  const root = context.root;
  return runListTask(options, root, deps, 'docker-merge', async ({ tag, fail, bounded, publish }) => {
    const project = context.projectName ?? options.service;
    const dir = digestsDirOf(options.digestsDir, deps.env);
    const declared = options.platforms ?? [];
    if (!declared.length)
      return fail(
        'docker-merge: the service declares no platforms (compose build.platforms), so no runner built a platform of it to merge.',
      );
    const tags = await manifestListTags(options, root, deps);
    if (!tags.length) return fail('docker-merge needs at least one tag (compose image: or build.tags).');

    const { records, problems } = readDigestRecords(root, dir, { project });
    if (problems.length) return fail(`docker-merge: unreadable digest files:\n  ${problems.join('\n  ')}`);
    if (!records.length)
      return fail(
        `docker-merge: no digest files for ${project} in ${dir}/${project}/. Each runner runs docker-push with ${PLATFORMS_ENV}=<its platform> ` +
          `and hands on its ${dir} folder; this job needs them all in ${dir}.`,
      );
    const { missing, extra } = coverage(declared, records);
    if (missing.length)
      return fail(
        `docker-merge: no digest for ${missing.join(', ')} (declared ${declared.join(', ')}; found ${records
          .map((r) => r.platform)
          .join(', ')} in ${dir}/${project}/). Did the runner for ${missing.join(', ')} run, and was its ${dir} handed on?`,
      );
    if (extra.length)
      deps.log(
        `${tag} ignoring digest files of undeclared platforms: ${extra.map((p) => `${dir}/${digestFileName(project, p)}`).join(', ')}`,
      );
    const used = records.filter((r) => !extra.includes(r.platform));
    const sources = Object.fromEntries(used.map((r) => [r.platform, `${r.repository}@${r.digest}`]));
    deps.log(
      `${tag} docker-merge: ${used.map((r) => `${r.platform} ${r.digest.slice(0, 19)}${r.reused ? ' (reused)' : ''}`).join(', ')} → ${tags.join(', ')}`,
    );

    const dryRun = options.dryRun ?? false;
    const builder = await ensureBuilder(options.builder, root, bounded, dryRun);
    if (dryRun) {
      deps.log(
        `[dry-run] ${displayCommand(imagetoolsCreateArgv(tags, Object.values(sources), builder.name ? { builder: builder.name } : {}))}`,
      );
      for (const t of tags) deps.log(`[dry-run] docker buildx imagetools inspect --raw ${t}`);
      return { success: true };
    }
    return publish(tags, sources, builder.name);
  });
}

export default async function dockerMergeExecutor(
  options: DockerMergeExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await dockerMerge(options, context);
  return { success };
}
