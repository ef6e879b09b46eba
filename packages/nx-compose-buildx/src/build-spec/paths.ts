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

/** Workspace-relative, "/"-separated; "." for the workspace root itself. */
export function toWorkspacePath(workspaceRoot: string, absPath: string): string {
  const rel = relative(workspaceRoot, absPath);
  if (rel === '') return '.';
  return sep === '/' ? rel : rel.split(sep).join('/');
}

export function isInsideWorkspace(workspacePath: string): boolean {
  return workspacePath !== '..' && !workspacePath.startsWith('../') && !isAbsolute(workspacePath);
}
