/**
 * One manifest list from per-platform image digests, under every tag: `docker buildx imagetools
 * create`, then the same confirmation as docker-push (every tag serves every platform, and each
 * platform is the digest given), then the push metadata docker-verify reads. docker-manifest (a
 * service built per platform) and docker-merge (native runners' digest files) both end here.
 */
import { imagetoolsCreateArgv } from '../../../buildx/argv';
import { displayCommand, type CommandTimeouts } from '../../../run/exec';
import { confirmPushed, writeMetadata, type ImageMetadata } from './build-record';
import type { ExecutorDeps } from './deps';

export interface ManifestList {
  service: string;
  tags: string[];
  /** Platform → `<repository>@<manifest digest>` of that platform's image. */
  sources: Record<string, string>;
  /** Workspace-relative push metadata written on success. */
  metadataFile: string;
}

export async function publishManifestList(
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
  writeMetadata(root, list.metadataFile, metadata);
  deps.log(
    `${tag} assembled ${list.tags.join(', ')}: ${platforms.map((p) => `${p} ${digestOf(p).slice(0, 19)}`).join(', ')} → ${list.metadataFile}`,
  );
  return { metadata };
}
