/** The file-reading edge of the compose loader: reads compose files, env files and folders from disk. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadComposeProject, type LoadOptions, type ReadFile } from './load';
import { resolveCliOptions, type CliOptionsIo, type ComposeCliOptions } from './project-options';
import type { ComposeFileSet, ComposeProject, ComposeService } from './types';

export const readFileIfExists: ReadFile = (absPath) => {
  try {
    return fs.readFileSync(absPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw e;
  }
};

const isFile = (p: string) => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The file access the loader needs; the disk by default (docker-explain passes a git commit's tree). */
export interface ProjectFiles {
  readFile: ReadFile;
  isFile(absPath: string): boolean;
  listDir(absDir: string): string[] | undefined;
}

const listDirOnDisk = (dir: string) => {
  try {
    return fs.readdirSync(dir);
  } catch {
    return undefined;
  }
};

export const DISK_FILES: ProjectFiles = { readFile: readFileIfExists, isFile, listDir: listDirOnDisk };

export type DiskLoadOptions = Pick<LoadOptions, 'homeDir' | 'lenientRequired'> & {
  /** Called with every path the loader reads or probes, found or not (the graph cache watches them). */
  onLookup?: (absPath: string) => void;
  /** Where the files come from (default: the disk). */
  files?: ProjectFiles;
  /**
   * Whether git tracks a file or folder (absolute path): the lock's view reads only those. Absent
   * outside a git checkout, where every file counts as committed.
   */
  isTracked?: (absPath: string) => boolean;
};

/** The files of `files` that git tracks; a folder lists only its tracked entries. */
export function trackedOnly(files: ProjectFiles, isTracked: (absPath: string) => boolean): ProjectFiles {
  return {
    readFile: (p) => (isTracked(p) ? files.readFile(p) : undefined),
    isFile: (p) => isTracked(p) && files.isFile(p),
    listDir: (dir) => files.listDir(dir)?.filter((name) => isTracked(path.join(dir, name))),
  };
}

/**
 * Load a compose project from disk as `docker compose` run with `cli` would (env files, COMPOSE_* variables).
 * The service lock hashes `committedDefinition` instead when it differs from `definition`: the
 * definition as files git tracks give it, with no process environment (every machine computes the
 * same hash, and a value only an untracked or git-ignored `.env` holds never reaches the lock). It is
 * set on the services that used a process variable or read a file git does not track; `null` when
 * the committed files do not define the service (its compose file is not added yet).
 */
export function loadComposeCliProject(
  cli: ComposeCliOptions,
  processEnv: Record<string, string | undefined> = process.env,
  options: DiskLoadOptions = {},
): ComposeProject {
  const { isTracked, ...diskOptions } = options;
  const project = loadWithEnvironment(cli, processEnv, diskOptions);
  const readUntracked = !!isTracked && project.files.some((f) => !isTracked(f));
  const usesProcessEnv = (svc: ComposeService) => svc.variables.some((v) => processEnv[v] !== undefined);
  if (!readUntracked && !Object.values(project.services).some(usesProcessEnv)) return project;
  const files = diskOptions.files ?? DISK_FILES;
  let committed: ComposeProject | undefined;
  try {
    committed = loadWithEnvironment(
      cli,
      {},
      { ...diskOptions, files: isTracked ? trackedOnly(files, isTracked) : files, lenientRequired: true },
    );
  } catch {
    // What only the environment makes valid keeps the environment's definition; what only untracked files make valid has none.
    if (!readUntracked) return project;
  }
  for (const svc of Object.values(project.services)) {
    const definition = committed?.services[svc.name]?.definition;
    if (readUntracked) svc.committedDefinition = definition ?? null;
    else if (definition && usesProcessEnv(svc)) svc.committedDefinition = definition;
  }
  return project;
}

/** Load the given files (`docker compose -f ... [-p name]` in the first file's folder). */
export function loadComposeProjectFromDisk(
  fileSet: ComposeFileSet,
  processEnv: Record<string, string | undefined> = process.env,
  options: DiskLoadOptions = {},
): ComposeProject {
  return loadComposeCliProject(
    { workingDir: fileSet.projectDir, files: fileSet.files, projectName: fileSet.projectName },
    processEnv,
    options,
  );
}

function loadWithEnvironment(
  cli: ComposeCliOptions,
  processEnv: Record<string, string | undefined>,
  options: DiskLoadOptions,
): ComposeProject {
  const { onLookup, files = DISK_FILES, ...loadOptions } = options;
  const readFile: ReadFile = onLookup ? (p) => (onLookup(p), files.readFile(p)) : files.readFile;
  const exists = onLookup ? (p: string) => (onLookup(p), files.isFile(p)) : files.isFile;
  const io: CliOptionsIo = {
    readFile: (p) => (exists(p) ? files.readFile(p) : undefined),
    listDir: (dir) => {
      onLookup?.(dir);
      return files.listDir(dir);
    },
  };
  const { fileSet, env } = resolveCliOptions(cli, processEnv, io, { lenientRequired: options.lenientRequired });
  return loadComposeProject(fileSet, env, readFile, { ...loadOptions, exists });
}
