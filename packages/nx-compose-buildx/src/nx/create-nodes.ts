import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { logger, type CreateNodes, type CreateNodesContext, type CreateNodesResultArray } from '@nx/devkit';
import { discoverComposeFiles, loadComposeProjectFromDisk } from '../compose';
import { ComposeError, type ComposeFileSet, type ComposeProject } from '../compose/types';
import { buildSpecsFromProject } from '../build-spec/from-compose';
import { contextKind, toWorkspacePath } from '../build-spec/paths';
import type { ServiceBuildSpec } from '../build-spec/types';
import { createPrunePredicate, listContext, selectIgnoreFile } from '../graph';
import { readGraphCache, writeGraphCache, optionsKey, type GraphDependencies } from './graph-cache';
import { assembleNodes, type ComposeSetOutcome, type ServiceError, type ServiceFacts, type ServiceRecord } from './assemble';
import { normalizePluginOptions, type ComposeBuildxPluginOptions, type NormalizedPluginOptions } from './plugin-options';
import { assignProjectNames } from './project-names';
import { SERVICE_LOCK_FILE, parseServiceLock, serviceDefinitionHashes } from './service-lock';
import { isPerPlatform } from './targets';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PLUGIN_VERSION: string = require('../../package.json').version;

/** Base compose files; their overrides are found beside them, as Compose does. */
export const COMPOSE_FILE_GLOB = '**/{compose,docker-compose}.{yaml,yml}';

interface LoadedSet {
  outcome: ComposeSetOutcome;
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

  const records: ServiceRecord[] = [];
  const serviceErrors: ServiceError[] = [];
  for (const set of sets) {
    if (!set.project) continue;
    const result = buildSpecsFromProject(set.project, { workspaceRoot: root, exists: existsSync });
    for (const spec of result.specs) {
      const service = set.project.services[spec.service];
      // The lock hashes the definition as the committed files alone give it, so every machine
      // computes the same hash whatever CI exports; process variables reach the task hash as env inputs.
      records.push({ set: set.outcome, spec, definition: service.committedDefinition ?? service.definition });
    }
    for (const error of result.errors) {
      serviceErrors.push({ set: set.outcome, service: error.service ?? '?', error: error.relativeTo(root) });
    }
  }

  const { named, errors: nameErrors } = assignProjectNames(records);
  for (const { record, error } of nameErrors) serviceErrors.push({ set: record.set, service: record.spec.service, error });
  const definitionHashes = new Map<string, string>();
  for (const { spec, definition } of named) {
    const platforms = isPerPlatform(spec) ? spec.platforms : [];
    for (const [name, hash] of Object.entries(serviceDefinitionHashes(spec.project, spec.service, definition, platforms, root))) {
      definitionHashes.set(name, hash);
    }
  }

  const specs = named.map((r) => r.spec);
  const facts = readServiceFacts(specs, root);
  const lockPath = join(root, SERVICE_LOCK_FILE);
  const lock = parseServiceLock(existsSync(lockPath) ? readFileSync(lockPath, 'utf-8') : undefined);

  const assembled = assembleNodes({
    options,
    sets: sets.map((s) => s.outcome),
    services: named,
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
    await writeGraphCache(root, cacheBase, graphDependencies(sets, specs, facts, configFiles, options), assembled.results, warnings);
  }
  return assembled.results;
}

/** Everything the result was computed from, for the graph cache. */
function graphDependencies(
  sets: LoadedSet[],
  specs: ServiceBuildSpec[],
  facts: Map<string, ServiceFacts>,
  configFiles: readonly string[],
  options: NormalizedPluginOptions,
): GraphDependencies {
  const stats = new Set<string>();
  for (const spec of specs) {
    if (contextKind(spec.context) !== 'local') continue;
    const walked = facts.get(spec.project)?.walkedDirs ?? [''];
    for (const dir of walked) stats.add(dir === '' ? spec.context : posix.join(spec.context, dir));
    stats.add(posix.join(spec.context, '.dockerignore'));
    const dirs = [spec.context];
    if (spec.dockerfile) {
      stats.add(spec.dockerfile);
      stats.add(`${spec.dockerfile}.dockerignore`);
      dirs.push(posix.dirname(spec.dockerfile));
    }
    for (const dir of dirs) for (const marker of ['project.json', 'package.json']) stats.add(posix.join(dir, marker));
  }
  return {
    composeDirs: [...new Set([...configFiles.map((f) => posix.dirname(f)), ...options.composeFileSets.map((s) => posix.dirname(s.files[0]))])].sort(),
    files: [...new Set([...sets.flatMap((s) => s.outcome.watchedFiles), SERVICE_LOCK_FILE])].sort(),
    stats: [...stats].sort(),
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
    return { project, outcome: { configFile, composeDir, composeProjectName: project.name, watchedFiles } };
  } catch (e) {
    const error = e instanceof ComposeError ? e.relativeTo(root) : new ComposeError(String((e as Error)?.message ?? e), { file: configFile });
    return { outcome: { configFile, composeDir, composeProjectName: fallbackName, watchedFiles: ownFiles, error } };
  }
}

/** Reads what the graph stage needs for each service: context listing, ignore rules, Dockerfile. */
function readServiceFacts(specs: ServiceBuildSpec[], root: string): Map<string, ServiceFacts> {
  const facts = new Map<string, ServiceFacts>();
  for (const spec of specs) {
    if (contextKind(spec.context) !== 'local') continue;
    const ignoreFile = selectIgnoreFile(spec.dockerfile, spec.context, (p: string) => existsSync(join(root, p)));
    const ignorePatterns = ignoreFile ? readFileSync(join(root, ignoreFile), 'utf-8').split(/\r?\n/) : [];
    const dockerfileText =
      spec.dockerfile && existsSync(join(root, spec.dockerfile)) ? readFileSync(join(root, spec.dockerfile), 'utf-8') : undefined;
    // Folders that the ignore rules drop wholesale are not walked (a node_modules can hold 100k files).
    const listing = listContext(join(root, spec.context), createPrunePredicate(ignorePatterns, keptInContext(spec, ignoreFile)));
    facts.set(spec.project, {
      contextFiles: listing.files,
      prunedDirs: listing.prunedDirs,
      walkedDirs: listing.walkedDirs,
      ...(ignoreFile ? { ignoreFile } : {}),
      ignorePatterns,
      ...(dockerfileText !== undefined ? { dockerfileText } : {}),
    });
  }
  return facts;
}

/** Context-relative paths that must stay inputs even if the ignore rules drop them. */
function keptInContext(spec: ServiceBuildSpec, ignoreFile: string | undefined): string[] {
  const prefix = spec.context === '.' ? '' : `${spec.context}/`;
  return [spec.dockerfile, ignoreFile, SERVICE_LOCK_FILE, ...spec.composeFiles]
    .filter((p): p is string => !!p && p.startsWith(prefix))
    .map((p) => p.slice(prefix.length));
}
