export interface DockerVerifyExecutorSchema {
  /** Compose service name (messages). */
  service: string;
  /** Image reference to verify; default: the first of `tags`. */
  image?: string;
  /** Workspace-relative metadata file of docker-push: when it records a pushed digest, verify checks `<repo>@<digest>`, not the tag. */
  pushMetadataFile?: string;
  /** Tags of the service (used when `image` is not set). */
  tags?: string[];
  /** Declared platforms: the manifest must list each, and each must run. */
  platforms?: string[];
  /** Command run in each platform's container; default `uname -m`, whose output must match the platform. With a custom command only the exit code counts. */
  verifyCommand?: string[];
  /** `docker run --network`; default `none`. */
  network?: string;
  /** `docker run --pull`; default docker's (missing). */
  pull?: 'always' | 'missing' | 'never';
  /** Check the registry's manifest list before running. Default true. */
  checkManifest?: boolean;
  /** Accept platforms in the manifest that are not declared. Default false. */
  allowExtraPlatforms?: boolean;
  /** buildx builder for `imagetools inspect` (only its name is used). */
  builder?: string | { name: string };
  /** Print the exact commands and run nothing. */
  dryRun?: boolean;
}
