import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { logger, type CreateNodes, type CreateNodesContext, type CreateNodesResultArray } from '@nx/devkit';
import { globWithWorkspaceContext } from 'nx/src/utils/workspace-context';
import { discoverComposeFiles, loadComposeProjectFromDisk } from '../compose';
import { ComposeError, type ComposeFileSet, type ComposeProject } from '../compose/types';
import { buildSpecsFromProject } from '../build-spec/from-compose';
import { contextKind, toWorkspacePath } from '../build-spec/paths';
import type { ServiceBuildSpec } from '../build-spec/types';
import { escapeNxGlob, selectIgnoreFile } from '../graph';
import { readGraphCache, writeGraphCache, optionsKey, type GraphDependencies } from './graph-cache';
import { assembleNodes, type ComposeSetOutcome, type ServiceError, type ServiceFacts } from './assemble';
import { normalizePluginOptions, type ComposeBuildxPluginOptions, type NormalizedPluginOptions } from './plugin-options';
import { assignProjectNames } from './project-names';
import { SERVICE_LOCK_FILE, parseServiceLock, stableHash } from './service-lock';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PLUGIN_VERSION: string = require('../../package.json').version;

/** Base compose files; their overrides are found beside them, as Compose does. */
export const COMPOSE_FILE_GLOB = '**/{compose,docker-compose}.{yaml,yml}';

interface LoadedSet {
  outcome: ComposeSetOutcome;
  fileSet: ComposeFileSet;
  project?: ComposeProject;
}

export const createNodes: CreateNodes<ComposeBuildxPluginOptions> = [
  COMPOSE_FILE_GLOB,
  (configFiles, options, context) => createComposeNodes(configFiles, options, context),
];

export async function createComposeNodes(
  configFiles: readonly string[],
  rawOptions: ComposeBuildxPluginOptions | undefined,
  context: CreateNodesContext,
): Promise<CreateNodesResultArray> {
  const options = normalizePluginOptions(rawOptions);
  const root = context.workspaceRoot;
  const cacheBase = optionsKey(configFiles, rawOptions ?? {}, PLUGIN_VERSION);
  const cached = await readGraphCache(root, cacheBase);
  if (cached) {
    for (const warning of cached.warnings) logger.warn(warning);
    return cached.results;
  }

  const sets = composeFileSets(configFiles, options, root).map((set) => loadSet(set, root));

  const specs: ServiceBuildSpec[] = [];
  const serviceErrors: ServiceError[] = [];
  const definitionHashes = new Map<string, string>();
  const definitionHashByService = new Map<string, string>();
  for (const set of sets) {
    if (!set.project) continue;
    const result = buildSpecsFromProject(set.project, { workspaceRoot: root, exists: existsSync });
    specs.push(...result.specs);
    for (const error of result.errors) {
      serviceErrors.push({ configFile: set.outcome.configFile, service: error.service ?? '?', error: error.relativeTo(root) });
    }
    // Only when the process environment sets one of the project's variables can the committed-only view differ.
    const usesProcessEnv = Object.values(set.project.services).some((svc) => svc.variables.some((v) => process.env[v] !== undefined));
    const committed = usesProcessEnv ? loadCommittedOnly(set) : undefined;
    for (const service of Object.values(set.project.services)) {
      const definition = (committed ?? set.project).services[service.name]?.definition;
      definitionHashByService.set(`${set.outcome.configFile}\0${service.name}`, stableHash({ service: service.name, definition }));
    }
  }

  const named = assignProjectNames(specs);
  for (const error of named.errors) {
    const set = sets.find((s) => s.outcome.watchedFiles.includes(error.file));
    serviceErrors.push({ configFile: set?.outcome.configFile ?? sets[0].outcome.configFile, service: error.service ?? '?', error });
  }
  for (const spec of named.specs) {
    const set = sets.find((s) => s.project?.name === spec.composeProject && s.outcome.composeDir === spec.composeDir);
    if (set) definitionHashes.set(spec.project, definitionHashByService.get(`${set.outcome.configFile}\0${spec.service}`)!);
  }

  const facts = await readServiceFacts(named.specs, root);
  const lockPath = join(root, SERVICE_LOCK_FILE);
  const lock = parseServiceLock(existsSync(lockPath) ? readFileSync(lockPath, 'utf-8') : undefined);

  const assembled = assembleNodes({
    options,
    sets: sets.map((s) => s.outcome),
    specs: named.specs,
    serviceErrors,
    facts,
    lock,
    definitionHashes,
    isProjectFolder: (dir) => existsSync(join(root, dir, 'project.json')) || existsSync(join(root, dir, 'package.json')),
  });

  const warnings = assembled.errors.map((error) => `nx-compose-buildx: ${error.message}`);
  if (assembled.staleLock.length) {
    warnings.push(
      `nx-compose-buildx: ${SERVICE_LOCK_FILE} is missing or stale for ${assembled.staleLock.length} service(s) ` +
        `(${assembled.staleLock.slice(0, 5).join(', ')}${assembled.staleLock.length > 5 ? ', ...' : ''}); ` +
        'they watch their compose files whole until you run "nx sync".',
    );
  }
  for (const warning of warnings) logger.warn(warning);
  if (sets.every((set) => set.project)) {
    await writeGraphCache(root, cacheBase, graphDependencies(sets, named.specs, configFiles, options), assembled.results, warnings);
  }
  return assembled.results;
}

/** Everything the result was computed from, for the graph cache. */
function graphDependencies(
  sets: LoadedSet[],
  specs: ServiceBuildSpec[],
  configFiles: readonly string[],
  options: NormalizedPluginOptions,
): GraphDependencies {
  const globs = new Set<string>();
  for (const spec of specs) {
    if (contextKind(spec.context) !== 'local') continue;
    const dirs = [spec.context];
    globs.add(spec.context === '.' ? '**/*' : `${escapeNxGlob(spec.context)}/**/*`);
    if (spec.dockerfile) {
      globs.add(escapeNxGlob(spec.dockerfile));
      globs.add(`${escapeNxGlob(spec.dockerfile)}.dockerignore`);
      dirs.push(posix.dirname(spec.dockerfile));
    }
    for (const dir of dirs) for (const marker of ['project.json', 'package.json']) globs.add(escapeNxGlob(posix.join(dir, marker)));
  }
  return {
    composeDirs: [...new Set([...configFiles.map((f) => posix.dirname(f)), ...options.composeFileSets.map((s) => posix.dirname(s.files[0]))])].sort(),
    files: [...new Set([...sets.flatMap((s) => s.outcome.watchedFiles), SERVICE_LOCK_FILE])].sort(),
    globs: [...globs].sort(),
    variables: [...new Set(sets.flatMap((s) => Object.values(s.project?.services ?? {}).flatMap((svc) => svc.variables)))].sort(),
  };
}

/** Compose's own discovery in each matched folder, plus the file sets named in the options. */
function composeFileSets(
  configFiles: readonly string[],
  options: NormalizedPluginOptions,
  root: string,
): Array<{ configFile: string; fileSet: ComposeFileSet }> {
  const explicit = options.composeFileSets.map((set) => ({
    configFile: set.files[0],
    fileSet: {
      projectDir: join(root, dirname(set.files[0])),
      files: set.files.map((f) => join(root, f)),
      ...(set.projectName ? { projectName: set.projectName } : {}),
    },
  }));
  const explicitDirs = new Set(explicit.map((e) => e.fileSet.projectDir));
  const byDir = new Map<string, string[]>();
  for (const file of configFiles) byDir.set(dirname(file), [...(byDir.get(dirname(file)) ?? []), file]);

  const discovered: Array<{ configFile: string; fileSet: ComposeFileSet }> = [];
  for (const [dir, matched] of [...byDir.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const projectDir = join(root, dir);
    if (explicitDirs.has(projectDir)) continue;
    const chosen = discoverComposeFiles(readdirSync(projectDir));
    if (!chosen.length) continue;
    const configFile = posix.join(dir, chosen[0]);
    if (!matched.includes(configFile)) continue;
    discovered.push({ configFile, fileSet: { projectDir, files: chosen.map((f) => join(projectDir, f)) } });
  }
  return [...discovered, ...explicit];
}

function loadSet({ configFile, fileSet }: { configFile: string; fileSet: ComposeFileSet }, root: string): LoadedSet {
  const composeDir = toWorkspacePath(root, fileSet.projectDir);
  const ownFiles = [...fileSet.files, join(fileSet.projectDir, '.env')].map((f) => toWorkspacePath(root, f));
  const fallbackName = fileSet.projectName ?? posix.basename(composeDir === '.' ? root : composeDir);
  try {
    const project = loadComposeProjectFromDisk(fileSet, process.env);
    const watchedFiles = [...new Set([...ownFiles, ...project.files.map((f) => toWorkspacePath(root, f))])];
    return { fileSet, project, outcome: { configFile, composeDir, composeProjectName: project.name, watchedFiles } };
  } catch (e) {
    const error = e instanceof ComposeError ? e.relativeTo(root) : new ComposeError(String((e as Error)?.message ?? e), { file: configFile });
    return { fileSet, outcome: { configFile, composeDir, composeProjectName: fallbackName, watchedFiles: ownFiles, error } };
  }
}

/**
 * The service lock hashes each definition as the committed files alone define
 * it (the `.env` file, no process environment), so every machine computes the
 * same hash whatever CI exports. Process variables reach the task hash as env inputs.
 */
function loadCommittedOnly(set: LoadedSet): ComposeProject | undefined {
  try {
    return loadComposeProjectFromDisk(set.fileSet, {}, { lenientRequired: true });
  } catch {
    return undefined;
  }
}

/** Reads what the graph stage needs for each service: context listing, ignore rules, Dockerfile. */
async function readServiceFacts(specs: ServiceBuildSpec[], root: string): Promise<Map<string, ServiceFacts>> {
  const local = specs.filter((s) => contextKind(s.context) === 'local');
  const listing = await listContexts(root, local.map((s) => s.context));
  const facts = new Map<string, ServiceFacts>();
  for (const spec of local) {
    const ignoreFile = selectIgnoreFile(spec.dockerfile, spec.context, (p: string) => existsSync(join(root, p)));
    const ignorePatterns = ignoreFile ? readFileSync(join(root, ignoreFile), 'utf-8').split(/\r?\n/) : [];
    const dockerfileText =
      spec.dockerfile && existsSync(join(root, spec.dockerfile)) ? readFileSync(join(root, spec.dockerfile), 'utf-8') : undefined;
    facts.set(spec.project, {
      contextFiles: listing(spec.context),
      ...(ignoreFile ? { ignoreFile } : {}),
      ignorePatterns,
      ...(dockerfileText !== undefined ? { dockerfileText } : {}),
    });
  }
  return facts;
}

/**
 * Lists every context from Nx's own file index in one native call (one call per
 * context costs seconds at a thousand services), then answers per context from
 * the sorted list. Files git ignores are not in the index; they can never show
 * up in a diff either.
 */
async function listContexts(root: string, contexts: string[]): Promise<(context: string) => string[]> {
  const dirs = [...new Set(contexts)];
  const globs = dirs.includes('.') ? ['**/*'] : dirs.map((d) => `${d}/**/*`);
  const files = globs.length ? (await globWithWorkspaceContext(root, globs)).sort() : [];
  return (context) => {
    if (context === '.') return files;
    const prefix = `${context}/`;
    let lo = 0;
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (files[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < files.length && files[i].startsWith(prefix); i++) out.push(files[i].slice(prefix.length));
    return out;
  };
}
