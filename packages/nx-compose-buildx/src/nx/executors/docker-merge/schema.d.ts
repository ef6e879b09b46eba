import type { BuilderSpec } from '../../../buildx/argv';
import type { TagRule } from '../../../buildx/tags';

export interface DockerMergeExecutorSchema {
  /** Compose service name (messages). */
  service: string;
  /** Tags of the manifest list. */
  tags: string[];
  /** Tags generated at run time from git (metadata-action style), added to the manifest list. */
  generatedTags?: TagRule[];
  /** The service's declared platforms: every one must have a digest file. */
  platforms: string[];
  /** Workspace-relative folder of the digest files; also NX_COMPOSE_BUILDX_DIGESTS_DIR. Default dist/nxcb-digests. */
  digestsDir?: string;
  /** Workspace-relative push metadata written after the registry confirms every platform (docker-verify reads it). */
  metadataFile?: string;
  /** buildx builder name or spec. Absent: the current builder. */
  builder?: string | BuilderSpec;
  /** Print the commands and run nothing. */
  dryRun?: boolean;
}
