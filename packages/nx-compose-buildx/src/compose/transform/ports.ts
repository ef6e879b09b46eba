import { isPlainObject } from '../yaml-source';
import type { Transform } from './types';

interface PortEntry {
  key: string;
  config: Record<string, unknown>;
}

const range = (s: string): [number, number] | undefined => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  return end >= start ? [start, end] : undefined;
};

/** One short-syntax port (`[ip:][published[-range]:]target[-range][/proto]`), as compose-go `types.ParsePortConfig`. */
export function parsePort(spec: string): Array<Record<string, unknown>> | undefined {
  const slash = spec.lastIndexOf('/');
  const protocol = slash >= 0 ? spec.slice(slash + 1).toLowerCase() : 'tcp';
  let rest = slash >= 0 ? spec.slice(0, slash) : spec;
  let hostIp: string | undefined;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1];
    rest = v6[2];
  }
  const parts = rest.split(':');
  if (!hostIp && parts.length === 3) hostIp = parts.shift();
  if (parts.length > 2 || protocol === '') return undefined;
  const [published, target] = parts.length === 2 ? parts : [undefined, parts[0]];
  const targets = range(target);
  const publishedRange = published ? range(published) : undefined;
  if (!targets || (published && !publishedRange)) return undefined;
  const count = targets[1] - targets[0] + 1;
  const pairwise = publishedRange !== undefined && publishedRange[1] - publishedRange[0] + 1 === count;
  if (publishedRange && !pairwise && count > 1) return undefined;
  const entries: PortEntry[] = [];
  for (let i = 0; i < count; i++) {
    const port = targets[0] + i;
    const config: Record<string, unknown> = { mode: 'ingress' };
    if (hostIp) config.host_ip = hostIp;
    config.target = port;
    if (published) config.published = pairwise ? String(publishedRange![0] + i) : published;
    config.protocol = protocol;
    entries.push({ key: `${port}/${protocol}`, config });
  }
  // compose-go sorts the parsed ports by their "port/proto" key, as strings.
  return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((e) => e.config);
}

/** `ports: ["8080:80", 9000]` → long syntax (`{mode, host_ip, target, published, protocol}`), ranges expanded. */
export const transformPorts: Transform = (value) => {
  if (!Array.isArray(value)) return value;
  const out: unknown[] = [];
  for (const entry of value) {
    if (isPlainObject(entry)) {
      out.push(entry);
      continue;
    }
    const parsed = typeof entry === 'string' || typeof entry === 'number' ? parsePort(String(entry)) : undefined;
    // Ports never change a build: what compose-go cannot parse is kept as written, never an error here.
    if (!parsed) return value;
    out.push(...parsed);
  }
  return out;
};
