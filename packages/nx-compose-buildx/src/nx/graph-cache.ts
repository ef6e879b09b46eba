import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CreateNodesResultArray } from '@nx/devkit';
// @nx/devkit's own entry point for it (not a deep import into nx/src). Its public `cacheDir` is, in
// Nx 24, a per-user folder outside the checkout, and the plugin writes nothing outside the workspace.
import { workspaceDataDirectory } from '@nx/devkit/internal';

/**
 * The plugin's graph cache. A warm graph must cost little more than hashing, so
 * the last result is kept with the list of everything it was computed from:
 * files whose content is hashed (compose files, .env, the service lock), paths
 * whose stat is compared (Dockerfiles, ignore files, project markers, and every
 * context folder: adding or removing a file changes its folder's mtime), and the
 * environment variables the compose files interpolate. A new file that could
 * matter (an override, an include) can only appear through a change to a listed
 * file or folder. Nx's own file index is not used: in an isolated plugin worker
 * it is rebuilt from scratch, which costs more than the whole check.
 */
export interface GraphDependencies {
  /** Workspace-relative files whose content is read directly (may be git-ignored, like .env). */
  files: string[];
  /** Workspace-relative paths (files or folders) compared by mtime and size; absent ones count too. */
  stats: string[];
  variables: string[];
  /** Folders whose compose file names decide discovery. */
  composeDirs: string[];
}

interface CacheEntry {
  version: 1;
  key: string;
  dependencies: GraphDependencies;
  results: CreateNodesResultArray;
  warnings: string[];
}

const CACHE_VERSION = 1;

/** In Nx's workspace-data folder (cleared by `nx reset`); the name holds the root, which the folder need not be of. */
function cachePath(root: string, optionsKey: string): string {
  const key = createHash('sha256').update(`${root}\0${optionsKey}`).digest('hex');
  return join(workspaceDataDirectory, `nx-compose-buildx-${key.slice(0, 16)}.json`);
}

export function optionsKey(configFiles: readonly string[], options: unknown, pluginVersion: string): string {
  return createHash('sha256').update(JSON.stringify({ configFiles: [...configFiles].sort(), options, pluginVersion })).digest('hex');
}

const COMPOSE_NAME = /^(docker-)?compose(\.override)?\.ya?ml$/;

function dependencyKey(root: string, base: string, deps: GraphDependencies): string {
  const hash = createHash('sha256').update(base);
  for (const dir of deps.composeDirs) {
    const names = existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((n) => COMPOSE_NAME.test(n)).sort() : [];
    hash.update(`dir\0${dir}\0${names.join('\0')}\n`);
  }
  for (const file of deps.files) {
    const abs = join(root, file);
    hash.update(`file\0${file}\0`).update(existsSync(abs) ? readFileSync(abs) : '\0missing').update('\n');
  }
  for (const path of deps.stats) {
    const stat = statSync(join(root, path), { throwIfNoEntry: false });
    hash.update(`stat\0${path}\0${stat ? `${stat.mtimeMs}:${stat.size}` : 'missing'}\n`);
  }
  for (const variable of deps.variables) hash.update(`env\0${variable}\0${process.env[variable] ?? '\0unset'}\n`);
  return hash.digest('hex');
}

export async function readGraphCache(root: string, base: string): Promise<{ results: CreateNodesResultArray; warnings: string[] } | undefined> {
  const path = cachePath(root, base);
  if (!existsSync(path)) return undefined;
  try {
    const entry = JSON.parse(readFileSync(path, 'utf-8')) as CacheEntry;
    if (entry.version !== CACHE_VERSION) return undefined;
    if (dependencyKey(root, base, entry.dependencies) !== entry.key) return undefined;
    return { results: entry.results, warnings: entry.warnings };
  } catch {
    return undefined;
  }
}

export async function writeGraphCache(
  root: string,
  base: string,
  dependencies: GraphDependencies,
  results: CreateNodesResultArray,
  warnings: string[],
): Promise<void> {
  try {
    const entry: CacheEntry = { version: CACHE_VERSION, key: dependencyKey(root, base, dependencies), dependencies, results, warnings };
    const path = cachePath(root, base);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(entry));
  } catch {
    // A cache that cannot be written only costs speed.
  }
}
