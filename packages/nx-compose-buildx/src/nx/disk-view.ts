/**
 * One graph computation's view of the disk: each path stat'ed and each folder listed at most
 * once, whoever asks (the compose loader, the spec stage, the context walk, the ignore-file and
 * project-marker probes). A thousand services otherwise stat, probe and list the same paths
 * several times over. Only for one pass over files that do not change meanwhile.
 */
import { existsSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface DiskView {
  /** stat (symlinks followed); undefined when absent or unreadable, as existsSync says false. */
  stat(absPath: string): Stats | undefined;
  /** The folder's entries; undefined when it cannot be listed. */
  list(absDir: string): Dirent[] | undefined;
  /** existsSync, answered from the parent folder's listing when that is known or worth making. */
  exists(absPath: string): boolean;
  /**
   * What the computation already saw of a path, without touching the disk: its stat, `null` when
   * it saw the path absent (its stat, or its folder's listing), undefined when it did not look.
   */
  seen(absPath: string): Stats | null | undefined;
}

export function diskView(): DiskView {
  const stats = new Map<string, Stats | undefined>();
  const listings = new Map<string, Dirent[] | undefined>();
  const entryNames = new Map<string, Map<string, Dirent>>();
  const stat = (abs: string): Stats | undefined => {
    if (stats.has(abs)) return stats.get(abs);
    let found: Stats | undefined;
    try {
      found = statSync(abs, { throwIfNoEntry: false });
    } catch {
      found = undefined; // unreadable (EACCES, ENOTDIR...): absent, as existsSync says
    }
    stats.set(abs, found);
    return found;
  };
  const list = (abs: string): Dirent[] | undefined => {
    if (listings.has(abs)) return listings.get(abs);
    let entries: Dirent[] | undefined;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      entries = undefined;
    }
    listings.set(abs, entries);
    return entries;
  };
  const named = (dir: string): Map<string, Dirent> | undefined => {
    let byName = entryNames.get(dir);
    if (!byName) {
      const entries = list(dir);
      if (!entries) return undefined;
      byName = new Map(entries.map((e) => [e.name, e]));
      entryNames.set(dir, byName);
    }
    return byName;
  };
  return {
    stat,
    list,
    seen: (abs) => {
      if (stats.has(abs)) return stats.get(abs) ?? null;
      const dir = dirname(abs);
      if (!listings.get(dir)) return undefined;
      return named(dir)?.has(basename(abs)) ? undefined : null;
    },
    exists: (abs) => {
      if (stats.has(abs)) return stats.get(abs) !== undefined;
      const entry = named(dirname(abs));
      if (!entry) return existsSync(abs);
      const found = entry.get(basename(abs));
      // A symlink exists only when its target does (existsSync follows it).
      if (found?.isSymbolicLink()) return stat(abs) !== undefined;
      return found !== undefined;
    },
  };
}
