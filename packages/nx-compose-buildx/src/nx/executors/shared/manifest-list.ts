/**
 * One manifest list from per-platform image digests, under every tag: `docker buildx imagetools
 * create`, then the same confirmation as docker-push (every tag serves every platform, and each
 * platform is the digest given), then the push metadata docker-verify reads. docker-manifest (a
 * service built per platform) and docker-merge (native runners' digest files) both end here.
 */
import { imagetoolsCreateArgv } from '../../../buildx/argv';
import { generateTags, type TagRule } from '../../../buildx/tags';
import { commandTimeouts, displayCommand, type CommandTimeouts } from '../../../run/exec';
import { confirmPushed, writeMetadata, type ImageMetadata } from './build-record';
import { withTimeouts, type ExecutorDeps } from './deps';
import { defaultMetadataFile } from './options';

export type ListTaskResult = { success: boolean; metadata?: ImageMetadata };

export interface ListTask {
  /** The service's log tag, `[svc]`. */
  tag: string;
  /** Ends the task: logs the reason. */
  fail: (message: string) => ListTaskResult;
  /** The dependencies with the command timeouts applied. */
  bounded: ExecutorDeps;
  /** Publishes the list from `sources` under `tags` and ends the task: its metadata, or the failure logged. */
  publish: (tags: string[], sources: Record<string, string>, builder?: string) => Promise<ListTaskResult>;
}

/**
 * How docker-manifest and docker-merge run: `body` gets the task's tools and ends with `publish`; an
 * exception ends the task as a logged failure naming the executor.
 */
export async function runListTask(
  options: { service: string; metadataFile?: string },
  root: string,
  deps: ExecutorDeps,
  executor: string,
  body: (task: ListTask) => Promise<ListTaskResult>,
): Promise<ListTaskResult> {
  const tag = `[${options.service}]`;
  const timeouts = commandTimeouts(deps.env);
  const bounded = withTimeouts(deps, timeouts);
  const fail = (message: string) => {
    deps.log(`${tag} ${message}`);
    return { success: false };
  };
  const publish = async (tags: string[], sources: Record<string, string>, builder?: string) => {
    const list = { service: options.service, tags, sources, ...(options.metadataFile ? { metadataFile: options.metadataFile } : {}) };
    const r = await publishManifestList(list, { root, deps: bounded, timeouts, ...(builder ? { builder } : {}) });
    return 'error' in r ? fail(r.error) : { success: true, metadata: r.metadata };
  };
  try {
    return await body({ tag, fail, bounded, publish });
  } catch (e) {
    return fail(`${executor}: ${(e as Error).message}`);
  }
}

/** The list's tags: the given ones and the run-time tags from git (none outside a git checkout). */
export async function manifestListTags(
  options: { tags: string[]; generatedTags?: TagRule[] },
  root: string,
  deps: ExecutorDeps,
): Promise<string[]> {
  if (!options.generatedTags?.length) return options.tags;
  const facts = await deps.gitFacts(root).catch(() => undefined);
  return [...options.tags, ...(facts ? generateTags(options.generatedTags, facts, options.tags) : [])];
}

export interface ManifestList {
  service: string;
  tags: string[];
  /** Platform → `<repository>@<manifest digest>` of that platform's image. */
  sources: Record<string, string>;
  /** Workspace-relative push metadata written on success (default: the service's push metadata file). */
  metadataFile?: string;
}

async function publishManifestList(
  list: ManifestList,
  run: { root: string; deps: ExecutorDeps; timeouts: CommandTimeouts; builder?: string },
): Promise<{ metadata: ImageMetadata } | { error: string }> {
  const { root, deps, timeouts, builder } = run;
  const tag = `[${list.service}]`;
  const platforms = Object.keys(list.sources);
  const argv = imagetoolsCreateArgv(list.tags, Object.values(list.sources), builder ? { builder } : {});
  deps.log(`${tag} ${displayCommand(argv)}`);
  const r = await deps.run(argv, { cwd: root, stream: true, timeoutMs: timeouts.long }); // copies blobs between repositories
  if (r.exitCode !== 0) return { error: `docker buildx imagetools create failed (exit ${r.exitCode})${r.failure ? `: ${r.failure}` : ''}` };

  const metadata: ImageMetadata = {
    service: list.service,
    tags: list.tags,
    platforms: Object.fromEntries(platforms.map((p) => [p, {}])),
    pushed: false,
    loaded: false,
  };
  const error = await confirmPushed(list.service, list.tags, platforms, metadata, root, deps, builder);
  if (error) return { error };
  const digestOf = (p: string) => list.sources[p]!.slice(list.sources[p]!.lastIndexOf('@') + 1);
  const moved = platforms.filter((p) => metadata.platforms[p]?.digest !== digestOf(p));
  if (moved.length) return { error: `the manifest list does not point at the pushed images for ${moved.join(', ')}.` };
  metadata.pushed = true;
  const metadataFile = list.metadataFile ?? defaultMetadataFile(list.service, 'push');
  writeMetadata(root, metadataFile, metadata);
  deps.log(
    `${tag} assembled ${list.tags.join(', ')}: ${platforms.map((p) => `${p} ${digestOf(p).slice(0, 19)}`).join(', ')} → ${metadataFile}`,
  );
  return { metadata };
}
