/**
 * Whether a path lies inside the workspace, judged on the path the operating system would
 * reach, not on the string: every existing component is resolved through its symlinks, so
 * `dist/link/x` with `link -> /etc` is outside, and `..` is applied after the symlink it
 * follows, as the kernel does. Components that do not exist yet (a folder about to be
 * created) are taken as written.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** `path` against `base` without normalising: `..` must be applied after the symlinks before it. */
const unnormalised = (base: string, path: string) => (isAbsolute(path) ? path : `${base}${sep}${path}`);

/** The path the OS reaches for `absPath`, symlinks of existing components resolved. */
export function resolvedPath(absPath: string): string {
  let current: string = sep;
  for (const part of absPath.split(sep)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    try {
      current = realpathSync(next);
    } catch {
      current = next; // missing (or unreadable): as written
    }
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
