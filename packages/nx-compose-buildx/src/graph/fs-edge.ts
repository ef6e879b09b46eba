/**
 * The graph stage's only file-system access: listing a build context and reading small
 * files. Everything else in `graph/` is pure.
 */
import { existsSync, readdirSync, readlinkSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export interface ContextListing {
  /** Context-relative "/"-separated file paths (symlinks count as files), sorted. */
  files: string[];
  /** Context-relative folders the prune predicate cut off without walking them, sorted. */
  prunedDirs: string[];
  /** Context-relative folders walked ('' is the context itself): their mtimes change when a file is added or removed. */
  walkedDirs: string[];
  /** Each symlink among `files`, context-relative, with its target as readlink gives it (BuildKit follows it when a COPY names it). */
  links: Record<string, string>;
}

/** Folders git never tracks in practice: their files never show up in a diff, so they need no listing. */
export const UNTRACKED_DIRS = new Set(['.git', 'node_modules', '.nx']);

/**
 * Lists every file under `absDir`, skipping UNTRACKED_DIRS and not following symlinks.
 * `prune(relDir)` returning true skips a folder (and records it in `prunedDirs`).
 */
export function listContext(
  absDir: string,
  prune?: (relDir: string) => boolean,
  readDir: (absDir: string) => Dirent[] | undefined = readDirOrUndefined,
  readLink: (absPath: string) => string | undefined = readLinkOrUndefined,
): ContextListing {
  const files: string[] = [];
  const links: Record<string, string> = {};
  const prunedDirs: string[] = [];
  const walkedDirs: string[] = [];
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop() as string;
    walkedDirs.push(rel);
    const entries = readDir(rel === '' ? absDir : join(absDir, rel));
    if (!entries) {
      if (rel === '') readdirSync(absDir); // throws the reason
      continue; // unreadable sub-folder: BuildKit would fail too; the build reports it
    }
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name === '.git') continue;
        if (prune?.(path)) prunedDirs.push(path);
        else if (!UNTRACKED_DIRS.has(e.name)) stack.push(path);
      } else {
        files.push(path);
        if (e.isSymbolicLink()) {
          const target = readLink(join(absDir, path));
          if (target !== undefined) links[path] = target;
        }
      }
    }
  }
  return { files: files.sort(), prunedDirs: prunedDirs.sort(), walkedDirs: walkedDirs.sort(), links };
}

function readLinkOrUndefined(absPath: string): string | undefined {
  try {
    return readlinkSync(absPath);
  } catch {
    return undefined; // replaced meanwhile: the listing's folder mtime tells the graph cache
  }
}

function readDirOrUndefined(absDir: string): Dirent[] | undefined {
  try {
    return readdirSync(absDir, { withFileTypes: true });
  } catch {
    return undefined;
  }
}

/** `listContext(absDir, prune).files`. */
export function listContextFiles(absDir: string, prune?: (relDir: string) => boolean): string[] {
  return listContext(absDir, prune).files;
}

/** An `exists` for selectIgnoreFile: is this workspace-relative path a regular file? */
export function fileExistsIn(workspaceRoot: string): (workspacePath: string) => boolean {
  return (p) => {
    const abs = join(workspaceRoot, p);
    return existsSync(abs) && statSync(abs).isFile();
  };
}
