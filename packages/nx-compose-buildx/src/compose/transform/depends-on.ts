import { isPlainObject } from '../yaml-source';
import type { Transform } from './types';

const DEFAULTS = { condition: 'service_started', required: true } as const;

/** `depends_on: [a]` → `{a: {condition: service_started, required: true}}`; a mapping gets those defaults. */
export const transformDependsOn: Transform = (value) => {
  if (Array.isArray(value)) return Object.fromEntries(value.map((name) => [String(name), { ...DEFAULTS }]));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([name, d]) => [name, isPlainObject(d) ? { ...DEFAULTS, ...d } : d]));
};
