import { isPlainObject, setKey } from '../yaml-source';
import type { Transform } from './types';

/** A service mapping is walked key by key. */
export const transformService: Transform = (value, path, descend) => (isPlainObject(value) ? descend(value, path) : value);

/** `networks: [front]` → `{front: null}`. */
export const transformServiceNetworks: Transform = (value) => {
  if (!Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const name of value) setKey(out, String(name), null);
  return out;
};
