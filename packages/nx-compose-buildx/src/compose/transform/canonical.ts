/**
 * Canonical (long) form of a compose model (compose-go `transform/canonical.go`): every key that Compose accepts
 * in a short and a long form is rewritten to the long form, one small transform per key path, dispatched from the
 * table below. The loader runs it on the merged model after each file, as compose-go does; the merge rules
 * (merge.ts) handle a long-form base meeting a short-form override.
 * Transforms never fail: a value they cannot read is kept as written (schema validation reports bad types).
 */
import { isPlainObject, setKey, Tagged } from '../yaml-source';
import { transformBuild } from './build';
import { transformDependsOn } from './depends-on';
import { transformDeviceMapping } from './device';
import { transformEnvFile } from './env-file';
import { transformExtends } from './extends';
import { transformMaybeExternal } from './external';
import { transformGpus } from './gpus';
import { transformInclude } from './include';
import { transformKeyValue } from './mapping';
import { transformPorts } from './ports';
import { transformFileMount } from './secrets';
import { transformService, transformServiceNetworks } from './services';
import { transformSSH } from './ssh';
import type { Transform } from './types';
import { transformUlimits } from './ulimits';
import { transformVolumeMount } from './volume';

/** `value` → `[value]` for a string (dns, label_file). */
export const transformStringOrList: Transform = (value) => (typeof value === 'string' ? [value] : value);

/** Key path (`*` = any key or list item) → transform. compose-go v2.4.8's table, in its order. */
export const TRANSFORMS: ReadonlyArray<readonly [string, Transform]> = [
  ['services.*', transformService],
  ['services.*.build.secrets.*', transformFileMount],
  ['services.*.build.additional_contexts', transformKeyValue],
  ['services.*.depends_on', transformDependsOn],
  ['services.*.env_file', transformEnvFile],
  ['services.*.label_file', transformStringOrList],
  ['services.*.extends', transformExtends],
  ['services.*.gpus', transformGpus],
  ['services.*.networks', transformServiceNetworks],
  ['services.*.volumes.*', transformVolumeMount],
  ['services.*.dns', transformStringOrList],
  ['services.*.devices.*', transformDeviceMapping],
  ['services.*.secrets.*', transformFileMount],
  ['services.*.configs.*', transformFileMount],
  ['services.*.ports', transformPorts],
  ['services.*.build', transformBuild],
  ['services.*.build.ssh', transformSSH],
  ['services.*.ulimits.*', transformUlimits],
  ['services.*.build.ulimits.*', transformUlimits],
  ['volumes.*', transformMaybeExternal],
  ['networks.*', transformMaybeExternal],
  ['secrets.*', transformMaybeExternal],
  ['configs.*', transformMaybeExternal],
  ['include.*', transformInclude],
];

const patterns = TRANSFORMS.map(([pattern, fn]) => [pattern.split('.'), fn] as const);

function matches(pattern: readonly string[], path: readonly string[]): boolean {
  return pattern.length === path.length && pattern.every((p, i) => p === '*' || p === path[i]);
}

function transform(value: unknown, path: readonly string[]): unknown {
  if (value instanceof Tagged) return value.tag === 'reset' ? value : new Tagged(value.tag, transform(value.value, path));
  const fn = patterns.find(([pattern]) => matches(pattern, path))?.[1];
  return fn ? fn(value, path, descend) : descend(value, path);
}

/** Walk the children of a mapping or sequence (a list item's path segment is its index). */
function descend(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item, i) => transform(item, [...path, String(i)]));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, transform(v, [...path, k]));
    return out;
  }
  return value;
}

/** The model in canonical form (a new object; the input is not changed). */
export function canonical(model: Record<string, unknown>): Record<string, unknown> {
  return descend(model, []) as Record<string, unknown>;
}
