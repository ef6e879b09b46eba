import type { Transform } from './types';

/** `devices: ["/dev/a:/dev/b:rw"]` → `{source, target, permissions}` (target defaults to source, permissions to rwm). */
export const transformDeviceMapping: Transform = (value) => {
  if (typeof value !== 'string') return value;
  const parts = value.split(':');
  if (parts.length > 3) return value;
  const [source, target, permissions] = parts;
  return { source, target: target || source, permissions: permissions ?? 'rwm' };
};
