/**
 * Whether a path lies inside the workspace, judged on the path the operating system would
 * reach, not on the string: every existing component is resolved through its symlinks, so
 * `dist/link/x` with `link -> /etc` is outside, and `..` is applied after the symlink it
 * follows, as the kernel does. Components that do not exist yet (a folder about to be
 * created) are taken as written.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** `path` against `base` without normalising: `..` must be applied after the symlinks before it. */
const unnormalised = (base: string, path: string) => (isAbsolute(path) ? path : `${base}${sep}${path}`);

/**
 * The path the OS reaches for `absPath`, symlinks of existing components resolved. `memo` (one per
 * graph computation) keeps each component's resolution: a thousand services under one folder then
 * resolve that folder once, not once per path and component.
 */
export function resolvedPath(absPath: string, memo?: Map<string, string>): string {
  let current: string = sep;
  for (const part of absPath.split(sep)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    const known = memo?.get(next);
    if (known !== undefined) {
      current = known;
      continue;
    }
    // `current` is already resolved, so only `part` itself can be a symlink: one lstat, and a
    // realpath (which lstats every component again) only for a link.
    try {
      const stat = lstatSync(next, { throwIfNoEntry: false });
      current = stat?.isSymbolicLink() ? realpathSync(next) : next;
    } catch {
      current = next; // unreadable, or a dangling link: as written
    }
    memo?.set(next, current);
  }
  return current;
}

/** True when `inner` is `outer` itself or lies below it (both already resolved). */
function within(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Whether `path` (absolute, or relative to the workspace root) resolves inside the workspace. */
export function isInsideWorkspace(workspaceRoot: string, path: string): boolean {
  return within(resolvedPath(resolve(workspaceRoot)), resolvedPath(unnormalised(workspaceRoot, path)));
}

/**
 * `isInsideWorkspace` for many paths of one graph computation: the root and every path component are
 * resolved once. Only for a single pass over files that do not change meanwhile (the graph's reads).
 */
export function insideWorkspaceCheck(workspaceRoot: string): (path: string) => boolean {
  const memo = new Map<string, string>();
  const root = resolvedPath(resolve(workspaceRoot), memo);
  return (path) => within(root, resolvedPath(unnormalised(workspaceRoot, path), memo));
}

/**
 * The absolute path of `path` for a write or delete, or an error naming `what` when it resolves
 * outside the workspace (or is the workspace root itself, unless `allowRoot`).
 */
export function workspacePathForWrite(workspaceRoot: string, path: string, what: string): string {
  const root = resolvedPath(resolve(workspaceRoot));
  const target = resolvedPath(unnormalised(workspaceRoot, path));
  if (!within(root, target)) throw new Error(`${what} ${path} lies outside the workspace (${root}); refusing to write there`);
  if (target === root) throw new Error(`${what} ${path} is the workspace root itself; refusing to write there`);
  return target;
}

/** `workspacePathForWrite`'s refusal as a message, or undefined when the path is fine. */
export function writeProblem(workspaceRoot: string, path: string, what: string): string | undefined {
  try {
    workspacePathForWrite(workspaceRoot, path, what);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** `workspacePathForWrite` for `child` inside `folder`: the file must also stay inside that folder. */
export function childPathForWrite(folder: string, child: string, what: string): string {
  const target = resolvedPath(unnormalised(folder, child));
  if (!within(resolvedPath(folder), target) || target === resolvedPath(folder)) {
    throw new Error(`${what} ${child} lies outside its folder ${folder}; refusing to write there`);
  }
  return target;
}
