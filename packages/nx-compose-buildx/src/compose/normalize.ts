/**
 * Normalisation of a merged service into the shape `docker compose config --format json` prints (compose-go
 * `loader/normalize.go` + type casting): `build` long form with context/dockerfile defaults, args/labels/
 * additional_contexts as maps, `args: [KEY]` resolved from the environment (dropped when unset), lists of strings.
 */
import { toKeyValueMap } from './merge';
import { absContextPath } from './paths';
import type { VariableLookup } from './interpolate';
import { ComposeError, type ComposeBuild, type SourceLocation } from './types';
import { isPlainObject, setKey } from './yaml-source';

export interface NormalizedService {
  definition: Record<string, unknown>;
  build?: ComposeBuild;
  image?: string;
  profiles?: string[];
  platform?: string;
  /** Environment variables read to resolve `args: [KEY]` entries. */
  envLookups: string[];
}

const typeName = (v: unknown) =>
  Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;

const scalarString = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

export function normalizeService(
  name: string,
  def: Record<string, unknown>,
  projectDir: string,
  lookup: VariableLookup,
  where: SourceLocation,
  /** Where each key path (`build.args`) was set, so that a type error names its own line. */
  locations: Record<string, SourceLocation> = {},
): NormalizedService {
  const fail = (message: string, key?: string): never => {
    throw new ComposeError(message, { ...((key && locations[key]) || where), service: name });
  };
  const stringList = (v: unknown, key: string): string[] => {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) return fail(`${key} must be a list, not ${typeName(v)}`, key);
    return (v as unknown[]).map((item) => scalarString(item) ?? fail(`${key} entries must be strings`, key));
  };
  // The type only, never the value: args can hold secrets.
  const keyValue = (v: unknown, key: string): Record<string, unknown> =>
    v === null || v === undefined || Array.isArray(v) || isPlainObject(v)
      ? toKeyValueMap(v, key.split('.'))
      : fail(`${key} must be a mapping or a list of KEY=VALUE strings, not ${typeName(v)}`, key);
  const envLookups: string[] = [];
  const definition: Record<string, unknown> = { ...def };
  const out: NormalizedService = { definition, envLookups };

  if (def.image !== undefined && def.image !== null) {
    out.image = scalarString(def.image) ?? fail('image must be a string');
    definition.image = out.image;
  }
  if (def.platform !== undefined && def.platform !== null && def.platform !== '') {
    out.platform = scalarString(def.platform) ?? fail('platform must be a string');
  }
  if (def.profiles !== undefined && def.profiles !== null) {
    out.profiles = stringList(def.profiles, 'profiles');
    definition.profiles = out.profiles;
  }
  if (def.build !== undefined && def.build !== null) {
    const raw = typeof def.build === 'string' ? { context: def.build } : def.build;
    if (!isPlainObject(raw)) fail(`build must be a path or a mapping, not ${typeName(raw)}`, 'build');
    const b = raw as Record<string, unknown>;
    if (b.context !== undefined && b.context !== null && scalarString(b.context) === undefined)
      fail(`build.context must be a path or URL, not ${typeName(b.context)}`, 'build.context');
    const build: ComposeBuild = { ...b, context: absContextPath(scalarString(b.context) ?? '.', projectDir) };
    if (b.dockerfile_inline === undefined && (b.dockerfile === undefined || b.dockerfile === null || b.dockerfile === ''))
      build.dockerfile = 'Dockerfile';
    else if (b.dockerfile !== undefined && b.dockerfile !== null)
      build.dockerfile =
        scalarString(b.dockerfile) ?? fail(`build.dockerfile must be a string, not ${typeName(b.dockerfile)}`, 'build.dockerfile');
    if (b.args !== undefined) {
      const args: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(keyValue(b.args, 'build.args'))) {
        if (v === null || v === undefined) {
          envLookups.push(k);
          const fromEnv = lookup(k);
          if (fromEnv !== undefined) args[k] = fromEnv;
          continue;
        }
        setKey(args, k, scalarString(v) ?? fail(`build.args.${k} must be a string, number or boolean, not ${typeName(v)}`, 'build.args'));
      }
      build.args = args;
    }
    for (const key of ['labels', 'additional_contexts'] as const) {
      if (b[key] === undefined) continue;
      const m: Record<string, string> = {};
      for (const [k, v] of Object.entries(keyValue(b[key], `build.${key}`))) setKey(m, k, scalarString(v) ?? '');
      if (key === 'additional_contexts') for (const k of Object.keys(m)) m[k] = absContextPath(m[k], projectDir);
      build[key] = m;
    }
    for (const key of ['cache_from', 'cache_to', 'tags', 'platforms'] as const) {
      if (b[key] !== undefined) build[key] = stringList(b[key], `build.${key}`);
    }
    if (b.ssh !== undefined) {
      build.ssh = isPlainObject(b.ssh)
        ? Object.entries(b.ssh).map(([k, v]) => (v === null || v === undefined || v === '' ? k : `${k}=${String(v)}`))
        : stringList(b.ssh, 'build.ssh');
    }
    if (b.secrets !== undefined) {
      if (!Array.isArray(b.secrets)) fail(`build.secrets must be a list, not ${typeName(b.secrets)}`, 'build.secrets');
      build.secrets = (b.secrets as unknown[]).map((s) =>
        typeof s === 'string'
          ? { source: s }
          : isPlainObject(s) && typeof s.source === 'string'
            ? (s as { source: string })
            : fail('build.secrets entries must be a name or {source, target}', 'build.secrets'),
      );
    }
    for (const key of ['no_cache', 'pull', 'privileged'] as const) {
      const v = b[key];
      if (v === 'true' || v === 'false') build[key] = v === 'true';
    }
    if (b.extra_hosts !== undefined && b.extra_hosts !== null)
      build.extra_hosts =
        normalizeExtraHosts(b.extra_hosts) ??
        fail(`build.extra_hosts must be a list or a mapping, not ${typeName(b.extra_hosts)}`, 'build.extra_hosts');
    if (b.shm_size !== undefined && b.shm_size !== null)
      build.shm_size = toBytes(b.shm_size) ?? fail(`build.shm_size: invalid size ${JSON.stringify(b.shm_size)}`, 'build.shm_size');
    if (typeof b.target === 'number') build.target = String(b.target);
    out.build = build;
    definition.build = build;
  }
  return out;
}

/** `["host:ip"]`, `["host=ip"]` or `{host: ip}` → sorted `["host=ip"]`, as Compose 2.26 prints them. */
export function normalizeExtraHosts(v: unknown): string[] | undefined {
  if (Array.isArray(v)) {
    return v
      .map((entry): string => {
        const s = String(entry);
        if (s.includes('=')) return s;
        const colon = s.indexOf(':');
        return colon < 0 ? s : `${s.slice(0, colon)}=${s.slice(colon + 1)}`;
      })
      .sort();
  }
  if (isPlainObject(v))
    return Object.entries(v)
      .map(([host, ip]) => `${host}=${String(ip)}`)
      .sort();
  return undefined;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
};

/** `2gb` → `"2147483648"` (Compose prints byte sizes as decimal strings). */
export function toBytes(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(Math.trunc(v));
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  return String(Math.trunc(parseFloat(m[1]) * unit));
}
