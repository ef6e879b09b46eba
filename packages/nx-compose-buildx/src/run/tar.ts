/**
 * Tar both ways, with tar-stream: a reader fed chunk by chunk that keeps only the regular files a
 * caller wants (by name and size), so an image tar from `docker save` can be scanned for its index
 * and manifests without holding its layers; and a writer that streams a folder (an OCI layout) as a
 * tar for `docker load`, file by file.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack, type Pack } from 'tar-stream';

export interface TarScan {
  /** The next chunk of the archive. */
  write(chunk: Buffer): void;
  /** The regular files kept so far, by name (a leading `./` dropped). */
  readonly entries: Map<string, Buffer>;
  /** The input is complete: resolves once all of it is read; rejects when it was not a whole tar. */
  end(): Promise<Map<string, Buffer>>;
  /** Reads no further: the caller has what it needs. */
  stop(): void;
}

/**
 * Reads a tar as it arrives. Entries `want` declines are skipped as they pass; `onKept` hears each
 * kept entry's name once its data is complete (so a caller can stop the producer early).
 */
export function scanTar(want: (name: string, size: number) => boolean, onKept?: (name: string) => void): TarScan {
  const entries = new Map<string, Buffer>();
  const reader = extract();
  let failure: Error | undefined;
  let stopped = false;
  reader.on('error', (e: Error) => (failure ??= e));
  reader.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    const keep = (header.type === 'file' || header.type === 'contiguous-file') && want(name, header.size);
    const chunks: Buffer[] = [];
    stream.on('error', () => {}); // the reader's own error (or stop) is what counts
    if (keep) stream.on('data', (chunk) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      if (keep) {
        entries.set(name, Buffer.concat(chunks));
        onKept?.(name);
      }
      next();
    });
    stream.resume();
  });
  return {
    entries,
    write: (chunk) => {
      if (!stopped && !failure) reader.write(chunk);
    },
    end: () =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        if (stopped) return resolve(entries);
        reader.once('error', reject);
        reader.once('finish', () => resolve(entries));
        reader.end(undefined); // streamx: end() with no last chunk
      }),
    stop: () => {
      stopped = true;
      reader.destroy();
    },
  };
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

/** One file into the archive, streamed (pipe waits whenever the archive's reader is behind). */
function addFile(archive: Pack, name: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const { size } = statSync(path);
    // mtime 0 and tar-stream's root owner: the same folder gives the same archive.
    const entry = archive.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? reject(e) : resolve()));
    const file = createReadStream(path);
    file.on('error', (e) => entry.destroy(e));
    entry.on('close', () => file.destroy()); // a reader that went away (docker load refused) leaves no file open
    file.pipe(entry as unknown as NodeJS.WritableStream);
  });
}

/** One file's bytes into the archive, with the same header as addFile. */
function addBytes(archive: Pack, name: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    archive.entry({ name, size: bytes.length, mode: 0o644, mtime: new Date(0) }, bytes, (e) => (e ? reject(e) : resolve()));
  });
}

/**
 * A tar of the regular files under `dir` (an OCI layout: `oci-layout`, `index.json`, `blobs/…`), streamed file by file;
 * a file named in `replaced` goes in with those bytes instead of its own.
 */
export function tarDirectory(dir: string, replaced: Record<string, Buffer> = {}): Readable {
  const archive = pack();
  void (async () => {
    for (const name of filesUnder(dir)) {
      const bytes = replaced[name];
      await (bytes ? addBytes(archive, name, bytes) : addFile(archive, name, join(dir, name)));
    }
    archive.finalize();
  })().catch((e: Error) => archive.destroy(e));
  return Readable.from(archive);
}
