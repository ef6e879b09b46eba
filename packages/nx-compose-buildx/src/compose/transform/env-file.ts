import { isPlainObject } from '../yaml-source';
import type { Transform } from './types';

const entry = (v: unknown) => (typeof v === 'string' ? { path: v, required: true } : isPlainObject(v) ? { required: true, ...v } : v);

/** `env_file: a.env` → `[{path: a.env, required: true}]`; list entries likewise. */
export const transformEnvFile: Transform = (value) => {
  if (typeof value === 'string') return [entry(value)];
  return Array.isArray(value) ? value.map(entry) : value;
};
