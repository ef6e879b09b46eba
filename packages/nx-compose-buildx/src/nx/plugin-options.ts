import type { TagRule } from '../buildx/tags';
import { validateWorkspaceCache, type WorkspaceCacheOption } from './workspace-cache';

export type { TagRule };

/** Options accepted in nx.json: `{ "plugin": "nx-compose-buildx", "options": { ... } }`. */
export interface ComposeBuildxPluginOptions {
  /** Target names (defaults: docker-build, docker-push, docker-verify). */
  buildTargetName?: string;
  pushTargetName?: string;
  verifyTargetName?: string;
  /** Name of the target that explains why a service's image may have changed (default docker-explain). */
  explainTargetName?: string;
  /** Name of the merge target of native runners (digest files → manifest list). Default docker-merge. */
  mergeTargetName?: string;
  /**
   * Extra compose file sets, each loaded as its own compose project (like `docker compose -f a -f b`).
   * Paths are workspace-relative; the first file's folder is the project folder.
   */
  composeFiles?: Array<string[] | { files: string[]; projectName?: string; envFile?: string | string[] }>;
  /**
   * `docker compose --env-file`: env files read instead of each compose project's `.env`, relative to that
   * project's folder (a `composeFiles` entry's own `envFile` is workspace-relative and wins). Later files win.
   */
  envFile?: string | string[];
  /** buildx builder to use (created once if missing). Default: the current builder. */
  builder?: string | BuilderOption;
  /** `--provenance` / `--sbom` values; off by default so manifest lists hold only the platforms. */
  provenance?: string | boolean;
  sbom?: string | boolean;
  /** Extra tags generated at run time from git (like docker/metadata-action). */
  tags?: TagRule[];
  /** OCI labels (created, revision, source, version) added at run time. Default true. */
  ociLabels?: boolean;
  /** Workspace-wide build cache, one location per service (see workspace-cache.ts). */
  cache?: WorkspaceCacheOption;
  /**
   * docker-push looks each image up in its registry by content key and builds only on a miss
   * (registry-reuse.ts); push targets are then left out of Nx's cache, the registry being the
   * cache. Default true.
   */
  reuse?: boolean;
}

export interface BuilderOption {
  name: string;
  driver?: string;
  driverOpts?: Record<string, string>;
  platforms?: string[];
  nodes?: Array<{ name: string; endpoint: string; platforms?: string[]; driverOpts?: Record<string, string> }>;
  /** `--use` on creation; default false (the user's current builder stays). */
  use?: boolean;
}

export interface NormalizedPluginOptions {
  targetNames: { build: string; push: string; verify: string; explain: string; merge: string };
  composeFileSets: Array<{ files: string[]; projectName?: string; envFiles?: string[] }>;
  /** `envFile`, as a list (relative to each compose project's folder). */
  envFiles?: string[];
  builder?: string | BuilderOption;
  provenance?: string | boolean;
  sbom?: string | boolean;
  generatedTags: TagRule[];
  ociLabels: boolean;
  cache?: WorkspaceCacheOption;
  reuse: boolean;
}

export function normalizePluginOptions(options: ComposeBuildxPluginOptions | undefined): NormalizedPluginOptions {
  const o = options ?? {};
  const cacheProblem = validateWorkspaceCache(o.cache);
  if (cacheProblem) throw new Error(`nx-compose-buildx: invalid plugin option in nx.json: ${cacheProblem}`);
  return {
    targetNames: {
      build: o.buildTargetName ?? 'docker-build',
      push: o.pushTargetName ?? 'docker-push',
      verify: o.verifyTargetName ?? 'docker-verify',
      explain: o.explainTargetName ?? 'docker-explain',
      merge: o.mergeTargetName ?? 'docker-merge',
    },
    composeFileSets: (o.composeFiles ?? []).map((set) => {
      if (Array.isArray(set)) return { files: set };
      const { envFile, ...rest } = set;
      return envFile === undefined ? rest : { ...rest, envFiles: asList(envFile) };
    }),
    ...(o.envFile !== undefined ? { envFiles: asList(o.envFile) } : {}),
    ...(o.builder !== undefined ? { builder: o.builder } : {}),
    ...(o.provenance !== undefined ? { provenance: o.provenance } : {}),
    ...(o.sbom !== undefined ? { sbom: o.sbom } : {}),
    generatedTags: o.tags ?? [],
    ociLabels: o.ociLabels ?? true,
    ...(o.cache ? { cache: o.cache } : {}),
    reuse: o.reuse ?? true,
  };
}

const asList = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
