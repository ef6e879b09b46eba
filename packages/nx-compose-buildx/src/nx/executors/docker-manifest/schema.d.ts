import type { BuilderSpec } from '../../../buildx/argv';
import type { TagRule } from '../../../buildx/tags';

export interface DockerManifestExecutorSchema {
  /** Compose service name (messages). */
  service: string;
  /** Tags of the manifest list. */
  tags: string[];
  /** Tags generated at run time from git (metadata-action style), added to the manifest list. */
  generatedTags?: TagRule[];
  /** Platform → the tag its own image was pushed under (`<tag>-<suffix>`). */
  platformImages: Record<string, string>;
  /** Workspace-relative metadata JSON written after the registry confirms every platform. */
  metadataFile?: string;
  /** buildx builder name or spec. Absent: the current builder. */
  builder?: string | BuilderSpec;
  /** Print the commands and run nothing. */
  dryRun?: boolean;
}
