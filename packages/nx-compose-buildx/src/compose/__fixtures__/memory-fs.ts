/** Test helper: an in-memory file system for the loader (not exported from index). */
import type { ReadFile } from '../load';

export function memoryFs(files: Record<string, string>): ReadFile & { reads: string[] } {
  const reads: string[] = [];
  const read = ((p: string) => {
    reads.push(p);
    return Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined;
  }) as ReadFile & { reads: string[] };
  read.reads = reads;
  return read;
}
