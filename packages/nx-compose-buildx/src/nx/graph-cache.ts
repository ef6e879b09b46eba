import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CreateNodesResultArray } from '@nx/devkit';

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

function dependencyKey(root: string, base: string, deps: GraphDependencies): string {
  const hash = createHash('sha256').update(base);
  for (const dir of deps.composeDirs) {
    const names = existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter((n) => COMPOSE_NAME.test(n))
          .sort()
      : [];
    hash.update(`dir\0${dir}\0${names.join('\0')}\n`);
  }
  for (const file of deps.files) {
    const abs = join(root, file);
    hash
      .update(`file\0${file}\0`)
      .update(existsSync(abs) ? readFileSync(abs) : '\0missing')
      .update('\n');
  }
  for (const path of deps.stats) {
    const stat = statSync(join(root, path), { throwIfNoEntry: false });
    hash.update(`stat\0${path}\0${stat ? `${stat.mtimeMs}:${stat.size}` : 'missing'}\n`);
  }
  for (const variable of deps.variables) hash.update(`env\0${variable}\0${process.env[variable] ?? '\0unset'}\n`);
  return hash.digest('hex');
}

export async function readGraphCache(
  root: string,
  base: string,
): Promise<{ results: CreateNodesResultArray; warnings: string[] } | undefined> {
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
