import type { Transform } from './types';

/** `ssh: [default, id=path]` → `{default: null, id: path}`. Entries Compose rejects are left as written. */
export const transformSSH: Transform = (value) => {
  if (!Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const e of value) {
    if (typeof e !== 'string') return value;
    const eq = e.indexOf('=');
    if (eq < 0 && e !== 'default') return value;
    out[eq < 0 ? e : e.slice(0, eq)] = eq < 0 ? null : e.slice(eq + 1);
  }
  return out;
};
