/**
 * Compose-spec merge of two compose models (compose-go `override`): mappings merge, scalars are replaced,
 * sequences append; key/value sections merge by key; some sequences are de-duplicated; `!reset` removes
 * and `!override` replaces. Tags survive merging (so a later file still sees them) until `stripTags`.
 */
import { isPlainObject, setKey, Tagged, type PathPart } from './yaml-source';

export class MergeError extends Error {
  constructor(readonly path: PathPart[]) {
    super(`cannot override ${path.join('.')}: the two files use different types`);
    this.name = 'MergeError';
  }
}

type Rule = 'keyValue' | 'override' | 'build' | 'append';

/** Paths (with `*` for any key) whose merge differs from the generic rule. */
const RULES: Array<[string, Rule]> = [
  ['services.*.build', 'build'],
  ['services.*.build.args', 'keyValue'],
  ['services.*.build.labels', 'keyValue'],
  ['services.*.build.additional_contexts', 'keyValue'],
  ['services.*.build.extra_hosts', 'keyValue'],
  ['services.*.environment', 'keyValue'],
  ['services.*.labels', 'keyValue'],
  ['services.*.annotations', 'keyValue'],
  ['services.*.sysctls', 'keyValue'],
  ['services.*.extra_hosts', 'keyValue'],
  ['services.*.deploy.labels', 'keyValue'],
  ['services.*.command', 'override'],
  ['services.*.entrypoint', 'override'],
  ['services.*.healthcheck.test', 'override'],
];

/** Sequences de-duplicated after merging (compose-go `EnforceUnicity`), by an identity key. */
const UNIQUE: Array<[string, (item: unknown) => string]> = [
  ['services.*.build.tags', (v) => String(v)],
  ['services.*.build.ssh', (v) => String(v).split('=')[0]],
  ['services.*.profiles', (v) => String(v)],
  ['services.*.cap_add', (v) => String(v)],
  ['services.*.cap_drop', (v) => String(v)],
  ['services.*.dns', (v) => String(v)],
  ['services.*.dns_search', (v) => String(v)],
  ['services.*.dns_opt', (v) => String(v)],
  ['services.*.expose', (v) => String(v)],
  ['services.*.env_file', (v) => (isPlainObject(v) ? String(v.path) : String(v))],
  ['services.*.secrets', (v) => mountKey(v, '/run/secrets/')],
  ['services.*.configs', (v) => mountKey(v, '/')],
];

function mountKey(v: unknown, prefix: string): string {
  if (isPlainObject(v)) return typeof v.target === 'string' ? v.target : `${prefix}${String(v.source)}`;
  return `${prefix}${String(v)}`;
}

function matches(path: readonly PathPart[], pattern: string): boolean {
  const parts = pattern.split('.');
  return parts.length === path.length && parts.every((p, i) => p === '*' || p === String(path[i]));
}

const ruleFor = (path: readonly PathPart[]) => RULES.find(([p]) => matches(path, p))?.[1] ?? 'append';

/** The value a base holds for merging: `!reset` means nothing, `!override` its value. */
function baseValue(v: unknown): unknown {
  if (v instanceof Tagged) return v.tag === 'reset' ? undefined : v.value;
  return v;
}

/** `["K=V", "K"]` or `{K: V}` → `{K: V}` (`K` alone → null). Values stay as written. */
export function toKeyValueMap(v: unknown, path: readonly PathPart[]): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (Array.isArray(v)) {
    const out: Record<string, unknown> = {};
    for (const item of v) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq < 0) setKey(out, s, null);
      else setKey(out, s.slice(0, eq), s.slice(eq + 1));
    }
    return out;
  }
  if (isPlainObject(v)) return { ...v };
  throw new MergeError([...path]);
}

export function mergeValues(base: unknown, over: unknown, path: PathPart[]): unknown {
  if (over instanceof Tagged) return over;
  const b = baseValue(base);
  if (b === undefined || b === null) return over;
  if (over === undefined) return b;
  const rule = ruleFor(path);
  if (rule === 'override') return over;
  // compose-go appends "K=V" entries then keeps the last per key: an override `K` (no value) replaces `K=V`.
  if (rule === 'keyValue') return { ...toKeyValueMap(b, path), ...toKeyValueMap(over, path) };
  if (rule === 'build') {
    const asMap = (v: unknown) => (typeof v === 'string' ? { context: v } : v);
    const bm = asMap(b);
    const om = asMap(over);
    if (!isPlainObject(bm) || !isPlainObject(om)) throw new MergeError(path);
    return mergeMappings(bm, om, path);
  }
  if (over === null) return b;
  if (isPlainObject(b)) {
    if (!isPlainObject(over)) throw new MergeError(path);
    return mergeMappings(b, over, path);
  }
  if (Array.isArray(b)) {
    if (!Array.isArray(over)) throw new MergeError(path);
    return [...b, ...over];
  }
  return over;
}

function mergeMappings(base: Record<string, unknown>, over: Record<string, unknown>, path: PathPart[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (!Object.prototype.hasOwnProperty.call(out, k) || k.startsWith('x-')) setKey(out, k, v);
    else setKey(out, k, mergeValues(out[k], v, [...path, k]));
  }
  return out;
}

/** Merge one compose model (or service, with `path` = ['services', name]) over another. */
export function mergeModels(base: Record<string, unknown>, over: Record<string, unknown>, path: PathPart[] = []): Record<string, unknown> {
  return enforceUnicity(mergeMappings(base, over, path), path) as Record<string, unknown>;
}

export function enforceUnicity(value: unknown, path: PathPart[]): unknown {
  if (value instanceof Tagged) return new Tagged(value.tag, enforceUnicity(value.value, path));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, enforceUnicity(v, [...path, k]));
    return out;
  }
  if (Array.isArray(value)) {
    const indexer = UNIQUE.find(([p]) => matches(path, p))?.[1];
    if (!indexer) return value;
    const seen = new Map<string, number>();
    const out: unknown[] = [];
    for (const item of value) {
      const key = indexer(item instanceof Tagged ? item.value : item);
      const at = seen.get(key);
      if (at !== undefined) out[at] = item;
      else {
        seen.set(key, out.length);
        out.push(item);
      }
    }
    return out;
  }
  return value;
}

/** Remove `!reset` entries and unwrap `!override` values, once every file has been merged. */
export function stripTags(value: unknown): unknown {
  if (value instanceof Tagged) return value.tag === 'reset' ? undefined : stripTags(value.value);
  if (Array.isArray(value)) return value.filter((v) => !(v instanceof Tagged && v.tag === 'reset')).map(stripTags);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v instanceof Tagged && v.tag === 'reset') continue;
      setKey(out, k, stripTags(v));
    }
    return out;
  }
  return value;
}
