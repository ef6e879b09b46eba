import type { Transform } from './types';

/** `include: [a.yaml]` entries → `{path: a.yaml}`. */
export const transformInclude: Transform = (value) => (typeof value === 'string' ? { path: value } : value);
