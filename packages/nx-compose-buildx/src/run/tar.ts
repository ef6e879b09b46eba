/**
 * Minimal tar, both ways: a streaming reader that keeps only the entries a caller wants (by name and
 * size), so an image tar from `docker save` can be scanned for its index and manifests without
 * holding its layers; and a writer that streams a folder (an OCI layout) as a tar for `docker load`.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';

export interface TarEntry {
  name: string;
  size: number;
  data: Buffer;
}

export class TarScanner {
  private buf: Buffer = Buffer.alloc(0);
  private current?: { name: string; size: number; keep: boolean; remaining: number; padding: number; chunks: Buffer[] };
  private longName?: string;
  readonly entries = new Map<string, Buffer>();
  done = false;

  constructor(private readonly want: (name: string, size: number) => boolean) {}

  push(chunk: Buffer): void {
    if (this.done) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.current) {
        const c = this.current;
        if (c.remaining > 0) {
          if (!this.buf.length) return;
          const take = Math.min(c.remaining, this.buf.length);
          if (c.keep) c.chunks.push(this.buf.subarray(0, take));
          this.buf = this.buf.subarray(take);
          c.remaining -= take;
          if (c.remaining > 0) return;
        }
        if (this.buf.length < c.padding) return;
        this.buf = this.buf.subarray(c.padding);
        if (c.keep) this.finish(c.name, Buffer.concat(c.chunks));
        this.current = undefined;
        continue;
      }
      if (this.buf.length < 512) return;
      const header = this.buf.subarray(0, 512);
      this.buf = this.buf.subarray(512);
      if (header.every((b) => b === 0)) {
        this.done = true;
        return;
      }
      const str = (from: number, len: number) =>
        header
          .subarray(from, from + len)
          .toString('utf8')
          .replace(/\0.*$/s, '');
      let name = str(0, 100);
      const prefix = str(345, 155);
      if (prefix && str(257, 6).startsWith('ustar')) name = `${prefix}/${name}`;
      const sizeField = header.subarray(124, 136);
      const size = sizeField[0]! & 0x80 ? Number(sizeField.readBigUInt64BE(4)) : parseInt(str(124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156]!);
      if (this.longName) {
        name = this.longName;
        this.longName = undefined;
      }
      const padding = (512 - (size % 512)) % 512;
      const isMeta = type === 'L' || type === 'x';
      const keep = isMeta || ((type === '0' || type === '\0') && this.want(name.replace(/^\.\//, ''), size));
      this.current = { name: isMeta ? `\0${type}` : name.replace(/^\.\//, ''), size, keep, remaining: size, padding, chunks: [] };
    }
  }

  private finish(name: string, data: Buffer): void {
    if (name === '\0L') this.longName = data.toString('utf8').replace(/\0.*$/s, '');
    else if (name === '\0x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) this.longName = m[1];
    } else this.entries.set(name, data);
  }
}

/** A ustar header for one regular file; a size beyond 11 octal digits is written base-256 (GNU), as the reader accepts. */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: entry name longer than 100 bytes: ${name}`);
  h.write(name, 0, 'utf8');
  const octal = (value: number, at: number, len: number) => h.write(`${value.toString(8).padStart(len - 1, '0')}\0`, at, 'ascii');
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  if (size < 8 ** 11) octal(size, 124, 12);
  else {
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  }
  octal(0, 136, 12);
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.fill(' ', 148, 156); // the checksum is summed with its own field as spaces
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** Every regular file under `dir`, as `/`-separated paths relative to it, sorted (a stable archive). */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesUnder(dir, path));
    else if (e.isFile()) out.push(path);
  }
  return out;
}

/** A tar of the regular files under `dir` (an OCI layout: `oci-layout`, `index.json`, `blobs/…`), streamed file by file. */
export function tarDirectory(dir: string): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const name of filesUnder(dir)) {
      const path = join(dir, name);
      const { size } = statSync(path);
      yield tarHeader(name, size);
      for await (const chunk of createReadStream(path)) yield chunk as Buffer;
      if (size % 512) yield Buffer.alloc(512 - (size % 512));
    }
    yield Buffer.alloc(1024); // two zero blocks end the archive
  }
  return Readable.from(chunks(), { objectMode: false });
}
