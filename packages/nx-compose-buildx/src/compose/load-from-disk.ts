/** The file-reading edge of the compose loader: reads compose files, `.env` and included env files from disk. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDotenv } from './dotenv';
import { loadComposeProject, type LoadOptions, type ReadFile } from './load';
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

/**
 * Load a compose project from disk, with `<projectDir>/.env` (if present) under `processEnv`.
 * Services that use a variable the process environment sets also get `committedDefinition`.
 */
export function loadComposeProjectFromDisk(
  fileSet: ComposeFileSet,
  processEnv: Record<string, string | undefined> = process.env,
  options: DiskLoadOptions = {},
): ComposeProject {
  const project = loadWithEnvironment(fileSet, processEnv, options);
  const usesProcessEnv = (svc: ComposeService) => svc.variables.some((v) => processEnv[v] !== undefined);
  if (!Object.values(project.services).some(usesProcessEnv)) return project;
  let committed: ComposeProject;
  try {
    committed = loadWithEnvironment(fileSet, {}, { ...options, lenientRequired: true });
  } catch {
    return project; // what only the environment makes valid keeps the environment's definition
  }
  for (const svc of Object.values(project.services)) {
    const definition = committed.services[svc.name]?.definition;
    if (definition && usesProcessEnv(svc)) svc.committedDefinition = definition;
  }
  return project;
}

export type DiskLoadOptions = Pick<LoadOptions, 'homeDir' | 'lenientRequired'> & {
  /** Called with every path the loader reads or probes, found or not (the graph cache watches them). */
  onLookup?: (absPath: string) => void;
};

function loadWithEnvironment(
  fileSet: ComposeFileSet,
  processEnv: Record<string, string | undefined>,
  options: DiskLoadOptions,
): ComposeProject {
  const { onLookup, ...loadOptions } = options;
  const readFile: ReadFile = onLookup ? (p) => (onLookup(p), readFileIfExists(p)) : readFileIfExists;
  const exists = onLookup ? (p: string) => (onLookup(p), isFile(p)) : isFile;
  const dotenvFile = path.join(fileSet.projectDir, '.env');
  const text = isFile(dotenvFile) ? readFileIfExists(dotenvFile) : undefined;
  const dotenv = text === undefined ? {} : parseDotenv(text, dotenvFile, (n) => processEnv[n], { lenientRequired: options.lenientRequired }).values;
  return loadComposeProject(
    fileSet,
    { process: processEnv, dotenv, dotenvFile: text === undefined ? undefined : dotenvFile },
    readFile,
    { ...loadOptions, exists },
  );
}
