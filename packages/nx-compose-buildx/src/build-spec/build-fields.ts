/**
 * The one table of build fields: compose key under `build:` → spec field (which is also the
 * docker-build / docker-push option name) → the option's JSON schema → its buildx flag.
 *
 * Adding a build key: a row here, the field in types.ts, and a case in the argv / from-compose tests.
 * from-compose.ts, targets.ts (resolved options), the executors' normalisation, buildx/argv.ts and
 * both executor schemas (generated at build time, scripts/build.mjs) all read this table.
 * Fields that need the workspace (paths, the service's image, top-level secrets) have no
 * `fromCompose` here: from-compose.ts resolves them.
 */
import type { ComposeBuild } from '../compose/types';
import { setKey } from '../compose/set-key';
import { consistentPlatformArgs, isValidPlatform, normalizePlatform, normalizePlatforms } from '../buildx/platform';
import { serviceContextName } from './paths';
import type { BuildOptions, SecretSpec } from './types';

export type JsonSchema = Record<string, unknown>;

/** What a flag needs beyond the options themselves. */
export interface FlagSettings {
  /** service name → first tag of that service, for `service:x` build contexts. */
  serviceImages?: Record<string, string>;
}

/** Reports a bad compose value at `build.<key>`; never returns. */
export type FieldFailure = (message: string, key: string) => never;

interface BuildField<K extends keyof BuildOptions> {
  /** The compose keys under `build:` this field is read from. */
  compose: readonly string[];
  /** compose value → spec value (undefined: leave the field unset). Absent: from-compose.ts resolves it. */
  fromCompose?: (build: ComposeBuild, fail: FieldFailure) => BuildOptions[K] | undefined;
  schema: JsonSchema;
  /** The value of a required field the options leave out. */
  empty?: () => NonNullable<BuildOptions[K]>;
  /** Applied to every value an executor receives (hand-written options included). */
  normalize?: (value: NonNullable<BuildOptions[K]>) => NonNullable<BuildOptions[K]>;
  /** The buildx flags of the field. Absent: not a flag (the context is the last, positional argument). */
  argv?: (value: NonNullable<BuildOptions[K]>, options: BuildOptions, settings: FlagSettings) => string[];
}

type BuildFieldTable = { [K in keyof BuildOptions]-?: BuildField<K> };

export const stringList = { type: 'array', items: { type: 'string' } };
export const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
/** An object with these properties and no others. */
export const closedObject = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

/** `--flag value` once per entry. */
const each = (flag: string) => (values: readonly string[]) => values.flatMap((v) => [flag, v]);

function sortedEntries(record: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function copyList(key: string) {
  return (build: ComposeBuild, fail: FieldFailure): string[] | undefined => {
    const v = build[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((e) => typeof e !== 'string')) fail(`build.${key} must be a list of strings`, `build.${key}`);
    return [...(v as string[])];
  };
}

function copyScalar<T extends 'string' | 'boolean'>(key: string, type: T) {
  return (build: ComposeBuild, fail: FieldFailure): (T extends 'string' ? string : boolean) | undefined => {
    const v = build[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== type) fail(`build.${key} must be a ${type}`, `build.${key}`);
    return v as T extends 'string' ? string : boolean;
  };
}

/** buildx parses `--secret` and `--output` as CSV: quote a field that holds a comma or a quote. */
export function csvField(field: string): string {
  return /[",\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function secretArg(secret: SecretSpec): string {
  const fields = [`id=${secret.id}`];
  if (secret.src !== undefined) fields.push(`src=${secret.src}`);
  else if (secret.env !== undefined) fields.push(`env=${secret.env}`);
  return fields.map(csvField).join(',');
}

/** Resolves a `service:x` / `target:x` context to `docker-image://<x's first tag>`; other values pass unchanged. */
export function buildContextValue(value: string, serviceImages: Record<string, string> = {}): string {
  const service = serviceContextName(value);
  if (service === undefined) return value;
  const image = serviceImages[service];
  if (!image) {
    throw new Error(
      `Build context "${value}" names service "${service}", but no image is known for it ` +
        `(serviceImages has: ${Object.keys(serviceImages).join(', ') || 'nothing'}). Give that service an image or tag.`,
    );
  }
  return `docker-image://${image}`;
}

/** Compose prints extra hosts as `host=ip`; buildx 0.13's `--add-host` wants `host:ip`. */
function addHostArg(entry: string): string {
  const m = /^([^=:]+)=(.+)$/.exec(entry);
  return m ? `${m[1]}:${m[2]}` : entry;
}

/** Compose `ulimits` (`nproc: 65535`, `nofile: {soft, hard}`) → sorted `--ulimit` values `nofile=20000:40000`. */
function ulimitArgs(build: ComposeBuild, fail: FieldFailure): string[] | undefined {
  const ulimits = build.ulimits;
  if (ulimits === undefined || ulimits === null) return undefined;
  if (typeof ulimits !== 'object' || Array.isArray(ulimits)) fail('build.ulimits must be a mapping', 'build.ulimits');
  const limit = (name: string, v: unknown): string => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n)) fail(`build.ulimits.${name} must be a number or {soft, hard}`, 'build.ulimits');
    return String(n);
  };
  const out = Object.keys(ulimits)
    .sort()
    .map((name) => {
      const v = (ulimits as Record<string, unknown>)[name];
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const { soft, hard } = v as { soft?: unknown; hard?: unknown };
        return `${name}=${limit(name, soft)}:${limit(name, hard)}`;
      }
      return `${name}=${limit(name, v)}`;
    });
  return out.length ? out : undefined;
}

/** `entitlements` as written, plus `security.insecure` for `privileged: true` (as bake maps them). */
function entitlementsOf(build: ComposeBuild, fail: FieldFailure): string[] | undefined {
  const listed = copyList('entitlements')(build, fail) ?? [];
  if (build.privileged !== undefined && typeof build.privileged !== 'boolean')
    fail('build.privileged must be a boolean', 'build.privileged');
  const all = [...new Set([...(build.privileged ? ['security.insecure'] : []), ...listed])];
  return all.length ? all : undefined;
}

function platformsOf(build: ComposeBuild, fail: FieldFailure): string[] {
  const platforms: string[] = [];
  for (const platform of copyList('platforms')(build, fail) ?? []) {
    if (!isValidPlatform(platform)) fail(`invalid platform "${platform}" in build.platforms`, 'build.platforms');
    const normalized = normalizePlatform(platform);
    if (!platforms.includes(normalized)) platforms.push(normalized);
  }
  return platforms;
}

/** `args: [KEY]` with KEY unset in the environment is dropped, as Compose does. */
function definedArgs(build: ComposeBuild): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of sortedEntries(build.args as Record<string, string> | undefined)) {
    if (value !== null && value !== undefined) setKey(out, key, String(value)); // `__proto__` is an arg name like any other
  }
  return out;
}

/** Keyed by option name; the order of the rows is the order of the flags. */
export const BUILD_FIELDS: BuildFieldTable = {
  context: {
    compose: ['context'],
    schema: {
      type: 'string',
      description: 'Build context: a workspace-relative folder, or a URL / git context / `service:x` exactly as written in compose.',
    },
  },
  platforms: {
    compose: ['platforms'],
    fromCompose: platformsOf,
    schema: {
      ...stringList,
      description:
        "Target platforms (`--platform a,b`), e.g. linux/amd64, linux/arm64, linux/arm/v7. Empty: the builder's default platform.",
    },
    empty: () => [],
    normalize: normalizePlatforms,
    argv: (platforms) => (platforms.length ? ['--platform', normalizePlatforms(platforms).join(',')] : []),
  },
  dockerfile: {
    compose: ['dockerfile'],
    schema: {
      type: 'string',
      description: 'Workspace-relative Dockerfile path (`-f`). Absent when dockerfileInline is set or the context is remote.',
    },
    argv: (dockerfile, options) => (options.dockerfileInline === undefined && dockerfile ? ['-f', dockerfile] : []),
  },
  dockerfileInline: {
    compose: ['dockerfile_inline'],
    fromCompose: copyScalar('dockerfile_inline', 'string'),
    schema: { type: 'string', description: 'Inline Dockerfile (compose `dockerfile_inline`), passed as `-f -` on stdin.' },
    argv: () => ['-f', '-'],
  },
  target: {
    compose: ['target'],
    fromCompose: copyScalar('target', 'string'),
    schema: { type: 'string', description: 'Dockerfile stage to build (`--target`).' },
    argv: (target) => (target ? ['--target', target] : []),
  },
  args: {
    compose: ['args'],
    fromCompose: definedArgs,
    schema: { ...stringMap, description: 'Build arguments (`--build-arg K=V`, sorted by key). Never holds secrets.' },
    empty: () => ({}),
    argv: (args, options) =>
      sortedEntries(consistentPlatformArgs(args, normalizePlatforms(options.platforms ?? []))).flatMap(([k, v]) => [
        '--build-arg',
        `${k}=${v}`,
      ]),
  },
  labels: {
    compose: ['labels'],
    fromCompose: (build) => ({ ...(build.labels ?? {}) }),
    schema: { ...stringMap, description: 'Image labels (`--label K=V`). They win over the generated OCI labels.' },
    empty: () => ({}),
    argv: (labels) => sortedEntries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
  },
  tags: {
    compose: ['tags'],
    schema: { ...stringList, description: 'Image tags (`-t`); the first one names the image.' },
    empty: () => [],
    argv: each('-t'),
  },
  cacheFrom: {
    compose: ['cache_from'],
    fromCompose: (build, fail) => copyList('cache_from')(build, fail) ?? [],
    schema: { ...stringList, description: '`--cache-from` entries, e.g. type=registry,ref=127.0.0.1:5000/app:buildcache.' },
    empty: () => [],
    argv: each('--cache-from'),
  },
  cacheTo: {
    compose: ['cache_to'],
    fromCompose: (build, fail) => copyList('cache_to')(build, fail) ?? [],
    schema: {
      ...stringList,
      description: '`--cache-to` entries, e.g. type=registry,ref=...,mode=max. Give each image its own ref or scope.',
    },
    empty: () => [],
    argv: each('--cache-to'),
  },
  secrets: {
    compose: ['secrets'],
    schema: {
      type: 'array',
      description: 'Build secrets (`--secret id=…,src=…` or `id=…,env=…`): only ids, file paths and variable names, never values.',
      items: closedObject(
        {
          id: { type: 'string', description: 'Secret id (`RUN --mount=type=secret,id=…`).' },
          src: { type: 'string', description: 'Workspace-relative file holding the secret.' },
          env: { type: 'string', description: 'Environment variable holding the secret.' },
        },
        ['id'],
      ),
    },
    empty: () => [],
    argv: (secrets) => secrets.flatMap((s) => ['--secret', secretArg(s)]),
  },
  ssh: {
    compose: ['ssh'],
    fromCompose: (build, fail) => copyList('ssh')(build, fail) ?? [],
    schema: { ...stringList, description: 'SSH agent sockets or keys to expose (`--ssh`), e.g. default.' },
    empty: () => [],
    argv: each('--ssh'),
  },
  additionalContexts: {
    compose: ['additional_contexts'],
    schema: {
      ...stringMap,
      description:
        'Named build contexts (`--build-context name=value`): workspace-relative folders, docker-image://, URLs, or `service:x` (resolved through serviceImages).',
    },
    empty: () => ({}),
    argv: (contexts, _options, settings) =>
      sortedEntries(contexts).flatMap(([name, value]) => [
        '--build-context',
        `${name}=${buildContextValue(value, settings.serviceImages)}`,
      ]),
  },
  network: {
    compose: ['network'],
    fromCompose: copyScalar('network', 'string'),
    schema: { type: 'string', description: 'Network mode for RUN steps (`--network`), e.g. none.' },
    argv: (network) => (network ? ['--network', network] : []),
  },
  shmSize: {
    compose: ['shm_size'],
    fromCompose: (build) => (build.shm_size !== undefined && build.shm_size !== null ? String(build.shm_size) : undefined),
    schema: { type: 'string', description: 'Size of /dev/shm for RUN steps (`--shm-size`), e.g. 2g.' },
    argv: (size) => (size ? ['--shm-size', size] : []),
  },
  extraHosts: {
    compose: ['extra_hosts'],
    fromCompose: (build, fail) => copyList('extra_hosts')(build, fail) ?? [],
    schema: { ...stringList, description: 'Extra /etc/hosts entries (`--add-host host:ip`; `host=ip` is accepted).' },
    empty: () => [],
    argv: (hosts) => hosts.flatMap((h) => ['--add-host', addHostArg(h)]),
  },
  noCache: {
    compose: ['no_cache'],
    fromCompose: copyScalar('no_cache', 'boolean'),
    schema: { type: 'boolean', description: 'Do not use the build cache (`--no-cache`).' },
    argv: (noCache) => (noCache ? ['--no-cache'] : []),
  },
  pull: {
    compose: ['pull'],
    fromCompose: copyScalar('pull', 'boolean'),
    schema: { type: 'boolean', description: 'Always pull referenced images (`--pull`).' },
    argv: (pull) => (pull ? ['--pull'] : []),
  },
  ulimits: {
    compose: ['ulimits'],
    fromCompose: ulimitArgs,
    schema: { ...stringList, description: 'Resource limits for RUN steps (`--ulimit`), e.g. nofile=1024:2048.' },
    argv: each('--ulimit'),
  },
  entitlements: {
    compose: ['entitlements', 'privileged'],
    fromCompose: entitlementsOf,
    schema: {
      ...stringList,
      description:
        'Extra privileges for the build (`--allow`), e.g. network.host; compose `privileged: true` adds security.insecure. The builder must permit them.',
    },
    argv: each('--allow'),
  },
};

// The rows, typed loosely once so that loops over them need no cast per row.
const FIELD_ENTRIES = Object.entries(BUILD_FIELDS) as Array<[keyof BuildOptions, BuildField<keyof BuildOptions>]>;

/** Compose keys under `build:` that buildx cannot honour, with why; a value other than the accepted one is an error. */
export const UNSUPPORTED_BUILD_KEYS: Record<string, { accepted: unknown; reason: string }> = {
  isolation: { accepted: 'default', reason: 'docker buildx has no --isolation (it selects Windows container isolation)' },
};

/** Every compose key the table reads, plus the unsupported ones (which get their own error). */
export const KNOWN_BUILD_KEYS: ReadonlySet<string> = new Set([
  ...FIELD_ENTRIES.flatMap(([, field]) => field.compose),
  ...Object.keys(UNSUPPORTED_BUILD_KEYS),
]);

/** The spec fields the table maps straight from compose (the rest are resolved by from-compose.ts). */
export function mappedFromCompose(build: ComposeBuild, fail: FieldFailure): Partial<BuildOptions> {
  const out: Record<string, unknown> = {};
  for (const [option, field] of FIELD_ENTRIES) {
    const value = field.fromCompose?.(build, fail);
    if (value !== undefined) out[option] = value;
  }
  return out as Partial<BuildOptions>;
}

/** Exactly the build fields of `source`, normalised, with the empty value for each absent required field. */
export function buildOptionsFrom(source: Partial<BuildOptions> & { context: string }): BuildOptions {
  const out: Record<string, unknown> = {};
  for (const [option, field] of FIELD_ENTRIES) {
    const value = source[option] ?? field.empty?.();
    if (value !== undefined) out[option] = field.normalize ? field.normalize(value as never) : value;
  }
  return out as unknown as BuildOptions;
}

/**
 * `options` less each build field that holds its empty value (`[]`, `{}`): buildOptionsFrom, which
 * every executor's normalisation runs, puts them back. A thousand services' targets then carry
 * fewer keys through Nx (its source maps and project-graph cache hold one entry per key).
 */
export function withoutEmptyFields<T extends Partial<BuildOptions>>(options: T): T {
  const out: Record<string, unknown> = { ...options };
  for (const [option, field] of FIELD_ENTRIES) {
    const value = out[option];
    if (!field.empty || value === null || typeof value !== 'object') continue;
    if (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0) delete out[option];
  }
  return out as T;
}

/** The buildx flags of every build field, in table order (the context itself is not among them). */
export function buildFieldArgv(options: BuildOptions, settings: FlagSettings): string[] {
  const argv: string[] = [];
  for (const [option, field] of FIELD_ENTRIES) {
    const value = options[option];
    if (value !== undefined && field.argv) argv.push(...field.argv(value as never, options, settings));
  }
  return argv;
}

/** JSON-schema properties of the build fields, for the docker-build and docker-push executor schemas. */
export function buildFieldSchemas(): Record<string, JsonSchema> {
  return Object.fromEntries(FIELD_ENTRIES.map(([option, field]) => [option, field.schema]));
}
