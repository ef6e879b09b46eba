/**
 * Compose-spec merge of two compose models (compose-go `override`): mappings merge, scalars are replaced,
 * sequences append; key/value sections merge by key; some sequences are de-duplicated; `!reset` removes
 * and `!override` replaces. Tags survive merging (so a later file still sees them) until `stripTags`.
 */
import { parseVolume } from './transform/volume';
import { isPlainObject, setKey, Tagged, type PathPart } from './yaml-source';

export class MergeError extends Error {
  constructor(readonly path: PathPart[]) {
    super(`cannot override ${path.join('.')}: the two files use different types`);
    this.name = 'MergeError';
  }
}

type Rule = 'keyValue' | 'override' | 'build' | 'append' | 'sequence' | 'extraHosts' | 'dependsOn' | 'networks' | 'logging';

/**
 * Paths (with `*` for any key) whose merge differs from the generic rule: compose-go v2.4.8 `override/merge.go`
 * `mergeSpecials`. The base is in canonical form (see transform/canonical.ts), the override as written, so
 * these rules accept a short form on either side. `keyValue` stands for compose-go's mergeToSequence followed
 * by its unicity rule: the same result, kept as a mapping.
 */
const RULES: Array<[string, Rule]> = [
  ['networks.*.labels', 'keyValue'],
  ['volumes.*.labels', 'keyValue'],
  ['services.*.annotations', 'keyValue'],
  ['services.*.build', 'build'],
  ['services.*.build.args', 'keyValue'],
  ['services.*.build.additional_contexts', 'keyValue'],
  ['services.*.build.extra_hosts', 'extraHosts'],
  ['services.*.build.labels', 'keyValue'],
  ['services.*.command', 'override'],
  ['services.*.depends_on', 'dependsOn'],
  ['services.*.deploy.labels', 'keyValue'],
  ['services.*.dns', 'sequence'],
  ['services.*.dns_opt', 'sequence'],
  ['services.*.dns_search', 'sequence'],
  ['services.*.entrypoint', 'override'],
  ['services.*.env_file', 'sequence'],
  ['services.*.label_file', 'sequence'],
  ['services.*.environment', 'keyValue'],
  ['services.*.extra_hosts', 'extraHosts'],
  ['services.*.healthcheck.test', 'override'],
  ['services.*.labels', 'keyValue'],
  ['services.*.logging', 'logging'],
  ['services.*.networks', 'networks'],
  ['services.*.sysctls', 'keyValue'],
  ['services.*.tmpfs', 'sequence'],
  ['services.*.ulimits.*', 'override'],
];

/** compose-go's keyValueIndexer: `K=V` and `K` share the key `K`. */
const keyOf = (v: unknown) => String(v).split('=')[0];

/** Sequences de-duplicated after merging (compose-go `EnforceUnicity`): a later entry replaces an earlier one with the same key. */
const UNIQUE: Array<[string, (item: unknown) => string]> = [
  ['services.*.annotations', keyOf],
  ['services.*.build.args', keyOf],
  ['services.*.build.additional_contexts', keyOf],
  ['services.*.build.tags', keyOf],
  ['services.*.build.labels', keyOf],
  ['services.*.cap_add', keyOf],
  ['services.*.cap_drop', keyOf],
  ['services.*.configs', (v) => mountKey(v, '')],
  ['services.*.deploy.labels', keyOf],
  ['services.*.devices', deviceKey],
  ['services.*.dns', keyOf],
  ['services.*.dns_opt', keyOf],
  ['services.*.dns_search', keyOf],
  ['services.*.environment', keyOf],
  ['services.*.env_file', (v) => (isPlainObject(v) ? String(v.path) : String(v))],
  ['services.*.expose', (v) => String(v)],
  ['services.*.labels', keyOf],
  ['services.*.links', keyOf],
  ['services.*.networks.*.aliases', keyOf],
  ['services.*.networks.*.link_local_ips', keyOf],
  ['services.*.ports', portKey],
  ['services.*.profiles', keyOf],
  ['services.*.secrets', (v) => mountKey(v, '/run/secrets')],
  ['services.*.sysctls', keyOf],
  ['services.*.tmpfs', keyOf],
  ['services.*.volumes', (v) => (isPlainObject(v) ? String(v.target) : String(parseVolume(String(v))?.target ?? v))],
];

function portKey(v: unknown): string {
  if (!isPlainObject(v)) return String(v);
  return `${v.host_ip ?? '0.0.0.0'}:${v.published ?? ''}:${v.target}/${v.protocol ?? 'tcp'}`;
}

function deviceKey(v: unknown): string {
  if (isPlainObject(v)) return String(v.target);
  const parts = String(v).split(':');
  return parts.length === 1 ? parts[0] : parts[1];
}

function mountKey(v: unknown, prefix: string): string {
  if (isPlainObject(v)) return typeof v.target === 'string' ? v.target : `${prefix}/${String(v.source)}`;
  return `${prefix}/${String(v)}`;
}

/** A key-path pattern split once: the merge asks for every node it visits. */
const compiled = <T>(table: Array<[string, T]>): Array<[string[], T]> => table.map(([p, v]) => [p.split('.'), v]);

function matches(path: readonly PathPart[], parts: readonly string[]): boolean {
  return parts.length === path.length && parts.every((p, i) => p === '*' || p === String(path[i]));
}

const RULE_PARTS = compiled(RULES);
const UNIQUE_PARTS = compiled(UNIQUE);
const ruleFor = (path: readonly PathPart[]) => RULE_PARTS.find(([p]) => matches(path, p))?.[1] ?? 'append';

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

/** compose-go `convertIntoSequence`: a mapping becomes sorted `k=v` (or `k`) entries, a string a one-entry list. */
function toSequence(v: unknown, path: readonly PathPart[]): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [v];
  if (isPlainObject(v))
    return Object.entries(v)
      .map(([k, e]) => (e === null || e === undefined ? k : `${k}=${String(e)}`))
      .sort();
  throw new MergeError([...path]);
}

/** compose-go `convertIntoMapping`: a list of names becomes `{name: fill()}`. */
function toMapping(v: unknown, path: readonly PathPart[], fill: () => unknown): Record<string, unknown> {
  if (isPlainObject(v)) return v;
  if (Array.isArray(v)) {
    const out: Record<string, unknown> = {};
    for (const name of v) setKey(out, String(name), fill());
    return out;
  }
  throw new MergeError([...path]);
}

export function mergeValues(base: unknown, over: unknown, path: PathPart[]): unknown {
  if (over instanceof Tagged) return over;
  const b = baseValue(base);
  if (b === undefined || b === null) return over;
  if (over === undefined) return b;
  const rule = ruleFor(path);
  if (rule === 'override') return over;
  if (over === null) return b;
  // compose-go appends "K=V" entries then keeps the last per key: an override `K` (no value) replaces `K=V`.
  if (rule === 'keyValue') return { ...toKeyValueMap(b, path), ...toKeyValueMap(over, path) };
  if (rule === 'sequence') return [...toSequence(b, path), ...toSequence(over, path)];
  if (rule === 'extraHosts') {
    const base = toSequence(b, path);
    return [...base, ...toSequence(over, path).filter((e) => !base.includes(e))];
  }
  if (rule === 'dependsOn' || rule === 'networks') {
    const fill = rule === 'dependsOn' ? () => ({ condition: 'service_started', required: true }) : () => null;
    return mergeMappings(toMapping(b, path, fill), toMapping(over, path, fill), path);
  }
  if (rule === 'logging') {
    if (!isPlainObject(b) || !isPlainObject(over)) throw new MergeError(path);
    const same = over.driver === undefined || b.driver === undefined || over.driver === b.driver;
    return same ? mergeMappings(b, over, path) : over;
  }
  if (rule === 'build') {
    const asMap = (v: unknown) => (typeof v === 'string' ? { context: v } : v);
    const bm = asMap(b);
    const om = asMap(over);
    if (!isPlainObject(bm) || !isPlainObject(om)) throw new MergeError(path);
    return mergeMappings(bm, om, path);
  }
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
    const indexer = UNIQUE_PARTS.find(([p]) => matches(path, p))?.[1];
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

/** compose-go `OmitEmpty`: empty (null or "") entries of `services.*.dns` mean nothing. */
export function omitEmpty(model: Record<string, unknown>): Record<string, unknown> {
  const services = model.services;
  if (!isPlainObject(services)) return model;
  const out: Record<string, unknown> = {};
  for (const [name, svc] of Object.entries(services)) {
    if (isPlainObject(svc) && Array.isArray(svc.dns)) setKey(out, name, { ...svc, dns: svc.dns.filter((e) => e !== null && e !== '') });
    else setKey(out, name, svc);
  }
  return { ...model, services: out };
}
