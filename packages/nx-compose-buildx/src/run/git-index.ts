/**
 * The files git tracks in a workspace (its index: committed or `git add`ed), for the service lock's
 * committed-only view. One `git ls-files` per graph computation, never one per file.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import { runQuery, type RunFn } from './exec';

/** Workspace-relative tracked files, and every folder that holds one ('' is the workspace root). */
export interface TrackedFiles {
  files: Set<string>;
  dirs: Set<string>;
}

/** Parses `git ls-files -z` run in the workspace root (paths relative to it). */
export function parseLsFiles(output: string): TrackedFiles {
  const tracked: TrackedFiles = { files: new Set(), dirs: new Set(['']) };
  for (const file of output.split('\0')) {
    if (!file) continue;
    tracked.files.add(file);
    for (let dir = posix.dirname(file); dir !== '.' && !tracked.dirs.has(dir); dir = posix.dirname(dir)) tracked.dirs.add(dir);
  }
  return tracked;
}

/** A predicate on absolute paths: a tracked file, or a folder holding one. Paths outside the workspace are never tracked here. */
export function isTrackedPath(tracked: TrackedFiles, root: string): (absPath: string) => boolean {
  return (absPath) => {
    const rel = relative(root, absPath).split('\\').join('/');
    if (rel.startsWith('..') || isAbsolute(rel)) return false;
    return rel === '' || tracked.files.has(rel) || tracked.dirs.has(rel);
  };
}

/** What git tracks under `root`; undefined when it is not in a git checkout (or git cannot say). Graph time: no execa. */
export async function listTrackedFiles(root: string, run: RunFn = runQuery): Promise<TrackedFiles | undefined> {
  const r = await run(['git', 'ls-files', '-z', '--cached'], { cwd: root });
  return r.exitCode === 0 ? parseLsFiles(r.stdout) : undefined;
}

/**
 * The index file of the checkout holding `root` (GIT_INDEX_FILE, else `.git/index`, following a
 * worktree's or submodule's `gitdir:` file), workspace-relative: `git add` and `git rm --cached`
 * change it, so the graph cache watches its stat. Undefined when none is found.
 */
export function gitIndexPath(root: string, env: Record<string, string | undefined> = process.env): string | undefined {
  const rel = (abs: string) => relative(root, abs).split('\\').join('/');
  if (env.GIT_INDEX_FILE) return rel(resolve(root, env.GIT_INDEX_FILE));
  for (let dir = resolve(root); ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    const stat = statSync(dotGit, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return rel(join(dotGit, 'index'));
    if (stat?.isFile()) {
      const gitdir = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf-8'))?.[1];
      return gitdir ? rel(join(resolve(dir, gitdir), 'index')) : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}
