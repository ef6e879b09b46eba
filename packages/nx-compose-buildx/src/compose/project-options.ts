/**
 * What `docker compose` decides before it reads a compose file (compose-go `cli/options.go`): the env files
 * (`--env-file`, else `<working dir>/.env`), the environment (process first, then those files), the compose
 * files (`-f`, else `COMPOSE_FILE` split on `COMPOSE_PATH_SEPARATOR`, else the default names in the working
 * folder) and the project name (`-p`, else `COMPOSE_PROJECT_NAME`, else `name:` / the folder, in the loader).
 * Pure apart from the injected `readFile` / `listDir`.
 */
import * as path from 'node:path';
import { discoverComposeFiles } from './discover';
import { parseDotenv } from './dotenv';
import { lookupIn } from './environment';
import type { InterpolateOptions } from './interpolate';
import { ComposeError, type ComposeFileSet, type InterpolationEnvironment } from './types';

/** The `docker compose` flags the plugin can stand in for. Paths are absolute. */
export interface ComposeCliOptions {
  /** The folder `docker compose` runs in. */
  workingDir: string;
  /** `-f` files, in order; without them `COMPOSE_FILE`, then the default file names. */
  files?: string[];
  /** `-p`. */
  projectName?: string;
  /** `--env-file`, in order (later files win); without them `<workingDir>/.env` when it exists. */
  envFiles?: string[];
}

/** Environment variables that steer `docker compose` itself (not interpolation). */
export const COMPOSE_FILE = 'COMPOSE_FILE';
export const COMPOSE_PATH_SEPARATOR = 'COMPOSE_PATH_SEPARATOR';
export const COMPOSE_PROJECT_NAME = 'COMPOSE_PROJECT_NAME';
/** Read by Compose to pick the active profiles; the plugin loads every service, so it only must not get in the way. */
export const COMPOSE_PROFILES = 'COMPOSE_PROFILES';
/** Read by `docker compose build` as the platform of services that set none (compose `applyPlatforms`). */
export const DOCKER_DEFAULT_PLATFORM = 'DOCKER_DEFAULT_PLATFORM';
/** Every such variable the result can depend on (for caches keyed on the environment). */
export const COMPOSE_CLI_VARIABLES = [COMPOSE_FILE, COMPOSE_PATH_SEPARATOR, COMPOSE_PROJECT_NAME, DOCKER_DEFAULT_PLATFORM] as const;

export interface CliOptionsIo {
  /** A file's text, or undefined when it does not exist (or is not a file). */
  readFile(absPath: string): string | undefined;
  /** The names in a folder, or undefined when it cannot be listed. */
  listDir(absDir: string): string[] | undefined;
}

export interface ResolvedCliOptions {
  fileSet: ComposeFileSet;
  env: InterpolationEnvironment;
}

/** compose-go `ValidateProjectName`: a name given imperatively (`-p`, `COMPOSE_PROJECT_NAME`) is checked, not normalised. */
const VALID_PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export function resolveCliOptions(
  cli: ComposeCliOptions,
  processEnv: Record<string, string | undefined>,
  io: CliOptionsIo,
  options: InterpolateOptions = {},
): ResolvedCliOptions {
  const implicit = path.posix.join(cli.workingDir, '.env');
  const explicitEnvFiles = cli.envFiles !== undefined && cli.envFiles.length > 0;
  const envFiles = explicitEnvFiles ? cli.envFiles! : [implicit];
  const dotenv: Record<string, string> = {};
  const dotenvFiles: string[] = [];
  const fromFile = new Map<string, string>();
  for (const file of envFiles) {
    const text = io.readFile(file);
    if (text === undefined) {
      if (explicitEnvFiles) throw new ComposeError(`couldn't find env file: ${file}`, { file });
      continue;
    }
    dotenvFiles.push(file);
    // Later files see the process environment first, then what earlier files set (compose-go dotenv.GetEnvFromFile).
    const parsed = parseDotenv(text, file, (n) => processEnv[n] ?? dotenv[n], options).values;
    for (const [k, v] of Object.entries(parsed)) {
      dotenv[k] = v;
      fromFile.set(k, file);
    }
  }
  const env: InterpolationEnvironment = { process: processEnv, dotenv, dotenvFiles };
  const lookup = lookupIn(env);
  const where = (name: string) => ({ file: processEnv[name] !== undefined ? cli.workingDir : (fromFile.get(name) ?? cli.workingDir) });

  let files = cli.files;
  if (!files || files.length === 0) {
    const composeFile = lookup(COMPOSE_FILE);
    if (composeFile !== undefined && composeFile !== '') {
      const separator = lookup(COMPOSE_PATH_SEPARATOR) || ':';
      files = composeFile
        .split(separator)
        .filter((f) => f !== '')
        .map((f) => path.posix.resolve(cli.workingDir, f));
      if (files.length === 0) throw new ComposeError(`${COMPOSE_FILE} names no file`, where(COMPOSE_FILE));
    } else {
      files = discoverComposeFiles(io.listDir(cli.workingDir) ?? []).map((f) => path.posix.join(cli.workingDir, f));
      if (files.length === 0)
        throw new ComposeError('no compose file found (compose.yaml, docker-compose.yml...)', { file: cli.workingDir });
    }
  }

  let projectName = cli.projectName;
  if (projectName === undefined || projectName === '') {
    const fromEnv = lookup(COMPOSE_PROJECT_NAME);
    if (fromEnv !== undefined && fromEnv !== '') {
      if (!VALID_PROJECT_NAME.test(fromEnv)) {
        throw new ComposeError(
          `invalid project name "${fromEnv}" in ${COMPOSE_PROJECT_NAME}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
          where(COMPOSE_PROJECT_NAME),
        );
      }
      projectName = fromEnv;
    }
  }

  return {
    fileSet: { projectDir: path.posix.dirname(files[0]), files, ...(projectName ? { projectName } : {}) },
    env,
  };
}
