import { isAbsolute, relative, sep } from 'node:path';

/** Remote contexts (git, URLs) and references to other builds stay exactly as written. */
const REMOTE_CONTEXT = /^(https?:\/\/|git:\/\/|git@|ssh:\/\/|github\.com\/)/;
const REFERENCE_CONTEXT = /^(service|target|docker-image|oci-layout):/;

export type ContextKind = 'local' | 'remote' | 'reference';

/** The service a `service:x` (Compose) or `target:x` (bake) context names, else undefined. */
export function serviceContextName(context: string): string | undefined {
  const m = /^(?:service|target):(.+)$/.exec(context);
  return m?.[1];
}

export function contextKind(context: string): ContextKind {
  if (REFERENCE_CONTEXT.test(context)) return 'reference';
  if (REMOTE_CONTEXT.test(context)) return 'remote';
  return 'local';
}

/** A "/"-path with no empty, "." or ".." segment and no trailing "/": `relative` would change nothing in it. */
const NOT_NORMAL = /\/\/|(^|\/)\.\.?(\/|$)|\/$/;
const normalRoots = new Map<string, boolean>();
const isNormalRoot = (root: string) =>
  normalRoots.get(root) ?? normalRoots.set(root, isAbsolute(root) && !NOT_NORMAL.test(root.slice(1))).get(root)!;

/** Workspace-relative, "/"-separated; "." for the workspace root itself. */
export function toWorkspacePath(workspaceRoot: string, absPath: string): string {
  // The common case, a clean path below a clean root, without `relative` (thousands per graph).
  if (
    sep === '/' &&
    absPath.length > workspaceRoot.length + 1 &&
    absPath.startsWith(workspaceRoot) &&
    absPath[workspaceRoot.length] === '/'
  ) {
    const tail = absPath.slice(workspaceRoot.length + 1);
    if (!NOT_NORMAL.test(tail) && isNormalRoot(workspaceRoot)) return tail;
  }
  const rel = relative(workspaceRoot, absPath);
  if (rel === '') return '.';
  return sep === '/' ? rel : rel.split(sep).join('/');
}

export function isInsideWorkspace(workspacePath: string): boolean {
  return workspacePath !== '..' && !workspacePath.startsWith('../') && !isAbsolute(workspacePath);
}
