/**
 * A minimal streaming tar reader: keeps only the entries a caller wants (by name and size) so an image
 * tar from `docker save` can be scanned for its index and manifests without holding its layers.
 */
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
