/**
 * The files of one git commit, read through the run layer (docker-explain compares the compose
 * files and Dockerfiles at the base commit with the head's). The tree is listed once; file texts
 * are read on demand, a batch at a time, since the loaders that use them are synchronous.
 */
import { posix } from 'node:path';
import type { RunFn } from './exec';

export interface GitTree {
  commit: string;
  /** Workspace-relative file → blob id. */
  files: Map<string, string>;
  /** Workspace-relative folders ('' is the workspace root). */
  dirs: Set<string>;
  /** Folder → the names in it. */
  children: Map<string, string[]>;
  /** The files that are symlinks (mode 120000): their blob is the link's target. */
  links: Set<string>;
}

/** Parses `git ls-tree -r -t -z` (paths relative to the folder git ran in). */
export function parseLsTree(output: string, commit: string): GitTree {
  const tree: GitTree = { commit, files: new Map(), dirs: new Set(['']), children: new Map(), links: new Set() };
  for (const entry of output.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab < 0) continue;
    const [mode, type, object] = entry.slice(0, tab).split(' ');
    const path = entry.slice(tab + 1);
    if (type === 'tree') tree.dirs.add(path);
    else if (type === 'blob') {
      tree.files.set(path, object!);
      if (mode === '120000') tree.links.add(path);
    } else continue; // a submodule: not readable here
    const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    const names = tree.children.get(dir) ?? [];
    names.push(posix.basename(path));
    tree.children.set(dir, names);
  }
  return tree;
}

/** A full commit id for `rev`, or undefined when it names no commit. A value starting with `-` is refused before git sees it. */
export async function resolveCommit(rev: string, cwd: string, run: RunFn): Promise<string | undefined> {
  if (!rev || rev.startsWith('-')) return undefined;
  const r = await run(['git', 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd });
  return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined;
}

export async function listGitTree(commit: string, cwd: string, run: RunFn): Promise<GitTree> {
  const r = await run(['git', 'ls-tree', '-r', '-t', '-z', commit], { cwd });
  if (r.exitCode !== 0) throw new Error(`cannot list commit ${commit}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
  return parseLsTree(r.stdout, commit);
}

/** The texts of some files of the tree (workspace-relative paths that are not in it are left out). */
export async function readGitFiles(tree: GitTree, paths: Iterable<string>, cwd: string, run: RunFn): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted = [...new Set(paths)].filter((p) => tree.files.has(p));
  const texts = await Promise.all(
    wanted.map((p) => run(['git', 'cat-file', 'blob', tree.files.get(p)!], { cwd }).then((r) => (r.exitCode === 0 ? r.stdout : undefined))),
  );
  wanted.forEach((p, i) => texts[i] !== undefined && out.set(p, texts[i]!));
  return out;
}
