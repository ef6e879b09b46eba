/**
 * A service build spec: one buildable compose service, resolved into exactly what
 * buildx will be asked to do. Paths are relative to the Nx workspace root, with "/"
 * separators. These field names are also the docker-build target's option names; each is mapped
 * (compose key, schema, buildx flag) in one row of build-fields.ts.
 */
import type { SourceLocation } from '../compose/types';

export interface SecretSpec {
  id: string;
  /** Workspace-relative file path (compose `secrets.<id>.file`). */
  src?: string;
  /** Environment variable name (compose `secrets.<id>.environment`). The value is never read into options. */
  env?: string;
}

export interface BuildOptions {
  /** Workspace-relative folder, or a URL / `service:x` / git context exactly as written. */
  context: string;
  /** Workspace-relative Dockerfile path. Absent when dockerfileInline is set or the context is remote. */
  dockerfile?: string;
  dockerfileInline?: string;
  platforms: string[];
  args: Record<string, string>;
  target?: string;
  tags: string[];
  labels: Record<string, string>;
  cacheFrom: string[];
  cacheTo: string[];
  secrets: SecretSpec[];
  ssh: string[];
  /** name -> workspace-relative folder, or `service:x` / `docker-image://` / URL as written. */
  additionalContexts: Record<string, string>;
  network?: string;
  shmSize?: string;
  extraHosts: string[];
  noCache?: boolean;
  pull?: boolean;
  /** `--ulimit` values, `name=soft:hard` or `name=limit`. */
  ulimits?: string[];
  /** `--allow` entitlements (compose `entitlements`, and `security.insecure` for `privileged`). */
  entitlements?: string[];
}

export interface ServiceBuildSpec extends BuildOptions {
  /** Nx project name (the service name, prefixed with the compose project name on a clash). */
  project: string;
  service: string;
  composeProject: string;
  /** Workspace-relative compose project folder. */
  composeDir: string;
  /** Workspace-relative compose files that define the service, merge order. */
  composeFiles: string[];
  /** Where the service is defined (the last compose file's service key), workspace-relative: for errors found later (cycles, names). */
  definedAt?: SourceLocation;
  /** The service's test command for docker-verify (compose extension), argv form. */
  verifyCommand?: string[];
  /** Platform → build args of that platform alone (x-nx-buildx.platformArgs); merged over `args`. */
  platformArgs?: Record<string, Record<string, string>>;
  /** Per-platform config (x-nx-buildx.platformConfig), workspace-relative paths. */
  platformConfig?: PlatformConfigSpec;
  /** Variables the service's definition interpolates. */
  variables: string[];
}

export interface PlatformConfigSpec {
  base: string;
  /** Platform → overlay file. */
  overlays: Record<string, string>;
  /** File name of the merged config. */
  name: string;
}
