import { isAbsolute, relative } from 'node:path';

/**
 * The compose model: what `docker compose config --format json` would print for
 * the parts that affect a build, plus where each service came from.
 */

/** A place in a compose (or .env) file, for error messages. Lines are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/** One compose project to load: a folder plus the files Compose would read there. */
export interface ComposeFileSet {
  /** Absolute project folder (the first compose file's folder). Relative paths resolve against it. */
  projectDir: string;
  /** Absolute compose file paths, in merge order (base first, then overrides). */
  files: string[];
  /** Explicit project name (plugin option); otherwise `name:` in the files, then the folder name. */
  projectName?: string;
}

/** Variable values for interpolation. Process environment wins over `.env`. */
export interface InterpolationEnvironment {
  /** The process environment (or a test's stand-in). */
  process: Record<string, string | undefined>;
  /** Parsed `.env` of the project folder. */
  dotenv: Record<string, string>;
  /** Absolute paths of the env files `dotenv` came from, in order (listed in `ComposeProject.files`). */
  dotenvFiles?: string[];
}

/** Normalised `build:` section, in the shape `docker compose config --format json` prints. */
export interface ComposeBuild {
  /** Absolute path, or a URL / `service:`-free remote context as written. */
  context: string;
  /** As written (relative to the context), or absolute if written absolute. Compose fills "Dockerfile". */
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: Record<string, string | null>;
  ssh?: string[];
  labels?: Record<string, string>;
  cache_from?: string[];
  cache_to?: string[];
  no_cache?: boolean;
  additional_contexts?: Record<string, string>;
  network?: string;
  pull?: boolean;
  target?: string;
  shm_size?: number | string;
  extra_hosts?: string[] | Record<string, string>;
  isolation?: string;
  privileged?: boolean;
  secrets?: Array<{ source: string; target?: string; uid?: string; gid?: string; mode?: number }>;
  tags?: string[];
  ulimits?: Record<string, unknown>;
  platforms?: string[];
  /** Any other key under build (x-* extensions, or unknown keys which build-spec rejects). */
  [key: string]: unknown;
}

export interface ComposeService {
  name: string;
  /** The fully merged + interpolated service, keys as Compose prints them (build normalised to long form). */
  definition: Record<string, unknown>;
  /**
   * The definition as the committed files alone give it (files git tracks, no process environment), for
   * hashes that must be the same on every machine. Absent when it is `definition`; `null` when the
   * committed files do not define the service (see loadComposeCliProject).
   */
  committedDefinition?: Record<string, unknown> | null;
  /** Set when the service's definition has the wrong shape (compose-spec schema, name, types): the service cannot be built. */
  error?: ComposeError;
  build?: ComposeBuild;
  image?: string;
  profiles?: string[];
  /**
   * Service-level `platform:`; for a service with `build:` and no `platform:`, DOCKER_DEFAULT_PLATFORM when the
   * environment sets it (as `docker compose build` does). Empty values are left out.
   */
  platform?: string;
  /** Names of the variables that this service's definition interpolated (after extends/merge), sorted. */
  variables: string[];
  /** Where the service is defined: each file (and line of its key) that contributed, in merge order. */
  sources: SourceLocation[];
  /** Optional: where a dotted key path (e.g. "build.platforms") was last set, for precise error lines. */
  locations?: Record<string, SourceLocation>;
}

/** Top-level `secrets:` entries, as Compose prints them (file made absolute). */
export interface ComposeSecretDefinition {
  file?: string;
  environment?: string;
  external?: boolean;
  name?: string;
}

export interface ComposeProject {
  /** Compose project name, normalised as Compose does (lowercase, [a-z0-9_-]). */
  name: string;
  projectDir: string;
  /** Every file read: compose files, included and extended files, and the .env file if present. Absolute. */
  files: string[];
  services: Record<string, ComposeService>;
  secrets: Record<string, ComposeSecretDefinition>;
  /** Compose files pulled in through `include:` (at any depth), absolute: they belong to this project only. */
  includedFiles?: string[];
}

/** An error in the user's compose input. Always names the file; line and service where known. */
export class ComposeError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly service?: string;
  /** The message without the location prefix. */
  readonly detail: string;
  constructor(message: string, where: SourceLocation & { service?: string }) {
    const at = where.line ? `${where.file}:${where.line}${where.column ? `:${where.column}` : ''}` : where.file;
    super(`${at}${where.service ? ` (service "${where.service}")` : ''}: ${message}`);
    this.name = 'ComposeError';
    this.detail = message;
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.service = where.service;
  }

  /**
   * The same error with its file, and the paths below `fromDir` that its message names (a missing
   * extended or included file), shown relative to `fromDir` (the workspace root, for Nx output).
   */
  relativeTo(fromDir: string): ComposeError {
    const file = isAbsolute(this.file) ? relative(fromDir, this.file) || '.' : this.file;
    const prefix = fromDir.endsWith('/') ? fromDir : `${fromDir}/`;
    const detail = isAbsolute(fromDir) ? this.detail.split(prefix).join('') : this.detail;
    return new ComposeError(detail, { file, line: this.line, column: this.column, service: this.service });
  }
}
