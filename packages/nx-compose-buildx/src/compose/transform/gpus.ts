import type { Transform } from './types';

/** `gpus: all` → `[{count: all}]`. */
export const transformGpus: Transform = (value, path, descend) => {
  if (typeof value === 'string') return [{ count: 'all' }];
  return Array.isArray(value) ? descend(value, path) : value;
};
