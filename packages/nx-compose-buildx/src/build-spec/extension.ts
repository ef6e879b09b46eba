import { closest } from '../buildx/closest';
import { platformFromName } from '../buildx/platform';
import { KNOWN_BUILD_KEYS } from './build-fields';

/**
 * The service-level compose extension `x-nx-buildx`: settings Compose itself has
 * no key for. Compose ignores `x-` keys, so the same file still works with
 * `docker compose build`.
 *
 *   services:
 *     api:
 *       build: ./api
 *       x-nx-buildx:
 *         verify: ["/app/run-tests.sh"]     # docker-verify runs this on every platform
 *         platformArgs:                     # build args of one platform (keys: linux/arm64, arm64 or aarch64)
 *           linux/arm64: { EXTRA_FEATURES: neon }
 *           linux/amd64: { EXTRA_FEATURES: simd }
 *         platformConfig:                   # merged per platform into the `config` build context
 *           base: config/base.json          # JSON or YAML, relative to the compose project folder
 *           overlays: { linux/arm64: config/arm64.json }
 *           name: config.json               # file name in the context (default config.json)
 *
 * A service with platformArgs or platformConfig is built one platform at a time
 * (one Nx task per platform) and its manifest list is assembled from those images.
 */
export const EXTENSION_KEY = 'x-nx-buildx';

export interface PlatformConfigExtension {
  /** Base config file as written (relative to the compose project folder). */
  base: string;
  /** Normalised platform → overlay file as written. */
  overlays: Record<string, string>;
  /** File name of the merged config in the build context. */
  name: string;
}

export interface ServiceExtension {
  /** Command run in the image on each platform by docker-verify, instead of `uname -m`. */
  verify?: string[];
  /** Normalised platform → build args of that platform only. */
  platformArgs?: Record<string, Record<string, string>>;
  platformConfig?: PlatformConfigExtension;
}

const KNOWN_KEYS = ['verify', 'platformArgs', 'platformConfig'];
const PLATFORM_CONFIG_KEYS = ['base', 'overlays', 'name'];

/**
 * A key that has no effect where it is written. Compose accepts any key under an `x-` extension, so
 * this is a warning, not an error: the service still builds, without the setting.
 */
export interface ExtensionWarning {
  /** Dotted key path in the service (`x-nx-buildx.platformArg`), for the line in the message. */
  key: string;
  message: string;
}

/** The warning for a key that is not one of `known`, naming the right key or the right place. */
function unknownKey(key: string, where: string, known: readonly string[]): ExtensionWarning {
  const at = `${where}.${key}`;
  if (where === EXTENSION_KEY && KNOWN_BUILD_KEYS.has(key)) {
    return { key: at, message: `${at} has no effect: ${key} is a compose build key, write it under build: (build.${key})` };
  }
  const guess = closest(key, known);
  return {
    key: at,
    message: `unknown key "${key}" under ${where} has no effect${guess ? `; did you mean "${guess}"?` : ''} (known: ${known.join(', ')})`,
  };
}

/** The warning for `x-nx-buildx` written under `build:`, where the plugin does not read it. */
export function extensionUnderBuildWarning(service: string): ExtensionWarning {
  return {
    key: `build.${EXTENSION_KEY}`,
    message:
      `build.${EXTENSION_KEY} has no effect: ${EXTENSION_KEY} is read at service level, beside build: ` +
      `(services.${service}.${EXTENSION_KEY}); move it up one level`,
  };
}

/** The warning for `x-nx-buildx` on a service that has no `build:`: nothing is built, so nothing reads it. */
export function extensionWithoutBuildWarning(): ExtensionWarning {
  return {
    key: EXTENSION_KEY,
    message: `${EXTENSION_KEY} has no effect: the service has no build: section, so the plugin builds nothing for it`,
  };
}

/** Keys of a per-platform mapping, normalised to platforms; a bad or repeated key is a problem. */
function platformKeyed<T>(
  raw: Record<string, unknown>,
  where: string,
  problems: string[],
  read: (value: unknown, at: string) => T | undefined,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(raw)) {
    let platform: string;
    try {
      platform = platformFromName(key);
    } catch {
      problems.push(`${where}: "${key}" is not a platform (write linux/arm64, arm64 or aarch64)`);
      continue;
    }
    if (platform in out) {
      problems.push(`${where}: "${key}" names ${platform} twice`);
      continue;
    }
    const read_ = read(value, `${where}.${key}`);
    if (read_ !== undefined) out[platform] = read_;
  }
  return out;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readPlatformArgs(raw: unknown, problems: string[]): Record<string, Record<string, string>> | undefined {
  const where = `${EXTENSION_KEY}.platformArgs`;
  if (!isMapping(raw)) {
    problems.push(`${where} must be a mapping of platform to build args`);
    return undefined;
  }
  return platformKeyed(raw, where, problems, (value, at) => {
    if (!isMapping(value)) {
      problems.push(`${at} must be a mapping of build arg to value`);
      return undefined;
    }
    const args: Record<string, string> = {};
    for (const [name, v] of Object.entries(value)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') args[name] = String(v);
      else problems.push(`${at}.${name} must be a string, number or boolean`);
    }
    return args;
  });
}

function readPlatformConfig(raw: unknown, problems: string[], warnings: ExtensionWarning[]): PlatformConfigExtension | undefined {
  const where = `${EXTENSION_KEY}.platformConfig`;
  if (!isMapping(raw)) {
    problems.push(`${where} must be a mapping with base, overlays and optionally name`);
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw)) {
    if (!PLATFORM_CONFIG_KEYS.includes(key)) warnings.push(unknownKey(key, where, PLATFORM_CONFIG_KEYS));
  }
  if (typeof raw.base !== 'string' || !raw.base.trim()) problems.push(`${where}.base must be a file path`);
  const name = raw.name ?? 'config.json';
  if (typeof name !== 'string' || !name || /[/\\]/.test(name)) problems.push(`${where}.name must be a plain file name`);
  let overlays: Record<string, string> = {};
  if (raw.overlays !== undefined) {
    if (!isMapping(raw.overlays)) problems.push(`${where}.overlays must be a mapping of platform to file path`);
    else {
      overlays = platformKeyed(raw.overlays, `${where}.overlays`, problems, (value, at) => {
        if (typeof value === 'string' && value.trim()) return value;
        problems.push(`${at} must be a file path`);
        return undefined;
      });
    }
  }
  return problems.length > before ? undefined : { base: raw.base as string, overlays, name: name as string };
}

export interface ServiceExtensionResult {
  value: ServiceExtension;
  /** Values of the wrong shape: the service cannot be built as written (an error). */
  problems: string[];
  /** Keys that have no effect where they are written (unknown, misspelt or misplaced). */
  warnings: ExtensionWarning[];
}

export function readServiceExtension(definition: Record<string, unknown>): ServiceExtensionResult {
  const raw = definition[EXTENSION_KEY];
  const problems: string[] = [];
  const warnings: ExtensionWarning[] = [];
  const value: ServiceExtension = {};
  if (raw === undefined || raw === null) return { value, problems, warnings };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { value, problems: [`${EXTENSION_KEY} must be a mapping`], warnings };
  }
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    if (key === 'verify') {
      if (typeof v === 'string' && v.trim()) value.verify = v.trim().split(/\s+/);
      else if (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string')) value.verify = v as string[];
      else problems.push(`${EXTENSION_KEY}.verify must be a command string or a non-empty list of strings`);
    } else if (key === 'platformArgs') {
      const args = readPlatformArgs(v, problems);
      if (args) value.platformArgs = args;
    } else if (key === 'platformConfig') {
      const config = readPlatformConfig(v, problems, warnings);
      if (config) value.platformConfig = config;
    } else if (!key.startsWith('x-')) {
      warnings.push(unknownKey(key, EXTENSION_KEY, KNOWN_KEYS));
    }
  }
  return { value, problems, warnings };
}
