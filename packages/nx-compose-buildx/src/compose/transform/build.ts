import { isPlainObject } from '../yaml-source';
import type { Transform } from './types';

/** `build: ./dir` → `{context: ./dir}`; a mapping is walked further (build.ssh, build.secrets...). */
export const transformBuild: Transform = (value, path, descend) => {
  if (typeof value === 'string') return { context: value };
  return isPlainObject(value) ? descend(value, path) : value;
};
