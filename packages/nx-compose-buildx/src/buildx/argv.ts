/**
 * Pure argv builders for every docker / buildx command the executors run. Each returns a full argv
 * array (argv[0] is `docker`) that the run layer hands to execa as file + args: options are data,
 * nothing is ever joined into a shell string for execution, so no value needs quoting.
 */
import { buildFieldArgv, csvField } from '../build-spec/build-fields';
import type { BuildOptions } from '../build-spec/types';
import { normalizePlatforms } from './platform';

export type BuildMode = 'build' | 'push';
export type ProgressMode = 'plain' | 'auto' | 'tty' | 'quiet';

export interface BuildArgvSettings {
  /** service name → first tag of that service, for `service:x` build contexts. */
  serviceImages?: Record<string, string>;
  /** `--builder`; absent: buildx's current builder. */
  builder?: string;
  /** `--provenance=<v>` / `--sbom=<v>`; default false so a manifest list holds only the platforms. */
  provenance?: string | boolean;
  sbom?: string | boolean;
  /** Workspace-relative (or absolute) path for `--metadata-file`. */
  metadataFile?: string;
  /** Default `auto` (BuildKit picks); see progressFor(). */
  progress?: ProgressMode;
  /**
   * Build mode with several platforms: load the manifest list into the image store (`--load`).
   * Default true. The `docker` driver with the containerd image store (the stack this plugin targets:
   * dockerd with `features.containerd-snapshotter`) stores multi-platform images, so `--load` keeps
   * every platform locally and a later `FROM <other service>` / docker-verify can use it. Set false for
   * drivers that cannot load a manifest list (docker-container, kubernetes, remote): the result then
   * stays in the builder's cache only, and nothing is pushed.
   */
  loadMultiPlatform?: boolean;
  /**
   * Push mode: push by digest into this repository (`--output type=image,push-by-digest=true,...`)
   * instead of `--push` under the tags; a native runner's leg (see nx/native-leg.ts).
   */
  pushByDigest?: string;
  /**
   * Write the image as an OCI layout folder here (`--output type=oci,tar=false,rewrite-timestamp=true`)
   * instead of pushing or loading it; republishArgv then pushes or loads it. See republishArgv for why.
   */
  ociLayout?: string;
}

/** `--progress=plain` when output is not a terminal or CI is set; otherwise BuildKit picks (`auto`). */
export function progressFor(isTTY: boolean, env: Record<string, string | undefined>): ProgressMode {
  const ci = env.CI;
  return !isTTY || (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') ? 'plain' : 'auto';
}

function flagValue(v: string | boolean): string {
  return typeof v === 'boolean' ? String(v) : v;
}

function sortedEntries(record: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `docker buildx build` argv for one service: the build fields' flags (build-fields.ts), then the run settings. Context comes last. `dockerfileInline` must be fed on stdin. */
export function buildArgv(options: BuildOptions, mode: BuildMode, settings: BuildArgvSettings = {}): string[] {
  const argv = ['docker', 'buildx', 'build'];
  if (settings.builder) argv.push('--builder', settings.builder);
  argv.push(`--progress=${settings.progress ?? 'auto'}`);

  argv.push(...buildFieldArgv(options, { serviceImages: settings.serviceImages }));
  const platforms = normalizePlatforms(options.platforms ?? []);

  argv.push(`--provenance=${flagValue(settings.provenance ?? false)}`);
  argv.push(`--sbom=${flagValue(settings.sbom ?? false)}`);
  if (settings.metadataFile) argv.push('--metadata-file', settings.metadataFile);

  if (settings.ociLayout !== undefined) argv.push('--output', ociLayoutOutput(settings.ociLayout));
  else if (mode === 'push' && settings.pushByDigest) argv.push('--output', pushByDigestOutput(settings.pushByDigest));
  else if (mode === 'push') argv.push('--push');
  else if (platforms.length <= 1 || settings.loadMultiPlatform !== false) argv.push('--load');
  // else: several platforms on a driver that cannot load a manifest list → the result stays in the
  // builder cache (docker-build pushes nothing by contract).

  argv.push(options.context);
  return argv;
}

/** The `--output` of a push by digest: no tag, the canonical name, pushed (Docker's multi-runner recipe). */
export function pushByDigestOutput(repository: string): string {
  return `type=image,name=${repository},push-by-digest=true,name-canonical=true,push=true`;
}

/**
 * The exporter of a content-stable build: layer file times clamped to SOURCE_DATE_EPOCH, and Docker's
 * media types, as the image exporter writes them on a push or load: the layout then holds the very
 * image that its republish (republishArgv) publishes, digest for digest, so docker-build can load it
 * as it is (`docker load`) with no second build.
 */
export function ociLayoutOutput(dest: string): string {
  return ['type=oci', `dest=${dest}`, 'tar=false', 'rewrite-timestamp=true', 'oci-mediatypes=false'].map(csvField).join(',');
}

/** The named context republishArgv builds FROM, and the Dockerfile (on stdin) that does it. */
export const REPUBLISH_CONTEXT = 'nxcb-image';
export const REPUBLISH_DOCKERFILE = `FROM ${REPUBLISH_CONTEXT}\n`;

export interface RepublishImage {
  /** `oci-layout://<folder>@<digest>` (what a build wrote) or `docker-image://<repo>@<digest>` (a registry image). */
  source: string;
  platforms: readonly string[];
  tags: readonly string[];
  /** Absent: BuildKit keeps the times the image has. */
  sourceDateEpoch?: string;
}

/**
 * Pushes or loads an image that already exists, unchanged, with a `FROM` of it and nothing else
 * (Dockerfile on stdin: REPUBLISH_DOCKERFILE). Needed because dockerd up to 28 forces `unpack` on
 * its image exporter, which BuildKit refuses together with `rewrite-timestamp` (and BuildKit 0.13
 * loses content on `push=true,rewrite-timestamp=true`): so a content-stable build writes an OCI
 * layout first (ociLayout), and this pushes or loads it. docker-build also loads a registry image
 * found by its content key this way, all platforms at once. No RUN step runs; the layers are the
 * layout's blobs; BuildKit clamps the config's history times to SOURCE_DATE_EPOCH, so republishing
 * a republished image gives the same digest again. `context` is a folder nothing is read from.
 */
export function republishArgv(image: RepublishImage, mode: BuildMode, context: string, settings: BuildArgvSettings = {}): string[] {
  const argv = ['docker', 'buildx', 'build'];
  if (settings.builder) argv.push('--builder', settings.builder);
  argv.push(`--progress=${settings.progress ?? 'auto'}`, '-f', '-');
  const platforms = normalizePlatforms([...image.platforms]);
  if (platforms.length) argv.push('--platform', platforms.join(','));
  if (image.sourceDateEpoch !== undefined) argv.push('--build-arg', `SOURCE_DATE_EPOCH=${image.sourceDateEpoch}`);
  argv.push('--build-context', `${REPUBLISH_CONTEXT}=${image.source}`);
  for (const tag of image.tags) argv.push('-t', tag);
  argv.push('--provenance=false', '--sbom=false');
  if (settings.metadataFile) argv.push('--metadata-file', settings.metadataFile);
  if (mode === 'push' && settings.pushByDigest) argv.push('--output', pushByDigestOutput(settings.pushByDigest));
  else argv.push(mode === 'push' ? '--push' : '--load');
  argv.push(context);
  return argv;
}

export interface ImagetoolsOptions {
  /** Default true: the registry's manifest or index JSON exactly as served. */
  raw?: boolean;
  /** `--format` Go template (ignored with raw). */
  format?: string;
  builder?: string;
}

export function imagetoolsInspectArgv(ref: string, opts: ImagetoolsOptions = {}): string[] {
  const argv = ['docker', 'buildx', 'imagetools', 'inspect'];
  if (opts.builder) argv.push('--builder', opts.builder);
  if (opts.format !== undefined && opts.raw === false) argv.push('--format', opts.format);
  else if (opts.raw !== false) argv.push('--raw');
  argv.push(ref);
  return argv;
}

/** `imagetools create`: one manifest list under every tag, from the given sources (`repo@sha256:...`). */
export function imagetoolsCreateArgv(tags: readonly string[], sources: readonly string[], opts: { builder?: string } = {}): string[] {
  const argv = ['docker', 'buildx', 'imagetools', 'create'];
  if (opts.builder) argv.push('--builder', opts.builder);
  for (const tag of tags) argv.push('-t', tag);
  argv.push(...sources);
  return argv;
}

export interface RunArgvOptions {
  /** Default `none`: no bridge exists on our machines, and a verify run needs no network. */
  network?: string;
  /** `--pull always|missing|never`; absent: docker's default (missing). */
  pull?: 'always' | 'missing' | 'never';
}

export function runArgv(platform: string, image: string, cmd: readonly string[], opts: RunArgvOptions = {}): string[] {
  const argv = ['docker', 'run', '--rm', '--network', opts.network ?? 'none', '--platform', platform];
  if (opts.pull) argv.push('--pull', opts.pull);
  argv.push(image, ...cmd);
  return argv;
}

export interface BuilderNodeSpec {
  name: string;
  endpoint: string;
  platforms?: string[];
  driverOpts?: Record<string, string>;
}

export interface BuilderSpec {
  name: string;
  driver?: string;
  driverOpts?: Record<string, string>;
  platforms?: string[];
  nodes?: BuilderNodeSpec[];
  /** Make it the user's current builder on creation (`--use`). Default false: builds name it with `--builder`. */
  use?: boolean;
}

/** `docker buildx create --name … --driver … --driver-opt k=v … --platform a,b [--use]` */
export function builderCreateArgv(builder: BuilderSpec): string[] {
  const argv = ['docker', 'buildx', 'create', '--name', builder.name];
  argv.push('--driver', builder.driver ?? 'docker-container');
  for (const [k, v] of sortedEntries(builder.driverOpts)) argv.push('--driver-opt', `${k}=${v}`);
  if (builder.platforms?.length) argv.push('--platform', normalizePlatforms(builder.platforms).join(','));
  if (builder.use === true) argv.push('--use');
  return argv;
}

/** `docker buildx create --append --name <builder> --node <node> --platform … <endpoint>` */
export function builderAppendArgv(builderName: string, node: BuilderNodeSpec): string[] {
  const argv = ['docker', 'buildx', 'create', '--append', '--name', builderName, '--node', node.name];
  for (const [k, v] of sortedEntries(node.driverOpts)) argv.push('--driver-opt', `${k}=${v}`);
  if (node.platforms?.length) argv.push('--platform', normalizePlatforms(node.platforms).join(','));
  argv.push(node.endpoint);
  return argv;
}

export function builderInspectArgv(name?: string, opts: { bootstrap?: boolean } = {}): string[] {
  const argv = ['docker', 'buildx', 'inspect'];
  if (opts.bootstrap !== false) argv.push('--bootstrap');
  if (name) argv.push(name);
  return argv;
}

/** `docker save` streams the image as an OCI layout tar; we read only its index and manifests. */
export function imageSaveArgv(ref: string): string[] {
  return ['docker', 'save', ref];
}

/** `docker load` of an image tar fed on stdin (an OCI layout, see run/image-save.ts loadOciLayout). */
export function imageLoadArgv(): string[] {
  return ['docker', 'load'];
}
