import type { Transform } from './types';

/** secrets / configs / build.secrets entries: `name` → `{source: name}`. */
export const transformFileMount: Transform = (value) => (typeof value === 'string' ? { source: value } : value);
