import type { Transform } from './types';

const PROPAGATION = new Set(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']);
const isFilePath = (source: string) => /^[./~]/.test(source) || /^[a-zA-Z]:[\\/]/.test(source) || source.startsWith('\\\\');

/** One short-syntax volume (`[source:]target[:options]`), as compose-go `format.ParseVolume` (Linux paths). */
export function parseVolume(spec: string): Record<string, unknown> | undefined {
  if (spec === '') return undefined;
  if (spec.length <= 2) return { type: 'volume', target: spec, volume: {} };
  // compose-go: a colon right after a one-letter field is a Windows drive (`C:`), not a separator.
  const fields: string[] = [];
  let buffer = '';
  for (const ch of spec) {
    if (ch === ':' && !(buffer.length === 1 && /\p{L}/u.test(buffer))) {
      fields.push(buffer);
      buffer = '';
    } else buffer += ch;
  }
  fields.push(buffer);
  if (fields.some((f) => f === '')) return undefined;
  const [source, target, options] = fields.length === 1 ? [undefined, fields[0], undefined] : fields;
  if (fields.length > 3) return undefined;
  const volume: Record<string, unknown> = {};
  const bind: Record<string, unknown> = {};
  const nested: Record<string, unknown> = {};
  let readOnly = false;
  for (const option of options?.split(',') ?? []) {
    if (option === 'ro') readOnly = true;
    else if (option === 'rw') readOnly = false;
    else if (option === 'nocopy') nested.nocopy = true;
    else if (PROPAGATION.has(option)) bind.propagation = option;
    else if (option === 'z' || option === 'Z') bind.selinux = option;
  }
  const type = source !== undefined && isFilePath(source) ? 'bind' : 'volume';
  volume.type = type;
  if (source !== undefined) volume.source = source;
  volume.target = target.length > 1 ? target.replace(/\/+$/, '').replace(/\/{2,}/g, '/') || '/' : target;
  if (readOnly) volume.read_only = true;
  if (type === 'bind') volume.bind = { ...bind, create_host_path: true };
  else volume.volume = nested;
  return volume;
}

/** `volumes: ["./src:/app:ro"]` entries → long syntax. What cannot be parsed is kept as written. */
export const transformVolumeMount: Transform = (value) => (typeof value === 'string' ? (parseVolume(value) ?? value) : value);
