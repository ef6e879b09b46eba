import { isPlainObject } from '../yaml-source';
import type { Transform } from './types';

/** Top-level volumes/networks/secrets/configs: the deprecated `external: {name: x}` → `external: true, name: x`. */
export const transformMaybeExternal: Transform = (value, path, descend) => {
  if (!isPlainObject(value)) return value;
  const resource = descend(value, path) as Record<string, unknown>;
  const external = resource.external;
  if (isPlainObject(external)) {
    const out: Record<string, unknown> = { ...resource, external: true };
    if (external.name !== undefined && resource.name === undefined) out.name = external.name;
    return out;
  }
  return resource;
};
