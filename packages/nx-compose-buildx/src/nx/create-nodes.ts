import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { CreateNodesContext, CreateNodesResultArray } from '@nx/devkit';
import { DISK_FILES, discoverComposeFiles, loadComposeCliProject, type ComposeCliOptions, type ProjectFiles } from '../compose';
import { ComposeError, type ComposeProject } from '../compose/types';
import { buildSpecsFromProject } from '../build-spec/from-compose';
import { contextKind, toWorkspacePath } from '../build-spec/paths';
import { secretLikeArgs, secretLikeArgsWarning } from '../build-spec/secret-args';
import type { ServiceBuildSpec } from '../build-spec/types';
import { createIgnoreMatcher, createPrunePredicate, listContext, selectIgnoreFile } from '../graph';
import { insideWorkspaceCheck } from './containment';
import { diskView, type DiskView } from './disk-view';
import { readGraphCache, writeGraphCache, optionsKey, type GraphDependencies } from './graph-cache';
import {
  assembleNodes,
  type ComposeSetOutcome,
  type NamedContextListing,
  type ServiceError,
  type ServiceFacts,
  type ServiceRecord,
} from './assemble';
import { normalizePluginOptions, type ComposeBuildxPluginOptions, type NormalizedPluginOptions } from './plugin-options';
import { assignProjectNames } from './project-names';
import { SERVICE_LOCK_FILE, parseServiceLock, serviceDefinitionHashes } from './service-lock';
import { isPerPlatform } from './targets';
import { gitIndexPath, isTrackedPath, listTrackedFiles } from '../run/git-index';
import { logWarnings, readLockText, staleLockNotice } from './plugin-warnings';

export { COMPOSE_FILE_GLOB } from './plugin';

interface LoadedSet {
  outcome: ComposeSetOutcome;
  /** Named in the plugin options (never dropped for being included by another compose file). */
  explicit: boolean;
  project?: ComposeProject;
  /** Workspace-relative paths the loader read or probed, found or not: a failed load is cached on them. */
  lookups: string[];
  /** Environment variables the loader read. */
  variablesRead: string[];
}

/** createNodes as Nx calls it (plugin.ts): the graph cache first, then the whole computation. */
export async function createComposeNodes(
  configFiles: readonly string[],
  rawOptions: ComposeBuildxPluginOptions | undefined,
  context: CreateNodesContext,
): Promise<CreateNodesResultArray> {
  const cacheBase = optionsKey(configFiles, rawOptions);
  const cached = await readGraphCache(context.workspaceRoot, cacheBase);
  if (cached) {
    logWarnings(context.workspaceRoot, cached.warnings);
    return cached.results;
  }
  return computeComposeNodes(configFiles, rawOptions, context, cacheBase);
}

/** The graph computed from the compose files (the graph cache missed), written back to the cache. */
export async function computeComposeNodes(
  configFiles: readonly string[],
  rawOptions: ComposeBuildxPluginOptions | undefined,
  context: CreateNodesContext,
  cacheBase: string,
): Promise<CreateNodesResultArray> {
  const options = normalizePluginOptions(rawOptions);
  const root = context.workspaceRoot;

  const disk = diskView();
  // The lock's view reads only files git tracks: one listing for the whole graph.
  const tracked = await listTrackedFiles(root);
  // Every answer given, for the graph cache: a changed index invalidates the entry only if one differs.
  const trackedAnswers: Record<string, boolean> = Object.create(null);
  const trackedPath = tracked && isTrackedPath(tracked, root);
  const isTracked =
    trackedPath &&
    ((abs: string) => {
      const answer = trackedPath(abs);
      trackedAnswers[toWorkspacePath(root, abs)] = answer;
      return answer;
    });
  const loaded: LoadedSet[] = [];
  const files: ProjectFiles = {
    ...DISK_FILES,
    isFile: (abs) => disk.stat(abs)?.isFile() ?? false,
    listDir: (abs) => disk.list(abs)?.map((e) => e.name),
  };
  for (const set of composeFileSets(configFiles, options, root, disk)) {
    loaded.push(loadSet(set, root, files, isTracked));
    await yieldToEventLoop();
  }
  const sets = withoutIncludedSets(loaded, root);

  const records: ServiceRecord[] = [];
  const serviceErrors: ServiceError[] = [];
  const specWarnings: string[] = [];
  // Every path the spec stage looks at, found or not: when a missing context appears, the cache must see it.
  const probed = new Set<string>();
  const isInside = insideWorkspaceCheck(root);
  const specEnv = {
    workspaceRoot: root,
    exists: (abs: string) => (probed.add(toWorkspacePath(root, abs)), disk.stat(abs) !== undefined),
    isDirectory: (abs: string) => disk.stat(abs)?.isDirectory() ?? false,
    isInside,
  };
  for (const set of sets) {
    if (!set.project) continue;
    const result = buildSpecsFromProject(set.project, specEnv);
    for (const spec of result.specs) {
      const service = set.project.services[spec.service];
      // The lock hashes the definition as the committed files alone give it, so every machine
      // computes the same hash whatever CI exports or an untracked .env holds; process variables
      // reach the task hash as env inputs. A service the committed files do not define has no hash.
      const definition = service.committedDefinition === null ? undefined : (service.committedDefinition ?? service.definition);
      records.push({ set: set.outcome, spec, definition });
    }
    for (const error of result.errors) {
      serviceErrors.push({ set: set.outcome, service: error.service ?? '?', error: error.relativeTo(root) });
    }
    for (const warning of result.warnings) specWarnings.push(`nx-compose-buildx: ${warning.relativeTo(root).message}`);
  }

  const { named, errors: nameErrors } = assignProjectNames(records);
  for (const { record, error } of nameErrors) serviceErrors.push({ set: record.set, service: record.spec.service, error });
  const definitionHashes = new Map<string, string>();
  for (const { spec, definition } of named) {
    if (!definition) continue;
    const platforms = isPerPlatform(spec) ? spec.platforms : [];
    for (const [name, hash] of Object.entries(serviceDefinitionHashes(spec.project, spec.service, definition, platforms, root))) {
      definitionHashes.set(name, hash);
    }
  }

  const specs = named.map((r) => r.spec);
  const outside = outsideWorkspace(specs, isInside);
  const facts = new Map<string, ServiceFacts>();
  const loadable: ServiceRecord[] = [];
  const reader = factsReader(specs, root, disk);
  for (const [i, record] of named.entries()) {
    if (i % 25 === 24) await yieldToEventLoop();
    const { spec } = record;
    // One service's unreadable files make that service an error project, never the whole graph.
    try {
      const serviceFacts = reader(spec, outside.has(spec.project));
      if (serviceFacts) facts.set(spec.project, serviceFacts);
      loadable.push(record);
    } catch (e) {
      const error =
        e instanceof ComposeError
          ? e
          : new ComposeError(`cannot read the build files: ${(e as Error)?.message ?? e}`, {
              file: spec.composeFiles[0] ?? spec.composeDir,
              service: spec.service,
            });
      serviceErrors.push({ set: record.set, service: spec.service, error });
    }
  }
  const lock = parseServiceLock(readLockText(root));

  const assembled = assembleNodes({
    options,
    sets: sets.map((s) => s.outcome),
    services: loadable,
    serviceErrors,
    facts,
    lock,
    definitionHashes,
    isProjectFolder: (dir) => disk.exists(join(root, dir, 'project.json')) || disk.exists(join(root, dir, 'package.json')),
  });

  markNotCacheable(assembled.results, outside);
  const warnings = [...new Set([...assembled.errors.map((error) => error.message), ...errorMessages(assembled.results)])].map(
    (m) => `nx-compose-buildx: ${m}`,
  );
  for (const [project, paths] of outside) {
    const shown = paths.map((p) => (p.startsWith('..') ? `${p} (${join(root, p)})` : p));
    warnings.push(
      `nx-compose-buildx: service "${specs.find((s) => s.project === project)?.service ?? project}" builds from ${shown.join(' and ')} outside the workspace; ` +
        'Nx cannot hash files there, so its targets are not cached and nx affected does not see changes to them.',
    );
  }
  warnings.push(...specWarnings);
  for (const { spec } of named) {
    const warning = secretLikeArgsWarning(spec.service, spec.composeFiles[0], secretLikeArgs(spec));
    if (warning) warnings.push(`nx-compose-buildx: ${warning}`);
  }
  if (assembled.staleLock.length) warnings.push(staleLockNotice(assembled.staleLock));
  logWarnings(root, warnings);
  // Errors are cached like successes: the dependencies list every path that was looked for, so the
  // entry goes stale as soon as a missing file appears or a broken one changes.
  const dependencies = graphDependencies(sets, specs, facts, configFiles, options, probed);
  // `git add` or `git rm --cached` of a file changes the lock's view without touching the file.
  const index = tracked && gitIndexPath(root);
  if (index) dependencies.tracked = { index, paths: trackedAnswers };
  // Not awaited: the entry is built before this returns, and only its write finishes afterwards.
  void writeGraphCache(root, cacheBase, dependencies, assembled.results, warnings, (path) => disk.seen(join(root, path)));
  return assembled.results;
}

/**
 * Lets the plugin worker see SIGTERM, or nx closing its socket, between compose projects: a
 * signal handler cannot run while synchronous work holds the event loop, and a worker left
 * computing after nx is killed is a worker nobody waits for.
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Everything the result was computed from, for the graph cache. */
function graphDependencies(
  sets: LoadedSet[],
  specs: ServiceBuildSpec[],
  facts: Map<string, ServiceFacts>,
  configFiles: readonly string[],
  options: NormalizedPluginOptions,
  probed: Set<string>,
): GraphDependencies {
  const files = [...new Set([...sets.flatMap((s) => s.outcome.watchedFiles), SERVICE_LOCK_FILE])].sort();
  const hashed = new Set(files);
  const stats = new Set<string>([...probed, ...sets.flatMap((s) => s.lookups)].filter((p) => !hashed.has(p)));
  const listed = new Set<string>();
  for (const spec of specs) {
    if (contextKind(spec.context) !== 'local') continue;
    const fact = facts.get(spec.project);
    // Services sharing a context share its listing: its folders are added once.
    if (!fact?.contextKey || !listed.has(fact.contextKey)) {
      if (fact?.contextKey) listed.add(fact.contextKey);
      for (const dir of fact?.walkedDirs ?? ['']) stats.add(dir === '' ? spec.context : posix.join(spec.context, dir));
    }
    stats.add(posix.join(spec.context, '.dockerignore'));
    const dirs = [spec.context];
    if (spec.dockerfile) {
      stats.add(spec.dockerfile);
      stats.add(`${spec.dockerfile}.dockerignore`);
      dirs.push(posix.dirname(spec.dockerfile));
    }
    for (const dir of dirs) for (const marker of ['project.json', 'package.json']) stats.add(posix.join(dir, marker));
    // A link added to a named context changes what its reads follow.
    for (const [name, named] of Object.entries(fact?.namedContexts ?? {})) {
      const dir = spec.additionalContexts[name];
      if (dir === undefined || listed.has(`\0named\0${dir}`)) continue;
      listed.add(`\0named\0${dir}`);
      for (const walked of named.walkedDirs) stats.add(walked === '' ? dir : posix.join(dir, walked));
      stats.add(posix.join(dir, '.dockerignore'));
    }
  }
  return {
    composeDirs: [
      ...new Set([...configFiles.map((f) => posix.dirname(f)), ...options.composeFileSets.map((s) => posix.dirname(s.files[0]))]),
    ].sort(),
    files,
    stats: [...stats].sort(),
    variables: [
      ...new Set(sets.flatMap((s) => [...s.variablesRead, ...Object.values(s.project?.services ?? {}).flatMap((svc) => svc.variables)])),
    ].sort(),
  };
}

interface ComposeRun {
  configFile: string;
  cli: ComposeCliOptions;
  explicit: boolean;
}

/** Compose's own discovery in each matched folder, plus the file sets named in the options. */
function composeFileSets(configFiles: readonly string[], options: NormalizedPluginOptions, root: string, disk: DiskView): ComposeRun[] {
  const envFilesIn = (dir: string) => (options.envFiles ? { envFiles: options.envFiles.map((f) => join(dir, f)) } : {});
  const explicit = options.composeFileSets.map((set): ComposeRun => {
    const workingDir = join(root, dirname(set.files[0]));
    const cli: ComposeCliOptions = {
      workingDir,
      files: set.files.map((f) => join(root, f)),
      ...(set.projectName ? { projectName: set.projectName } : {}),
      ...(set.envFiles ? { envFiles: set.envFiles.map((f) => join(root, f)) } : envFilesIn(workingDir)),
    };
    return { configFile: set.files[0], cli, explicit: true };
  });
  const explicitDirs = new Set(explicit.map((e) => e.cli.workingDir));
  const byDir = new Map<string, string[]>();
  for (const file of configFiles) byDir.set(dirname(file), [...(byDir.get(dirname(file)) ?? []), file]);

  // Each folder is one `docker compose` run there: its .env (or envFile) may pick other files (COMPOSE_FILE).
  const discovered: ComposeRun[] = [];
  for (const [dir, matched] of [...byDir.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const workingDir = join(root, dir);
    if (explicitDirs.has(workingDir)) continue;
    const chosen = discoverComposeFiles(disk.list(workingDir)?.map((e) => e.name) ?? readdirSync(workingDir));
    if (!chosen.length) continue;
    const configFile = posix.join(dir, chosen[0]);
    if (!matched.includes(configFile)) continue;
    discovered.push({ configFile, cli: { workingDir, ...envFilesIn(workingDir) }, explicit: false });
  }
  return [...discovered, ...explicit];
}

function loadSet(
  { configFile, cli, explicit }: ComposeRun,
  root: string,
  files: ProjectFiles,
  isTracked?: (absPath: string) => boolean,
): LoadedSet {
  const ownFiles = [...(cli.files ?? [join(root, configFile)]), ...(cli.envFiles ?? [join(cli.workingDir, '.env')])].map((f) =>
    toWorkspacePath(root, f),
  );
  // What the loader looks up, found or not, so that a cached result (an error too) goes stale
  // when a missing file appears or a variable it read (COMPOSE_FILE...) changes.
  const lookups = new Set<string>();
  const variables = new Set<string>();
  const note = (key: string | symbol) => typeof key === 'string' && variables.add(key);
  const env = new Proxy(process.env, {
    get: (target, key) => (note(key), Reflect.get(target, key)),
    has: (target, key) => (note(key), Reflect.has(target, key)),
    getOwnPropertyDescriptor: (target, key) => (note(key), Reflect.getOwnPropertyDescriptor(target, key)),
  });
  const onLookup = (abs: string) => lookups.add(toWorkspacePath(root, abs));
  const read = () => ({ lookups: [...lookups], variablesRead: [...variables] });
  try {
    const project = loadComposeCliProject(cli, env, { onLookup, files, ...(isTracked ? { isTracked } : {}) });
    const composeDir = toWorkspacePath(root, project.projectDir);
    const watchedFiles = [...new Set([...ownFiles, ...project.files.map((f) => toWorkspacePath(root, f))])];
    const ws = (f: string) => toWorkspacePath(root, f);
    const compose = {
      workingDir: ws(cli.workingDir),
      ...(cli.files ? { files: cli.files.map(ws) } : {}),
      ...(cli.projectName ? { projectName: cli.projectName } : {}),
      ...(cli.envFiles ? { envFiles: cli.envFiles.map(ws) } : {}),
    };
    return { explicit, project, outcome: { configFile, composeDir, composeProjectName: project.name, watchedFiles, compose }, ...read() };
  } catch (e) {
    const composeDir = toWorkspacePath(root, cli.workingDir);
    const fallbackName = cli.projectName ?? posix.basename(composeDir === '.' ? root : composeDir);
    const error =
      e instanceof ComposeError ? e.relativeTo(root) : new ComposeError(String((e as Error)?.message ?? e), { file: configFile });
    return { explicit, outcome: { configFile, composeDir, composeProjectName: fallbackName, watchedFiles: ownFiles, error }, ...read() };
  }
}

/** A compose file that another compose file `include:`s belongs to that project only (one image, one project). */
function withoutIncludedSets(sets: LoadedSet[], root: string): LoadedSet[] {
  const included = new Set(sets.flatMap((s) => (s.project?.includedFiles ?? []).map((f) => toWorkspacePath(root, f))));
  return sets.filter((s) => s.explicit || !included.has(s.outcome.configFile));
}

/**
 * Reads what the graph stage needs for one service: context listing, ignore rules, Dockerfile.
 * A context outside the workspace is never listed (a context of `/` must not walk the disk).
 * Problems become a ComposeError naming the file and line. Services sharing a context and
 * ignore file (the root-context layout: every service has `context: .`) share one listing,
 * and services sharing a Dockerfile one read.
 */
function factsReader(
  specs: readonly ServiceBuildSpec[],
  root: string,
  disk: DiskView,
): (spec: ServiceBuildSpec, outside: boolean) => ServiceFacts | undefined {
  // What any service sharing a context must keep walked, so one listing serves them all.
  const keepByContext = new Map<string, Set<string>>();
  for (const spec of specs) {
    if (contextKind(spec.context) !== 'local') continue;
    const keep = keepByContext.get(spec.context) ?? new Set<string>();
    for (const p of keptInContext(spec, `${spec.dockerfile}.dockerignore`)) keep.add(p);
    for (const p of keptInContext(spec, posix.join(spec.context, '.dockerignore'))) keep.add(p);
    keepByContext.set(spec.context, keep);
  }
  const dockerfiles = new Map<string, string | undefined>();
  const listings = new Map<string, Omit<ServiceFacts, 'dockerfileText'>>();
  const namedListings = new Map<string, NamedContextListing>();
  /**
   * A named context folder listed for its symlinks, once per folder. BuildKit sends it with its
   * own .dockerignore applied (checked on the stack), so that file prunes the walk. A folder that
   * cannot be listed (missing: the build fails on it) has no links; its stat keeps the cache honest.
   */
  const namedListing = (dir: string) => {
    let listing = namedListings.get(dir);
    if (!listing) {
      let prune: ((relDir: string) => boolean) | undefined;
      let patterns: string[] | undefined;
      try {
        const ignore = join(root, dir, '.dockerignore');
        if (disk.exists(ignore)) {
          const lines = readFileSync(ignore, 'utf-8').split(/\r?\n/);
          prune = createPrunePredicate(lines, ['.dockerignore']);
          if (!invalidIgnorePattern(lines)) patterns = lines;
        }
      } catch {
        prune = undefined; // an unreadable or invalid ignore file: walk it all (over-selects; the build reports it)
        patterns = undefined;
      }
      try {
        const { links, walkedDirs, files, prunedDirs } = listContext(join(root, dir), prune, disk.list);
        listing = { links, walkedDirs, ...(patterns ? { ignore: { files, prunedDirs, patterns } } : {}) };
      } catch {
        listing = { links: {}, walkedDirs: [''] };
      }
      namedListings.set(dir, listing);
    }
    return listing;
  };
  const namedContextsOf = (spec: ServiceBuildSpec): Pick<ServiceFacts, 'namedContexts'> => {
    const out: NonNullable<ServiceFacts['namedContexts']> = {};
    for (const [name, dir] of Object.entries(spec.additionalContexts)) if (contextKind(dir) === 'local') out[name] = namedListing(dir);
    return Object.keys(out).length ? { namedContexts: out } : {};
  };
  return (spec, outside) => {
    if (contextKind(spec.context) !== 'local') return undefined;
    if (spec.dockerfile && !dockerfiles.has(spec.dockerfile)) {
      const abs = join(root, spec.dockerfile);
      dockerfiles.set(spec.dockerfile, disk.stat(abs) ? readFileSync(abs, 'utf-8') : undefined);
    }
    const dockerfileText = spec.dockerfile ? dockerfiles.get(spec.dockerfile) : undefined;
    if (outside) return { contextFiles: [], ignorePatterns: [], ...(dockerfileText !== undefined ? { dockerfileText } : {}) };
    const withText = (f: Omit<ServiceFacts, 'dockerfileText'>): ServiceFacts => ({
      ...f,
      ...namedContextsOf(spec),
      ...(dockerfileText !== undefined ? { dockerfileText } : {}),
    });
    const ignoreFile = selectIgnoreFile(spec.dockerfile, spec.context, (p: string) => disk.exists(join(root, p)));
    const contextKey = `${spec.context}\0${ignoreFile ?? ''}`;
    const known = listings.get(contextKey);
    if (known) return withText(known);
    let ignorePatterns: string[] = [];
    if (ignoreFile) {
      try {
        ignorePatterns = readFileSync(join(root, ignoreFile), 'utf-8').split(/\r?\n/);
      } catch (e) {
        throw new ComposeError(`cannot read the ignore file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
          file: ignoreFile,
          service: spec.service,
        });
      }
      const bad = invalidIgnorePattern(ignorePatterns);
      if (bad) {
        throw new ComposeError(`invalid pattern ${JSON.stringify(bad.pattern)}: BuildKit rejects it (${bad.reason})`, {
          file: ignoreFile,
          line: bad.line,
          service: spec.service,
        });
      }
    }
    // Folders that the ignore rules drop wholesale are not walked (a node_modules can hold 100k files).
    const listing = listContext(
      join(root, spec.context),
      createPrunePredicate(ignorePatterns, [...(keepByContext.get(spec.context) ?? [])]),
      disk.list,
    );
    const facts: Omit<ServiceFacts, 'dockerfileText'> = {
      contextKey,
      contextFiles: listing.files,
      prunedDirs: listing.prunedDirs,
      walkedDirs: listing.walkedDirs,
      ...(Object.keys(listing.links).length > 0 ? { contextLinks: listing.links } : {}),
      ...(ignoreFile ? { ignoreFile } : {}),
      ignorePatterns,
    };
    listings.set(contextKey, facts);
    return withText(facts);
  };
}

/** The first ignore-file line whose pattern cannot be compiled (BuildKit fails the build on it). */
function invalidIgnorePattern(lines: readonly string[]): { line: number; pattern: string; reason: string } | undefined {
  // Each rule compiles on its own, so when the whole file compiles every line does: look line by line only then.
  try {
    createIgnoreMatcher(lines).ignores('x');
    return undefined;
  } catch {
    // fall through to find the line
  }
  for (let i = 0; i < lines.length; i++) {
    try {
      createIgnoreMatcher([lines[i]]).ignores('x');
    } catch (e) {
      const reason = String((e as Error).message).replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
      return { line: i + 1, pattern: lines[i].trim(), reason: `syntax error in pattern: ${reason}` };
    }
  }
  return undefined;
}

/**
 * Services that build from a context, Dockerfile or additional context outside the workspace
 * (symlinks resolved). Compose allows it, but Nx can only hash workspace files: such targets are
 * never cached, and the user is told.
 */
function outsideWorkspace(specs: ServiceBuildSpec[], isInside: (path: string) => boolean): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const spec of specs) {
    const local = [spec.context, ...Object.values(spec.additionalContexts)].filter((c) => contextKind(c) === 'local');
    const paths = [...local, ...(spec.dockerfile && contextKind(spec.context) === 'local' ? [spec.dockerfile] : [])];
    const away = paths.filter((p) => !isInside(p));
    if (away.length) out.set(spec.project, [...new Set(away)]);
  }
  return out;
}

/** The message of every error project (cycles included), for the graph-time warnings. */
function errorMessages(results: CreateNodesResultArray): string[] {
  const messages: string[] = [];
  for (const [, result] of results) {
    for (const project of Object.values(result.projects ?? {})) {
      const target = Object.values(project.targets ?? {})[0];
      if (target?.executor === 'nx-compose-buildx:config-error') messages.push(String(target.options?.message));
    }
  }
  return messages;
}

/** Every target of these projects runs every time: Nx cannot see their inputs change. */
function markNotCacheable(results: CreateNodesResultArray, projects: Map<string, unknown>): void {
  if (!projects.size) return;
  for (const [, result] of results) {
    for (const project of Object.values(result.projects ?? {})) {
      if (!project.name || !projects.has(project.name)) continue;
      for (const target of Object.values(project.targets ?? {})) target.cache = false;
    }
  }
}

/** Context-relative paths that must stay inputs even if the ignore rules drop them. */
function keptInContext(spec: ServiceBuildSpec, ignoreFile: string | undefined): string[] {
  const prefix = spec.context === '.' ? '' : `${spec.context}/`;
  const config = spec.platformConfig ? [spec.platformConfig.base, ...Object.values(spec.platformConfig.overlays)] : [];
  return [spec.dockerfile, ignoreFile, SERVICE_LOCK_FILE, ...spec.composeFiles, ...config]
    .filter((p): p is string => !!p && p.startsWith(prefix))
    .map((p) => p.slice(prefix.length));
}
