/**
 * Relative path resolution (compose-go `paths`): build contexts, additional contexts, env files, extends files
 * and secret/config files resolve against a base folder (the project folder, or an extended/included file's
 * folder). Remote and named contexts stay as written; `dockerfile` stays as written.
 */
import * as path from 'node:path';
import { isPlainObject, setKey, Tagged } from './yaml-source';

const REMOTE_PREFIXES = ['https://', 'http://', 'git://', 'ssh://', 'github.com/', 'git@'];

/** True for contexts that are not local folders: URLs, git refs, `service:` and `docker-image://` style names. */
export function isRemoteContext(value: string): boolean {
  return value.includes('://') || value.startsWith('service:') || REMOTE_PREFIXES.some((p) => value.startsWith(p));
}

/** `~` expansion then join with `base` (absolute paths are kept, cleaned). */
export function absPath(value: string, base: string, homeDir?: string): string {
  let v = value;
  if (homeDir && (v === '~' || v.startsWith('~/'))) v = path.posix.join(homeDir, v.slice(1));
  return path.posix.resolve(base, v);
}

export function absContextPath(value: string, base: string, homeDir?: string): string {
  return isRemoteContext(value) ? value : absPath(value, base, homeDir);
}

/** Apply `fn` to a value that may be wrapped in a `!reset`/`!override` tag. */
function through(v: unknown, fn: (x: unknown) => unknown): unknown {
  if (v instanceof Tagged) return new Tagged(v.tag, v.tag === 'reset' ? v.value : fn(v.value));
  return fn(v);
}

function resolveBuild(build: unknown, base: string, home?: string): unknown {
  if (typeof build === 'string') return absContextPath(build, base, home);
  if (!isPlainObject(build)) return build;
  const out = { ...build };
  if (typeof out.context === 'string') out.context = absContextPath(out.context, base, home);
  if (out.additional_contexts !== undefined) {
    out.additional_contexts = through(out.additional_contexts, (ac) => {
      if (Array.isArray(ac)) {
        return ac.map((item) => {
          const s = String(item);
          const eq = s.indexOf('=');
          return eq < 0 ? s : `${s.slice(0, eq)}=${absContextPath(s.slice(eq + 1), base, home)}`;
        });
      }
      if (isPlainObject(ac)) {
        const m: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(ac)) setKey(m, k, typeof v === 'string' ? absContextPath(v, base, home) : v);
        return m;
      }
      return ac;
    });
  }
  return out;
}

function resolveEnvFile(v: unknown, base: string, home?: string): unknown {
  if (typeof v === 'string') return absPath(v, base, home);
  if (Array.isArray(v)) return v.map((e) => resolveEnvFile(e, base, home));
  if (isPlainObject(v) && typeof v.path === 'string') return { ...v, path: absPath(v.path, base, home) };
  return v;
}

/** Resolve the path-valued keys of one service definition against `base`. */
export function resolveServicePaths(service: Record<string, unknown>, base: string, homeDir?: string): Record<string, unknown> {
  const out = { ...service };
  if (out.build !== undefined) out.build = through(out.build, (b) => resolveBuild(b, base, homeDir));
  if (out.env_file !== undefined) out.env_file = through(out.env_file, (e) => resolveEnvFile(e, base, homeDir));
  if (isPlainObject(out.extends) && typeof out.extends.file === 'string') {
    out.extends = { ...out.extends, file: absPath(out.extends.file, base, homeDir) };
  }
  return out;
}

/** Resolve every service plus top-level `secrets.*.file` / `configs.*.file` of a model against `base`. */
export function resolveModelPaths(model: Record<string, unknown>, base: string, homeDir?: string): Record<string, unknown> {
  const out = { ...model };
  if (isPlainObject(out.services)) {
    const services: Record<string, unknown> = {};
    for (const [name, svc] of Object.entries(out.services)) {
      setKey(
        services,
        name,
        through(svc, (s) => (isPlainObject(s) ? resolveServicePaths(s, base, homeDir) : s)),
      );
    }
    out.services = services;
  }
  for (const section of ['secrets', 'configs']) {
    const defs = out[section];
    if (!isPlainObject(defs)) continue;
    const resolved: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(defs)) {
      setKey(resolved, name, isPlainObject(def) && typeof def.file === 'string' ? { ...def, file: absPath(def.file, base, homeDir) } : def);
    }
    out[section] = resolved;
  }
  return out;
}
