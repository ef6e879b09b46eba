import type { CreateNodesResultArray, ProjectConfiguration } from '@nx/devkit';
import { posix } from 'node:path';
import type { InputDefinition } from './targets';
import { ComposeError } from '../compose/types';
import type { ServiceBuildSpec } from '../build-spec/types';
import { canBeNxProjectName } from '../build-spec/from-compose';
import { contextKind, serviceContextName } from '../build-spec/paths';
import {
  detectCycles,
  dockerfileImageRefs,
  dockerfileReads,
  followLinks,
  ignoredPaths,
  imageEdges,
  readInputs,
  serviceIndex,
  type DockerfileReads,
  type IgnoredPath,
  withBaseTriggers,
} from '../graph';
import { errorProject } from './error-project';
import type { NormalizedPluginOptions } from './plugin-options';
import { chooseProjectRoots } from './project-roots';
import { SERVICE_LOCK_FILE, isServiceLockCurrent, platformLockName, serviceLockKey, type ServiceLock } from './service-lock';
import { isPerPlatform, projectConfiguration, type ServiceNode } from './targets';
import type { ComposeRunOption } from './executors/docker-explain/load-side';

/** A compose project as the edge found it: loaded, or failed with an error. */
export interface ComposeSetOutcome {
  /** Workspace-relative file that Nx matched; the results are reported under it. */
  configFile: string;
  composeDir: string;
  composeProjectName: string;
  /** Workspace-relative files whose edits can change the services (compose files, included files, .env). */
  watchedFiles: string[];
  /** The compose run (workspace-relative), for docker-explain to load it again at another commit. */
  compose?: ComposeRunOption;
  error?: ComposeError;
}

/** What the edge read for one service: its context listing, ignore rules and Dockerfile. */
export interface ServiceFacts {
  /** Services with the same key share one context listing and ignore file. */
  contextKey?: string;
  /** Context-relative files of a local context, sorted. */
  contextFiles: string[];
  /** Context-relative folders dropped wholesale by the ignore rules (not walked). */
  prunedDirs?: string[];
  /** Context-relative folders walked, for the graph cache. */
  walkedDirs?: string[];
  /** The context's symlinks (context-relative → readlink target), when it has any. */
  contextLinks?: Record<string, string>;
  /**
   * Each local named context (by its name in additional_contexts) as listed: its links
   * (context-relative → readlink target), the folders walked (for the graph cache) and, when it
   * has a `.dockerignore` (buildx applies it to the folder), the files, the folders the rules
   * pruned and the rules, to negate what the rules drop.
   */
  namedContexts?: Record<string, NamedContextListing>;
  /** Workspace-relative ignore file in effect, if any. */
  ignoreFile?: string;
  ignorePatterns: string[];
  /** Dockerfile text, when the Dockerfile is a local file. */
  dockerfileText?: string;
}

export interface NamedContextListing {
  links: Record<string, string>;
  walkedDirs: string[];
  ignore?: { files: string[]; prunedDirs: string[]; patterns: string[] };
}

export interface ServiceError {
  /** The compose project the broken service belongs to. */
  set: ComposeSetOutcome;
  service: string;
  error: ComposeError;
}

/** One buildable service, carried whole through naming and assembly. */
export interface ServiceRecord {
  set: ComposeSetOutcome;
  /** With its final project name. */
  spec: ServiceBuildSpec;
  /** The environment-free compose definition (what the service lock hashes). */
  definition: Record<string, unknown> | undefined;
}

export interface AssembleInput {
  options: NormalizedPluginOptions;
  sets: ComposeSetOutcome[];
  services: ServiceRecord[];
  /** Errors of single services (bad platform, missing Dockerfile, name clash...). */
  serviceErrors: ServiceError[];
  facts: Map<string, ServiceFacts>;
  lock: ServiceLock | undefined;
  /** Per project: hash of its compose definition, compared with the lock. */
  definitionHashes: Map<string, string>;
  isProjectFolder(workspacePath: string): boolean;
}

export interface AssembleOutput {
  results: CreateNodesResultArray;
  /** Services whose lock entry is missing or stale (they watch their compose files whole). */
  staleLock: string[];
  errors: ComposeError[];
}

const wsGlob = (path: string) => `{workspaceRoot}/${path}`;

/** Pure: compose outcomes + specs + facts → Nx projects, one result per matched compose file. */
export function assembleNodes(input: AssembleInput): AssembleOutput {
  const { options } = input;
  const specs = input.services.map((s) => s.spec);
  const errors: ComposeError[] = input.serviceErrors.map((e) => e.error);

  const edges = imageEdges(
    specs.map((spec) => ({
      project: spec.project,
      service: spec.service,
      composeProject: spec.composeProject,
      tags: spec.tags,
      imageRefs: dockerfileImageRefs(
        input.facts.get(spec.project)?.dockerfileText,
        spec.args,
        spec.target,
        Object.keys(spec.additionalContexts),
      ),
      contexts: spec.additionalContexts,
      context: spec.context,
    })),
  );
  const services = serviceIndex(specs);

  // A cycle makes every service in it an error project; the rest of the graph stands.
  const inCycle = new Map<string, string[]>();
  for (let cycle = detectCycles(edges); cycle; cycle = detectCycles(withoutProjects(edges, inCycle))) {
    for (const project of cycle) inCycle.set(project, cycle);
  }

  const roots = chooseProjectRoots(specs, input.isProjectFolder);
  const staleLock: string[] = [];
  const projectsByFile = new Map<string, Record<string, ProjectConfiguration>>();
  const add = (configFile: string, project: ProjectConfiguration) => {
    const projects = projectsByFile.get(configFile) ?? {};
    projects[project.root] = project;
    projectsByFile.set(configFile, projects);
  };

  // Lock state first: a service whose lock is stale watches its compose files whole, so they must not be negated.
  const lockState = new Map<string, { current: boolean; platforms: Map<string, boolean> }>();
  for (const spec of specs) {
    const current = isServiceLockCurrent(input.lock, spec.project, input.definitionHashes.get(spec.project) ?? '');
    const platforms = new Map<string, boolean>();
    if (isPerPlatform(spec)) {
      for (const platform of spec.platforms) {
        const lockName = platformLockName(spec.project, platform);
        platforms.set(platform, isServiceLockCurrent(input.lock, lockName, input.definitionHashes.get(lockName) ?? ''));
      }
    }
    lockState.set(spec.project, { current, platforms });
  }
  const watchedBy = new Map(input.services.map(({ set, spec }) => [spec.project, set.watchedFiles]));
  const ownReads = new Map(specs.map((spec) => [spec.project, serviceReads(spec, input.facts.get(spec.project))]));
  const specOf = new Map(specs.map((spec) => [spec.project, spec]));
  const staleComposeFiles = (spec: ServiceBuildSpec): readonly string[] => {
    const state = lockState.get(spec.project);
    const stale = !state?.current || [...(state?.platforms.values() ?? [])].some((c) => !c);
    return stale ? (watchedBy.get(spec.project) ?? spec.composeFiles) : [];
  };
  const ignoredOf = ignoredPathsByContext(specs, input.facts, staleComposeFiles);

  for (const { set, spec } of input.services) {
    const { configFile } = set;
    const cycle = inCycle.get(spec.project);
    if (cycle) {
      const message = new ComposeError(`image dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`, {
        ...(spec.definedAt ?? { file: spec.composeFiles[0] ?? spec.composeDir }),
        service: spec.service,
      }).message;
      add(configFile, errorProject(spec.project, spec.composeDir, message, set.watchedFiles, options));
      continue;
    }
    const lockCurrent = lockState.get(spec.project)?.current ?? false;
    if (!lockCurrent) staleLock.push(spec.project);
    const composeFiles = set.watchedFiles;
    const facts = input.facts.get(spec.project);
    const reads = withBaseTriggers(ownReads.get(spec.project)!, Object.keys(spec.additionalContexts), edges[spec.project] ?? [], (dep) => {
      const trigger = ownReads.get(dep)?.onbuild;
      return trigger && { ...trigger, file: specOf.get(dep)?.dockerfile ?? `${dep} (inline Dockerfile)` };
    });
    if (reads.problem && spec.dockerfile) {
      errors.push(
        new ComposeError(`${reads.problem.message}; the inputs of this service fall back to its whole context`, {
          file: spec.dockerfile,
          line: reads.problem.line,
          service: spec.service,
        }),
      );
    }
    const node: ServiceNode = {
      spec,
      root: roots.get(spec.project)!,
      dependencies: edges[spec.project] ?? [],
      imageInputs: imageInputs(spec, facts, composeFiles, lockCurrent, reads, ignoredOf(spec), staleComposeFiles(spec)),
      serviceImages: serviceImages(spec, services),
      definitionHash: input.definitionHashes.get(spec.project),
      ...(set.compose ? { compose: set.compose } : {}),
    };
    if (isPerPlatform(spec)) {
      node.platforms = {};
      for (const platform of spec.platforms) {
        const lockName = platformLockName(spec.project, platform);
        const hash = input.definitionHashes.get(lockName);
        const current = lockState.get(spec.project)?.platforms.get(platform) ?? false;
        if (!current) staleLock.push(lockName);
        node.platforms[platform] = {
          inputs: platformInputs(spec, platform, composeFiles, current),
          lockName,
          ...(hash ? { definitionHash: hash } : {}),
        };
      }
    }
    add(configFile, projectConfiguration(node, options));
  }

  for (const set of input.sets) {
    if (!set.error) continue;
    errors.push(set.error);
    const name = `${set.composeProjectName}-compose-error`;
    add(set.configFile, errorProject(name, set.composeDir, set.error.message, set.watchedFiles, options));
  }
  // Broken services keep their own name when it is free; otherwise the compose folder tells them apart.
  const taken = new Set(specs.map((s) => s.project));
  const claims = new Map<string, number>();
  for (const { service } of input.serviceErrors) claims.set(service, (claims.get(service) ?? 0) + 1);
  for (const { set, service, error } of input.serviceErrors) {
    const folder = set.composeDir.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'root';
    const safe = service.replace(/[^A-Za-z0-9._-]+/g, '-');
    let name = taken.has(service) || claims.get(service)! > 1 || !canBeNxProjectName(service) ? `${folder}-${safe}` : service;
    for (let n = 2; taken.has(name); n++) name = `${folder}-${service}-${n}`;
    taken.add(name);
    add(set.configFile, errorProject(name, set.composeDir, error.message, set.watchedFiles, options));
  }

  const results: CreateNodesResultArray = input.sets.map(
    (set) => [set.configFile, { projects: projectsByFile.get(set.configFile) ?? {} }] as const,
  );
  return { results, staleLock, errors };
}

function withoutProjects(edges: Record<string, string[]>, drop: Map<string, unknown>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [project, deps] of Object.entries(edges)) {
    if (!drop.has(project)) out[project] = deps.filter((d) => !drop.has(d));
  }
  return out;
}

/**
 * What the service's Dockerfile can read, from the Dockerfile text (inline or the file).
 * Without text (a missing file) every local context counts as read whole.
 */
export function serviceReads(spec: ServiceBuildSpec, facts: ServiceFacts | undefined): DockerfileReads {
  const named = Object.keys(spec.additionalContexts);
  const text = spec.dockerfileInline ?? facts?.dockerfileText;
  if (text === undefined) {
    const whole = { whole: true as const, reasons: ['the Dockerfile could not be read'] };
    return { context: whole, namedContexts: Object.fromEntries(named.map((n) => [n, whole])) };
  }
  const reads = dockerfileReads(text, {
    args: spec.args,
    ...(spec.platformArgs ? { platformArgs: spec.platformArgs } : {}),
    ...(spec.target !== undefined ? { target: spec.target } : {}),
    platforms: spec.platforms,
    namedContexts: named,
  });
  const namedLinks = facts?.namedContexts ?? {};
  return {
    ...reads,
    ...(facts?.contextLinks ? { context: followLinks(reads.context, facts.contextLinks) } : {}),
    namedContexts: Object.fromEntries(
      Object.entries(reads.namedContexts).map(([name, read]) => [
        name,
        namedLinks[name] ? followLinks(read, namedLinks[name].links) : read,
      ]),
    ),
  };
}

/** Workspace files that stay inputs even where an ignore rule drops them. */
function alwaysInputFiles(spec: ServiceBuildSpec, facts: ServiceFacts | undefined, staleComposeFiles: readonly string[]): string[] {
  const config = spec.platformConfig ? [spec.platformConfig.base, ...Object.values(spec.platformConfig.overlays)] : [];
  return [spec.dockerfile, facts?.ignoreFile, ...config, ...staleComposeFiles].filter((p): p is string => !!p);
}

/** Context-relative form of workspace-relative paths that lie inside `context`. */
function insideContext(context: string, paths: readonly (string | undefined)[]): string[] {
  const prefix = context === '.' || context === '' ? '' : `${context}/`;
  return paths.filter((p): p is string => !!p && p.startsWith(prefix)).map((p) => p.slice(prefix.length));
}

/**
 * The ignored paths of each service's context, computed once per shared context (the
 * root-context layout has one for every service). Files some service must keep as an
 * input (its Dockerfile, ignore file, platform config, and its compose files while its
 * lock is stale) are never reported, since a negation would beat that input.
 */
function ignoredPathsByContext(
  specs: readonly ServiceBuildSpec[],
  facts: Map<string, ServiceFacts>,
  staleComposeFiles: (spec: ServiceBuildSpec) => readonly string[],
): (spec: ServiceBuildSpec) => IgnoredPath[] {
  const keep = new Map<string, Set<string>>();
  const keyOf = (spec: ServiceBuildSpec) => facts.get(spec.project)?.contextKey ?? `\0${spec.project}`;
  for (const spec of specs) {
    const f = facts.get(spec.project);
    if (!f || contextKind(spec.context) !== 'local') continue;
    const own = insideContext(spec.context, alwaysInputFiles(spec, f, staleComposeFiles(spec)));
    const set = keep.get(keyOf(spec)) ?? new Set<string>();
    for (const p of own) set.add(p);
    keep.set(keyOf(spec), set);
  }
  const memo = new Map<string, IgnoredPath[]>();
  return (spec) => {
    const f = facts.get(spec.project);
    if (!f) return [];
    const key = keyOf(spec);
    let ignored = memo.get(key);
    if (!ignored) {
      ignored = ignoredPaths({
        files: f.contextFiles,
        ignorePatterns: f.ignorePatterns,
        keep: [...(keep.get(key) ?? [])],
        prunedDirs: f.prunedDirs ?? [],
      });
      memo.set(key, ignored);
    }
    return ignored;
  };
}

/**
 * Everything that can change this service's own image. Dependencies' inputs arrive
 * through `^docker-image`, each with its own negations.
 *
 * - The Dockerfile and the ignore file in effect, always.
 * - What the Dockerfile can read from the context (dockerfile-reads: the COPY/ADD and
 *   bind-mount sources of the stages the build needs, or the whole context when in
 *   doubt), less what the ignore rules drop (negations of the ignored paths).
 * - What it reads from each local named context, less what that folder's .dockerignore drops, and that file.
 * - Its own lock entry (while stale, its compose files whole) and the variables it uses.
 *
 * So compose files, `.env` and the lock reach a service through the context only when an
 * instruction really reads them and the ignore rules keep them.
 */
export function imageInputs(
  spec: ServiceBuildSpec,
  facts: ServiceFacts | undefined,
  composeFiles: string[],
  lockCurrent: boolean,
  reads: DockerfileReads = serviceReads(spec, facts),
  ignored: readonly IgnoredPath[] = [],
  staleComposeFiles: readonly string[] = lockCurrent ? [] : composeFiles,
): InputDefinition[] {
  const local = contextKind(spec.context) === 'local';
  const buildFiles: string[] = [];
  if (spec.dockerfile && local) buildFiles.push(spec.dockerfile);
  if (facts?.ignoreFile) buildFiles.push(facts.ignoreFile);
  const inputs: InputDefinition[] = buildFiles.map(wsGlob);
  const readNamed = Object.entries(spec.additionalContexts).filter(
    ([name, dir]) => reads.namedContexts[name] !== undefined && contextKind(dir) === 'local',
  );
  // Nx applies a negation to all of an input's globs: a path one context drops must not hide what another reads.
  const readDirs = [...(local ? [spec.context] : []), ...readNamed.map(([, dir]) => dir)];
  const notInOther = (dir: string, list: readonly IgnoredPath[]) => {
    const others = readDirs.filter((d) => d !== dir);
    return others.length ? list.filter((i) => !others.some((o) => pathsOverlap(joinContext(dir, i.path), o))) : list;
  };
  if (local) {
    const own = new Set(inputs);
    inputs.push(...readInputs(spec.context, reads.context, notInOther(spec.context, ignored)).filter((glob) => !own.has(glob)));
  }
  const alwaysInputs = alwaysInputFiles(spec, facts, staleComposeFiles);
  for (const [name, dir] of readNamed) {
    // Its .dockerignore decides what is sent (present or not: creating one changes the build).
    inputs.push(wsGlob(posix.join(dir, '.dockerignore')));
    const dropped = namedIgnored(facts?.namedContexts?.[name], insideContext(dir, alwaysInputs));
    inputs.push(...readInputs(dir, reads.namedContexts[name]!, notInOther(dir, dropped)));
  }
  inputs.push(...lockInputs(spec.project, composeFiles, lockCurrent));
  const secretEnv = new Set(spec.secrets.flatMap((s) => (s.env ? [s.env] : [])));
  for (const variable of spec.variables) if (!secretEnv.has(variable)) inputs.push({ env: variable });
  return inputs;
}

const namedIgnoredMemo = new WeakMap<NamedContextListing, Map<string, IgnoredPath[]>>();
/** What a named context's own .dockerignore drops, but `keep` (one computation per listed folder and keep). */
function namedIgnored(listing: NamedContextListing | undefined, keep: readonly string[]): IgnoredPath[] {
  if (!listing?.ignore) return [];
  const byKeep = namedIgnoredMemo.get(listing) ?? new Map<string, IgnoredPath[]>();
  namedIgnoredMemo.set(listing, byKeep);
  const key = keep.join('\0');
  let ignored = byKeep.get(key);
  if (!ignored) {
    const { files, prunedDirs, patterns } = listing.ignore;
    ignored = ignoredPaths({ files, ignorePatterns: patterns, keep: ['.dockerignore', ...keep], prunedDirs });
    byKeep.set(key, ignored);
  }
  return ignored;
}

const joinContext = (dir: string, rel: string) => (dir === '.' || dir === '' ? rel : `${dir}/${rel}`);
/** Whether one workspace path lies at, below or above the other. */
function pathsOverlap(a: string, b: string): boolean {
  if (a === '.' || a === '' || b === '.' || b === '') return true;
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** A lock entry as an input; while it is stale, the compose files whole. */
function lockInputs(lockName: string, composeFiles: string[], lockCurrent: boolean): InputDefinition[] {
  if (lockCurrent) return [{ json: wsGlob(SERVICE_LOCK_FILE), fields: [`services.${serviceLockKey(lockName)}`] }];
  return composeFiles.map(wsGlob);
}

/**
 * What only one platform's task of a per-platform service adds to the shared `docker-image`
 * inputs: its own lock entry (its args and overlay) and its config files, so an edit to one
 * platform's part selects that platform's tasks alone.
 */
export function platformInputs(spec: ServiceBuildSpec, platform: string, composeFiles: string[], lockCurrent: boolean): InputDefinition[] {
  const inputs = lockInputs(platformLockName(spec.project, platform), composeFiles, lockCurrent);
  const config = spec.platformConfig;
  if (config) {
    inputs.push(wsGlob(config.base));
    if (config.overlays[platform]) inputs.push(wsGlob(config.overlays[platform]));
  }
  return inputs;
}

/** `service:x` contexts name another compose service; buildx needs that service's image instead. */
function serviceImages(spec: ServiceBuildSpec, services: ReturnType<typeof serviceIndex<ServiceBuildSpec>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of [spec.context, ...Object.values(spec.additionalContexts)]) {
    const name = serviceContextName(value);
    const named = name === undefined ? [] : services.resolve(spec, name);
    // Several services of that name in other compose projects: no image is the right one.
    if (name !== undefined && named.length === 1 && named[0].tags[0]) out[name] = named[0].tags[0];
  }
  return out;
}
