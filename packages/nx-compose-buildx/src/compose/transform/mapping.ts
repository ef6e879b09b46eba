import { setKey } from '../yaml-source';
import type { Transform } from './types';

/** `["k=v"]` → `{k: v}` (build.additional_contexts). An entry without `=` is left to the later checks. */
export const transformKeyValue: Transform = (value) => {
  if (!Array.isArray(value) || value.some((e) => typeof e !== 'string' || !e.includes('='))) return value;
  const out: Record<string, unknown> = {};
  for (const e of value as string[]) setKey(out, e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1));
  return out;
};
