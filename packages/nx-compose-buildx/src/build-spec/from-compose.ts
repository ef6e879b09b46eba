import { isAbsolute, join } from 'node:path';
import { ComposeError, type ComposeBuild, type ComposeProject, type ComposeService, type SourceLocation } from '../compose/types';
import { isValidPlatform, normalizePlatform } from '../buildx/platform';
import { KNOWN_BUILD_KEYS, UNSUPPORTED_BUILD_KEYS, buildOptionsFrom, mappedFromCompose } from './build-fields';
import {
  EXTENSION_KEY,
  extensionUnderBuildWarning,
  extensionWithoutBuildWarning,
  readServiceExtension,
  type ExtensionWarning,
} from './extension';
import { contextKind, isInsideWorkspace, toWorkspacePath } from './paths';
import type { PlatformConfigSpec, SecretSpec, ServiceBuildSpec } from './types';

export interface BuildSpecEnvironment {
  /** Absolute workspace root: every path in a spec is relative to it. */
  workspaceRoot: string;
  /** Whether a path exists on disk (injected so the stage stays pure). */
  exists(absPath: string): boolean;
  /** Whether an existing path is a folder (symlinks followed). Absent: only existence is checked. */
  isDirectory?(absPath: string): boolean;
  /** Whether a path, symlinks resolved, lies inside the workspace. Absent: judged on the path as written. */
  isInside?(absPath: string): boolean;
}

/**
 * Names Nx cannot hold as project names: it keeps projects in plain objects, where these are
 * built-in properties (`constructor` and `toString` break its graph, `__proto__` vanishes).
 */
const NAMES_NX_CANNOT_HOLD = new Set(Object.getOwnPropertyNames(Object.prototype));

/** compose-spec's service name rule; the name becomes folder names (dist/docker/<name>/...). */
export function isValidServiceName(name: string): boolean {
  return /^[a-zA-Z0-9._-]+$/.test(name) && name !== '.' && name !== '..';
}

/** Whether a service name can be an Nx project name as it is. */
export function canBeNxProjectName(name: string): boolean {
  return isValidServiceName(name) && !NAMES_NX_CANNOT_HOLD.has(name);
}

/** A value docker would read as an option where it is passed as a positional argument. */
const looksLikeOption = (value: string) => value.startsWith('-');

export interface BuildSpecResult {
  specs: ServiceBuildSpec[];
  errors: ComposeError[];
  /** Settings that have no effect where they are written (the service still builds): file, line and service. */
  warnings: ComposeError[];
}

/** One spec per service with `build:`; image-only services are skipped. Errors are per service. */
export function buildSpecsFromProject(project: ComposeProject, env: BuildSpecEnvironment): BuildSpecResult {
  const specs: ServiceBuildSpec[] = [];
  const errors: ComposeError[] = [];
  const warnings: ComposeError[] = [];
  for (const service of Object.values(project.services).sort((a, b) => a.name.localeCompare(b.name))) {
    if (service.error) {
      errors.push(service.error);
      continue;
    }
    const warn = (w: ExtensionWarning) => warnings.push(located(service, w.message, w.key));
    if (!service.build) {
      if (service.definition[EXTENSION_KEY] !== undefined) warn(extensionWithoutBuildWarning());
      continue;
    }
    try {
      specs.push(buildSpecFromService(project, service, service.build, env, warn));
    } catch (e) {
      if (e instanceof ComposeError) errors.push(e);
      else throw e;
    }
  }
  return { specs, errors, warnings };
}

function whereIs(service: ComposeService, key?: string): SourceLocation {
  const located = key ? service.locations?.[key] : undefined;
  return located ?? service.sources[service.sources.length - 1] ?? { file: '<unknown>' };
}

function located(service: ComposeService, message: string, key?: string): ComposeError {
  // A nested key (x-nx-buildx.platformArg) without a line of its own takes its parent's line.
  const known = (k?: string) => (k && service.locations?.[k] ? k : undefined);
  const parent = key?.includes('.') ? key.slice(0, key.lastIndexOf('.')) : undefined;
  return new ComposeError(message, { ...whereIs(service, known(key) ?? known(parent)), service: service.name });
}

function fail(service: ComposeService, message: string, key?: string): never {
  throw located(service, message, key);
}

function buildSpecFromService(
  project: ComposeProject,
  service: ComposeService,
  build: ComposeBuild,
  env: BuildSpecEnvironment,
  warn: (warning: ExtensionWarning) => void,
): ServiceBuildSpec {
  const ws = (abs: string) => toWorkspacePath(env.workspaceRoot, abs);
  const isDirectory = (abs: string) => env.isDirectory?.(abs) ?? true;
  const isFile = (abs: string) => !(env.isDirectory?.(abs) ?? false);

  // compose-spec's service name rule: the name becomes folder names (dist/docker/<name>/...), so
  // `../../x` must never reach a path. (The loader may check it first; this is defence in depth.)
  if (!isValidServiceName(service.name)) {
    fail(
      service,
      `service name ${JSON.stringify(service.name)} is not valid: compose allows only letters, digits, ".", "_" and "-", and not "." or ".."`,
    );
  }
  if (!canBeNxProjectName(service.name)) {
    fail(
      service,
      `service name "${service.name}" cannot be an Nx project name (it is a built-in property of JavaScript objects, which Nx keeps projects in); rename the service`,
    );
  }

  for (const key of Object.keys(build)) {
    if (key === EXTENSION_KEY) warn(extensionUnderBuildWarning(service.name));
    if (!KNOWN_BUILD_KEYS.has(key) && !key.startsWith('x-')) {
      fail(service, `unknown key "${key}" under build`, `build.${key}`);
    }
    const unsupported = UNSUPPORTED_BUILD_KEYS[key];
    if (unsupported && build[key] !== unsupported.accepted) {
      fail(service, `build.${key} ${JSON.stringify(build[key])} is not supported: ${unsupported.reason}`, `build.${key}`);
    }
  }
  const mapped = mappedFromCompose(build, (message, key) => fail(service, message, key));
  const platforms = withServicePlatform(mapped.platforms ?? [], service);

  const kind = contextKind(build.context);
  let context = build.context;
  let dockerfile: string | undefined;
  if (kind === 'local') {
    if (!env.exists(build.context)) fail(service, `build context ${ws(build.context)} does not exist`, 'build.context');
    if (!isDirectory(build.context)) fail(service, `build context ${ws(build.context)} is a file, not a folder`, 'build.context');
    context = ws(build.context);
    if (looksLikeOption(context))
      fail(service, `build context ${context} begins with "-", which docker would read as an option; rename the folder`, 'build.context');
    if (build.dockerfile_inline === undefined) {
      const written = build.dockerfile ?? 'Dockerfile';
      const absDockerfile = isAbsolute(written) ? written : join(build.context, written);
      if (!env.exists(absDockerfile)) fail(service, `Dockerfile ${ws(absDockerfile)} does not exist`, 'build.dockerfile');
      if (!isFile(absDockerfile)) fail(service, `Dockerfile ${ws(absDockerfile)} is a folder, not a file`, 'build.dockerfile');
      dockerfile = ws(absDockerfile);
      if (looksLikeOption(dockerfile))
        fail(service, `Dockerfile ${dockerfile} begins with "-", which docker would read as an option or as stdin`, 'build.dockerfile');
    }
  } else if (build.dockerfile_inline === undefined && build.dockerfile !== undefined) {
    dockerfile = build.dockerfile; // relative to the remote context, passed through
  }

  const additionalContexts: Record<string, string> = {};
  for (const [name, value] of Object.entries(build.additional_contexts ?? {})) {
    if (contextKind(value) === 'local') {
      if (!env.exists(value)) fail(service, `additional context "${name}" (${ws(value)}) does not exist`, 'build.additional_contexts');
      if (!isDirectory(value))
        fail(service, `additional context "${name}" (${ws(value)}) is a file, not a folder`, 'build.additional_contexts');
      additionalContexts[name] = ws(value);
    } else {
      additionalContexts[name] = value;
    }
  }

  const extension = readServiceExtension(service.definition);
  if (extension.problems.length) fail(service, extension.problems.join('; '), 'x-nx-buildx');
  for (const warning of extension.warnings) warn(warning);
  const { platformArgs } = extension.value;
  let platformConfig: PlatformConfigSpec | undefined;
  for (const platform of [...Object.keys(platformArgs ?? {}), ...Object.keys(extension.value.platformConfig?.overlays ?? {})]) {
    if (!platforms.includes(platform)) {
      fail(service, `x-nx-buildx names ${platform}, which is not in build.platforms (${platforms.join(', ') || 'none'})`, 'x-nx-buildx');
    }
  }
  if (extension.value.platformConfig) {
    const { base, overlays, name } = extension.value.platformConfig;
    const file = (written: string) => {
      const abs = isAbsolute(written) ? written : join(project.projectDir, written);
      // docker-config reads these files at run time: like everything it touches, they stay in the workspace.
      if (!(env.isInside?.(abs) ?? isInsideWorkspace(ws(abs)))) {
        fail(service, `x-nx-buildx.platformConfig file ${written} lies outside the workspace (${ws(abs)})`, 'x-nx-buildx');
      }
      if (!env.exists(abs)) fail(service, `x-nx-buildx.platformConfig file ${ws(abs)} does not exist`, 'x-nx-buildx');
      if (!isFile(abs)) fail(service, `x-nx-buildx.platformConfig file ${ws(abs)} is a folder, not a file`, 'x-nx-buildx');
      return ws(abs);
    };
    platformConfig = {
      base: file(base),
      overlays: Object.fromEntries(Object.entries(overlays).map(([p, f]) => [p, file(f)])),
      name,
    };
  }

  const tags = unique([service.image ?? defaultImageName(project.name, service.name), ...(build.tags ?? [])]);
  for (const tag of tags) {
    // Tags reach `docker run` and `imagetools` as positional arguments.
    if (looksLikeOption(tag))
      fail(service, `image ${tag} begins with "-", which docker would read as an option`, tag === service.image ? 'image' : 'build.tags');
  }

  return {
    project: service.name,
    service: service.name,
    composeProject: project.name,
    composeDir: ws(project.projectDir),
    composeFiles: unique(service.sources.map((s) => ws(s.file))),
    ...(service.sources.length ? { definedAt: definedAt(whereIs(service), ws) } : {}),
    ...buildOptionsFrom({
      ...mapped,
      platforms,
      context,
      ...(dockerfile !== undefined ? { dockerfile } : {}),
      tags,
      secrets: secretSpecs(project, service, build, ws),
      additionalContexts,
    }),
    ...(extension.value.verify ? { verifyCommand: extension.value.verify } : {}),
    ...(platformArgs && Object.keys(platformArgs).length ? { platformArgs } : {}),
    ...(platformConfig ? { platformConfig } : {}),
    variables: [...service.variables],
  };
}

/**
 * compose `applyPlatforms`: a service-level `platform:` (or DOCKER_DEFAULT_PLATFORM, see ComposeService.platform)
 * is what gets built when `build.platforms` is empty, and must be one of them when it is not.
 */
function withServicePlatform(buildPlatforms: string[], service: ComposeService): string[] {
  if (service.platform === undefined) return buildPlatforms;
  if (!isValidPlatform(service.platform)) fail(service, `invalid platform "${service.platform}"`, 'platform');
  const platform = normalizePlatform(service.platform);
  if (buildPlatforms.length === 0) return [platform];
  if (!buildPlatforms.includes(platform))
    fail(service, `build.platforms must include the service's platform "${service.platform}"`, 'platform');
  return buildPlatforms;
}

function definedAt(where: SourceLocation, ws: (abs: string) => string): SourceLocation {
  return { file: isAbsolute(where.file) ? ws(where.file) : where.file, ...(where.line ? { line: where.line } : {}) };
}

/** Compose names an image it builds without `image:` as `<project>-<service>`. */
export function defaultImageName(composeProject: string, service: string): string {
  return `${composeProject}-${service}`.toLowerCase();
}

function secretSpecs(project: ComposeProject, service: ComposeService, build: ComposeBuild, ws: (abs: string) => string): SecretSpec[] {
  return (build.secrets ?? []).map((ref) => {
    const definition = project.secrets[ref.source];
    if (!definition) fail(service, `build secret "${ref.source}" is not defined in the top-level secrets`, 'build.secrets');
    const id = ref.target && !ref.target.includes('/') ? ref.target : ref.source;
    if (definition.file) return { id, src: ws(definition.file) };
    if (definition.environment) return { id, env: definition.environment };
    return fail(service, `build secret "${ref.source}" needs "file" or "environment"`, 'build.secrets');
  });
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
