/** Executor option types shared by docker-build / docker-push, and their normalisation. */
import { buildOptionsFrom } from '../../../build-spec/build-fields';
import type { BuildOptions } from '../../../build-spec/types';
import type { BuilderSpec, ProgressMode } from '../../../buildx/argv';
import type { TagRule } from '../../../buildx/tags';

export interface BuildExecutorOptions extends Partial<BuildOptions> {
  /**
   * docker-push: look the image up in the registry by its content key first, and only build on a
   * miss (see registry-reuse.ts). Default true; NX_COMPOSE_BUILDX_REUSE=false turns it off for a run.
   */
  reuse?: boolean;
  /** Read the cache but write none (drops --cache-to). Also set by NX_COMPOSE_BUILDX_CACHE_READONLY=true. */
  cacheReadOnly?: boolean;
  /**
   * docker-push: publish a single-platform image as a one-entry manifest list (an index) rather than
   * a plain manifest, for registries and deploy tools that need a list. Default false.
   */
  manifestList?: boolean;
  /**
   * docker-push: build only these of the service's declared platforms, push them by digest and write
   * one digest file each (a native runner's leg). Also NX_COMPOSE_BUILDX_PLATFORMS (comma list).
   */
  onlyPlatforms?: string[];
  /** Workspace-relative folder of the digest files; also NX_COMPOSE_BUILDX_DIGESTS_DIR. Default dist/nxcb-digests. */
  digestsDir?: string;
  /** Compose service name (headers, metadata, default metadata path). */
  service: string;
  context: string;
  /** Workspace-relative path of the metadata JSON this target writes. */
  metadataFile?: string;
  /** buildx builder: a name, or a spec that is created once if missing. Absent: the current builder. */
  builder?: string | BuilderSpec;
  /** `--provenance` value; default false (manifest lists hold only the platforms). */
  provenance?: string | boolean;
  /** `--sbom` value; default false. */
  sbom?: string | boolean;
  /** Print the exact commands and run nothing. */
  dryRun?: boolean;
  /** Tags generated at run time from git (metadata-action style). */
  generatedTags?: TagRule[];
  /** Add org.opencontainers.image.* labels at run time. Default true. */
  ociLabels?: boolean;
  /** Clamp layer file times to SOURCE_DATE_EPOCH (BuildKit rewrite-timestamp), so a rebuild keeps its digest. Default true. */
  rewriteTimestamp?: boolean;
  /** service → first tag, for `service:x` build contexts. */
  serviceImages?: Record<string, string>;
  /** Fail before building when the builder/qemu cannot run a platform. Default true. */
  checkPlatforms?: boolean;
  /** docker-build with several platforms: `--load` the manifest list. Default: true on the `docker` driver. */
  loadMultiPlatform?: boolean;
  /** `--progress`; default plain when not a TTY or CI is set, else auto. */
  progress?: ProgressMode;
  /** Seconds the build (and push) may take before it is stopped; also NX_COMPOSE_BUILDX_TIMEOUT. Default 3 h. */
  timeout?: number;
}

export interface NormalizedBuild {
  service: string;
  build: BuildOptions;
  metadataFile: string;
  builder?: string | BuilderSpec;
  provenance: string | boolean;
  sbom: string | boolean;
  dryRun: boolean;
  generatedTags: TagRule[];
  ociLabels: boolean;
  rewriteTimestamp: boolean;
  serviceImages: Record<string, string>;
  checkPlatforms: boolean;
  manifestList: boolean;
  loadMultiPlatform?: boolean;
  progress?: ProgressMode;
}

export function defaultMetadataFile(service: string, kind: 'build' | 'push'): string {
  return `dist/docker/${service}/${kind === 'build' ? 'metadata.json' : 'push-metadata.json'}`;
}

export function normalizeBuildOptions(o: BuildExecutorOptions, kind: 'build' | 'push'): NormalizedBuild {
  if (!o.service) throw new Error('Option "service" is required.');
  if (!o.context) throw new Error(`Service "${o.service}": option "context" is required.`);
  const build = buildOptionsFrom({ ...o, context: o.context });
  return {
    service: o.service,
    build,
    metadataFile: o.metadataFile ?? defaultMetadataFile(o.service, kind),
    ...(o.builder !== undefined ? { builder: o.builder } : {}),
    provenance: o.provenance ?? false,
    sbom: o.sbom ?? false,
    dryRun: o.dryRun ?? false,
    generatedTags: o.generatedTags ?? [],
    ociLabels: o.ociLabels ?? true,
    rewriteTimestamp: o.rewriteTimestamp ?? true,
    serviceImages: o.serviceImages ?? {},
    checkPlatforms: o.checkPlatforms ?? true,
    manifestList: o.manifestList ?? false,
    ...(o.loadMultiPlatform !== undefined ? { loadMultiPlatform: o.loadMultiPlatform } : {}),
    ...(o.progress !== undefined ? { progress: o.progress } : {}),
  };
}
