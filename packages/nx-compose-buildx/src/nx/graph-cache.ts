import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import type { CreateNodesResultArray } from '@nx/devkit';

/**
 * The plugin's graph cache. A warm graph must cost little more than hashing, so
 * the last result is kept with the list of everything it was computed from:
 * files whose content is compared (compose files, .env, the service lock: by
 * stat first, and by content hash when the stat moved or is too recent to trust),
 * paths whose stat is compared (Dockerfiles, ignore files, project markers, and
 * every context folder: adding or removing a file changes its folder's mtime), and
 * the environment variables the compose files interpolate. A new file that could
 * matter (an override, an include) can only appear through a change to a listed
 * file or folder. Nx's own file index is not used: in an isolated plugin worker
 * it is rebuilt from scratch, which costs more than the whole check.
 */
export interface GraphDependencies {
  /** Workspace-relative files whose content decides (may be git-ignored, like .env). */
  files: string[];
  /** Workspace-relative paths (files or folders) compared by mtime and size; absent ones count too. */
  stats: string[];
  variables: string[];
  /** Folders whose compose file names decide discovery. */
  composeDirs: string[];
  /**
   * The lock's view reads only files git tracks: the index file, and each path whose tracked-ness
   * the computation asked, with the answer. Not in the key: `git status` and every commit rewrite
   * the index, so a changed index only asks git again, and the entry stands while every answer is the same.
   */
  tracked?: { index: string; paths: Record<string, boolean> };
}

interface CacheEntry {
  version: typeof CACHE_VERSION;
  key: string;
  /** statLine of dependencies.tracked.index when the entry was written. */
  indexStat?: string;
  /** When the entry was written (ms since the epoch): a file stat'ed as changed this recently is read anyway. */
  writtenAt: number;
  /** Per dependencies.files entry: its fileStatLine and the sha256 of its content (MISSING when absent). */
  fileChecks: Record<string, { stat: string; hash: string }>;
  dependencies: GraphDependencies;
  results: CreateNodesResultArray;
  warnings: string[];
}

// Bumped when the entry's shape or what the graph code derives from the same files changes
// (5: image edges only from the stages a build reaches; 6: base images' ONBUILD triggers; 7: named contexts' ignore rules;
// 8: a replaced stage's FROM image makes no edge).
const CACHE_VERSION = 8;

/**
 * How recent a file's mtime may be, against the entry's writing, before its stat is not trusted:
 * file times advance in coarse ticks, so a write in the tick the file was read in can leave mtime,
 * ctime and size as they were (git's "racy" index entries; it compares content then too).
 */
const RACY_MS = 2_000;

/**
 * Nx's workspace-data folder, which `nx reset` clears: NX_WORKSPACE_DATA_DIRECTORY (or the older
 * NX_PROJECT_GRAPH_CACHE_DIRECTORY) against the root, else `<root>/.nx/workspace-data`. Worked out
 * here rather than imported: @nx/devkit's public API has no such export (its `cacheDir` is a
 * per-user folder outside the checkout in Nx 24), loading @nx/devkit at graph time costs the plugin
 * worker ~180 modules, and nx/src/utils is private.
 */
export function workspaceDataDirectory(root: string, env: Record<string, string | undefined> = process.env): string {
  const configured = env.NX_WORKSPACE_DATA_DIRECTORY ?? env.NX_PROJECT_GRAPH_CACHE_DIRECTORY;
  return configured ? resolve(root, configured) : join(root, '.nx', 'workspace-data');
}

function cachePath(root: string, optionsKey: string): string {
  return join(workspaceDataDirectory(root), `nx-compose-buildx-${optionsKey.slice(0, 16)}.json`);
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json sits outside rootDir, so it cannot be imported
const PLUGIN_VERSION: string = require('../../package.json').version;

/** What a cached graph is only valid for: the matched files, the raw plugin options and the plugin version. */
export function optionsKey(configFiles: readonly string[], options: unknown, pluginVersion = PLUGIN_VERSION): string {
  return createHash('sha256')
    .update(JSON.stringify({ configFiles: [...configFiles].sort(), options: options ?? {}, pluginVersion }))
    .digest('hex');
}

/** Warnings go where Nx's logger.warn sends them (stderr), without loading @nx/devkit at graph time. */
export function warn(line: string): void {
  console.warn(line);
}

const COMPOSE_NAME = /^(docker-)?compose(\.override)?\.ya?ml$/;

const MISSING = 'missing';

/** What a path's stat contributes to the key: mtime and size, or that it is absent. */
function statLine(root: string, path: string): string {
  // Concatenated rather than join()ed: thousands of these run on every warm graph.
  const stat = statSync(`${root}/${path}`, { throwIfNoEntry: false });
  return stat ? `${stat.mtimeMs}:${stat.size}` : MISSING;
}

/**
 * A hashed file's stat: mtime, ctime and size. The ctime too, because a copy that keeps the
 * mtime (cp -p, rsync -t, tar) cannot keep the ctime: the kernel sets it on every change.
 */
function fileStatLine(root: string, path: string): string {
  const stat = statSync(`${root}/${path}`, { throwIfNoEntry: false });
  return stat ? `${stat.mtimeMs}:${stat.ctimeMs}:${stat.size}` : MISSING;
}

function contentHash(root: string, path: string): string {
  const bytes = unlessAbsent(() => readFileSync(`${root}/${path}`));
  return bytes ? createHash('sha256').update(bytes).digest('hex') : MISSING;
}

/** Whether every hashed file still has its recorded content: read only those whose stat moved or is racy. */
function sameFiles(root: string, entry: CacheEntry): boolean {
  for (const file of entry.dependencies.files) {
    const check = entry.fileChecks[file];
    if (!check) return false;
    const stat = fileStatLine(root, file);
    if (stat === check.stat && !isRacy(check.stat, entry.writtenAt)) continue;
    if (contentHash(root, file) !== check.hash) return false;
  }
  return true;
}

/** A stat whose mtime or ctime falls within RACY_MS of the entry's writing (or after it). */
function isRacy(stat: string, writtenAt: number): boolean {
  if (stat === MISSING) return false;
  const [mtime, ctime] = stat.split(':').map(Number);
  return !(mtime < writtenAt - RACY_MS && ctime < writtenAt - RACY_MS);
}

/** `read()`, or undefined when the path is absent (one call instead of an existsSync before it; other errors throw). */
function unlessAbsent<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

function dependencyKey(root: string, base: string, deps: GraphDependencies, statOf = (path: string) => statLine(root, path)): string {
  const parts: string[] = [base];
  for (const dir of deps.composeDirs) {
    const names = (unlessAbsent(() => readdirSync(join(root, dir))) ?? []).filter((n) => COMPOSE_NAME.test(n)).sort();
    parts.push(`dir\0${dir}\0${names.join('\0')}`);
  }
  for (const path of deps.stats) parts.push(`stat\0${path}\0${statOf(path)}`);
  for (const variable of deps.variables) parts.push(`env\0${variable}\0${process.env[variable] ?? '\0unset'}`);
  // One update for the many short lines: per-call overhead, not hashing, was the cost.
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/**
 * The stat list less the absent paths whose folder is on it too: such a path can only appear
 * by changing that folder (its mtime, or its own absence), so its own stat adds nothing. A
 * thousand services each probing project.json, package.json and <Dockerfile>.dockerignore
 * beside a context folder that is watched anyway is most of a warm graph's stats.
 */
function withoutCoveredAbsences(stats: readonly string[], statOf: (path: string) => string): string[] {
  const listed = new Set(stats);
  return stats.filter((path) => {
    const folder = posix.dirname(path);
    return folder === path || !listed.has(folder) || statOf(path) !== MISSING;
  });
}

export async function readGraphCache(
  root: string,
  base: string,
): Promise<{ results: CreateNodesResultArray; warnings: string[] } | undefined> {
  const path = cachePath(root, base);
  try {
    const entry = JSON.parse(readFileSync(path, 'utf-8')) as CacheEntry;
    if (entry.version !== CACHE_VERSION) return undefined;
    if (dependencyKey(root, base, entry.dependencies) !== entry.key || !sameFiles(root, entry)) return undefined;
    const tracked = entry.dependencies.tracked;
    if (tracked && statLine(root, tracked.index) !== entry.indexStat && !(await sameTrackedAnswers(root, tracked.paths))) return undefined;
    return { results: entry.results, warnings: entry.warnings };
  } catch {
    return undefined;
  }
}

/** Whether git still gives every recorded path the same tracked-ness (one `git ls-files`; loaded only when the index changed). */
async function sameTrackedAnswers(root: string, paths: Record<string, boolean>): Promise<boolean> {
  const { isTrackedPath, listTrackedFiles } = await import('../run/git-index.js');
  const now = await listTrackedFiles(root);
  if (!now) return false;
  const isTracked = isTrackedPath(now, root);
  return Object.entries(paths).every(([path, was]) => isTracked(`${root}/${path}`) === was);
}

/**
 * What the computation already saw of a workspace-relative path: its stat, `null` when it saw it
 * absent, undefined when it did not look. A stat taken while computing is what the result was
 * computed from, so the key may use it instead of looking again.
 */
export type SeenStat = (path: string) => { mtimeMs: number; size: number } | null | undefined;

const pendingWrites = new Set<Promise<void>>();

/**
 * Settles once every cache write started so far has landed or failed. createNodes does not wait
 * for its write; whoever removes the workspace-data folder next (a test's cleanup) waits here.
 */
export async function graphCacheWritesSettled(): Promise<void> {
  await Promise.allSettled([...pendingWrites]);
}

export async function writeGraphCache(
  root: string,
  base: string,
  dependencies: GraphDependencies,
  results: CreateNodesResultArray,
  warnings: string[],
  seenStat: SeenStat = () => undefined,
  writtenAt = Date.now(),
): Promise<void> {
  try {
    const seen = new Map<string, string>();
    const lineOf = (path: string) => {
      const known = seenStat(path);
      if (known === undefined) return statLine(root, path);
      return known ? `${known.mtimeMs}:${known.size}` : MISSING;
    };
    const statOf = (path: string) => seen.get(path) ?? seen.set(path, lineOf(path)).get(path)!;
    const stats = withoutCoveredAbsences(dependencies.stats, statOf);
    const statted = new Set(stats);
    // A compose folder whose own stat is compared needs no listing: a file added, removed or renamed changes its mtime.
    const kept = { ...dependencies, stats, composeDirs: dependencies.composeDirs.filter((dir) => !statted.has(dir)) };
    const fileChecks: CacheEntry['fileChecks'] = {};
    // The stat before the content: a write in between leaves a stat that no longer matches, so the content is read again.
    for (const file of kept.files) fileChecks[file] = { stat: fileStatLine(root, file), hash: contentHash(root, file) };
    const entry: CacheEntry = {
      version: CACHE_VERSION,
      key: dependencyKey(root, base, kept, statOf),
      writtenAt,
      fileChecks,
      ...(kept.tracked ? { indexStat: statLine(root, kept.tracked.index) } : {}),
      dependencies: kept,
      results,
      warnings,
    };
    const path = cachePath(root, base);
    mkdirSync(dirname(path), { recursive: true });
    // The entry is complete here (key and stats taken now, the result serialised before Nx holds
    // it); only the write of its megabytes goes to libuv's thread pool, and createNodes need not
    // wait for it. A pending write keeps the process alive; a temp file renamed into place means
    // a reader, or a worker killed mid-write, never finds half an entry.
    const temp = `${path}.${process.pid}.tmp`;
    const write = writeFile(temp, JSON.stringify(entry)).then(
      () => rename(temp, path).catch(() => unlink(temp).catch(() => undefined)),
      () => unlink(temp).catch(() => undefined),
    );
    pendingWrites.add(write);
    void write.finally(() => pendingWrites.delete(write));
    return write;
  } catch {
    // A cache that cannot be written only costs speed.
  }
}
