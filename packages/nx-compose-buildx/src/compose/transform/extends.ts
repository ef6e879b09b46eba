import { isPlainObject } from '../yaml-source';
import type { Transform } from './types';

/** `extends: base` → `{service: base}`. */
export const transformExtends: Transform = (value, path, descend) => {
  if (typeof value === 'string') return { service: value };
  return isPlainObject(value) ? descend(value, path) : value;
};
