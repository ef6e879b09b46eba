/**
 * The edge of docker-explain: one side of the comparison (the working tree, or a commit) loaded
 * with the same pure code the graph uses: the compose loader, the build-spec stage and the
 * Dockerfile reads. A commit's files come from git (run/git-tree.ts); the loader is synchronous,
 * so it runs again with the texts it asked for until it asks for nothing new.
 */
import { statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { DISK_FILES, loadComposeCliProject, type ComposeCliOptions, type ProjectFiles } from '../../../compose';
import { ComposeError, type ComposeProject, type SourceLocation } from '../../../compose/types';
import { buildSpecsFromProject } from '../../../build-spec/from-compose';
import { contextKind, isInsideWorkspace, toWorkspacePath } from '../../../build-spec/paths';
import type { ServiceBuildSpec } from '../../../build-spec/types';
import { listContext, selectIgnoreFile } from '../../../graph';
import { listGitTree, readGitFiles, type GitTree } from '../../../run/git-tree';
import type { RunFn } from '../../../run/exec';
import { serviceReads, type ServiceFacts } from '../../assemble';
import type { ExplainSide } from './reasons';

/** The compose run a service comes from, workspace-relative (the docker-explain target's `compose` option). */
export interface ComposeRunOption {
  workingDir: string;
  files?: string[];
  projectName?: string;
  envFiles?: string[];
}

/** Where one side's files come from. */
export interface SideSource {
  /** Synchronous access for the loaders. */
  files: ProjectFiles;
  isDirectory(absPath: string): boolean;
  /** The symlinks of a local context (context-relative → target), which the Dockerfile reads follow. */
  contextLinks(absContext: string): Record<string, string>;
  /** Reads what the last pass missed; false when there was nothing left to read. */
  fetchMissing(): Promise<boolean>;
}

export function diskSource(): SideSource {
  return {
    files: DISK_FILES,
    isDirectory: (abs) => statSync(abs, { throwIfNoEntry: false })?.isDirectory() ?? false,
    contextLinks: (abs) => (statSync(abs, { throwIfNoEntry: false })?.isDirectory() ? listContext(abs).links : {}),
    fetchMissing: async () => false,
  };
}

/** A commit's tree: names from one listing, texts fetched on demand. */
export async function commitSource(root: string, commit: string, run: RunFn): Promise<SideSource> {
  const tree: GitTree = await listGitTree(commit, root, run);
  const texts = new Map<string, string>();
  const missing = new Set<string>();
  const rel = (abs: string): string | undefined => {
    const p = toWorkspacePath(root, abs);
    return isInsideWorkspace(p) ? (p === '.' ? '' : p) : undefined;
  };
  const files: ProjectFiles = {
    readFile: (abs) => {
      const p = rel(abs);
      if (p === undefined || !tree.files.has(p)) return undefined;
      const text = texts.get(p);
      if (text === undefined) missing.add(p);
      return text ?? '';
    },
    isFile: (abs) => {
      const p = rel(abs);
      return p !== undefined && tree.files.has(p);
    },
    listDir: (abs) => {
      const p = rel(abs);
      return p === undefined ? undefined : (tree.children.get(p) ?? (tree.dirs.has(p) ? [] : undefined));
    },
  };
  return {
    files,
    isDirectory: (abs) => {
      const p = rel(abs);
      return p !== undefined && tree.dirs.has(p);
    },
    contextLinks: (abs) => {
      const p = rel(abs);
      if (p === undefined) return {};
      const prefix = p === '' ? '' : `${p}/`;
      const links: Record<string, string> = {};
      for (const link of tree.links) {
        if (!link.startsWith(prefix)) continue;
        const target = texts.get(link);
        if (target === undefined) missing.add(link);
        else links[link.slice(prefix.length)] = target;
      }
      return links;
    },
    fetchMissing: async () => {
      if (!missing.size) return false;
      const read = await readGitFiles(tree, missing, root, run);
      for (const p of missing) texts.set(p, read.get(p) ?? '');
      missing.clear();
      return true;
    },
  };
}

export type LoadedSide = { side: ExplainSide } | { error: string } | { absent: true };

const MAX_PASSES = 20;

/**
 * The service as this side's files give it, with its Dockerfile reads and ignore rules.
 * `processEnv` is the environment the compose files are interpolated with.
 */
export async function loadSide(
  source: SideSource,
  root: string,
  compose: ComposeRunOption,
  service: string,
  processEnv: Record<string, string | undefined>,
): Promise<LoadedSide> {
  const abs = (p: string) => (isAbsolute(p) ? p : join(root, p));
  const cli: ComposeCliOptions = {
    workingDir: abs(compose.workingDir),
    ...(compose.files ? { files: compose.files.map(abs) } : {}),
    ...(compose.projectName ? { projectName: compose.projectName } : {}),
    ...(compose.envFiles ? { envFiles: compose.envFiles.map(abs) } : {}),
  };
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let outcome: LoadedSide;
    try {
      outcome = sideOf(loadComposeCliProject(cli, processEnv, { files: source.files }), source, root, service);
    } catch (e) {
      outcome = { error: e instanceof ComposeError ? e.relativeTo(root).message : String((e as Error)?.message ?? e) };
    }
    // A pass that read a file whose text was not fetched yet saw an empty file: fetch and load again.
    if (!(await source.fetchMissing())) return outcome;
  }
  return { error: 'the compose files include or extend each other too deeply to load' };
}

function sideOf(project: ComposeProject, source: SideSource, root: string, service: string): LoadedSide {
  const composeService = project.services[service];
  if (!composeService?.build) return { absent: true };
  if (composeService.error) return { error: composeService.error.relativeTo(root).message };
  const result = buildSpecsFromProject(project, {
    workspaceRoot: root,
    exists: (p) => source.files.isFile(p) || source.isDirectory(p),
    isDirectory: (p) => source.isDirectory(p),
  });
  const spec: ServiceBuildSpec | undefined = result.specs.find((s) => s.service === service);
  if (!spec) {
    const error = result.errors.find((e) => e.service === service);
    return error ? { error: error.relativeTo(root).message } : { absent: true };
  }
  const read = (p: string) => source.files.readFile(join(root, p));
  const dockerfileText = spec.dockerfileInline ?? (spec.dockerfile ? read(spec.dockerfile) : undefined);
  const ignoreFile = selectIgnoreFile(spec.dockerfile, spec.context, (p) => source.files.isFile(join(root, p)));
  const contextLinks = contextKind(spec.context) === 'local' ? source.contextLinks(join(root, spec.context)) : {};
  // The named contexts' links too, as the graph follows them (walkedDirs only serve the graph cache).
  const namedContexts: NonNullable<ServiceFacts['namedContexts']> = {};
  const namedIgnorePatterns: Record<string, string[]> = {};
  for (const [name, dir] of Object.entries(spec.additionalContexts)) {
    if (contextKind(dir) !== 'local') continue;
    const links = source.contextLinks(join(root, dir));
    if (Object.keys(links).length > 0) namedContexts[name] = { links, walkedDirs: [] };
    const ignore = posix.join(dir, '.dockerignore');
    if (source.files.isFile(join(root, ignore))) namedIgnorePatterns[name] = (read(ignore) ?? '').split(/\r?\n/);
  }
  const locations: Record<string, SourceLocation> = {};
  for (const [key, loc] of Object.entries(composeService.locations ?? {}))
    locations[key] = { ...loc, file: toWorkspacePath(root, loc.file) };
  return {
    side: {
      spec,
      locations,
      reads: serviceReads(spec, {
        contextFiles: [],
        ignorePatterns: [],
        ...(Object.keys(contextLinks).length > 0 ? { contextLinks } : {}),
        ...(Object.keys(namedContexts).length > 0 ? { namedContexts } : {}),
        ...(dockerfileText !== undefined ? { dockerfileText } : {}),
      }),
      ...(ignoreFile ? { ignoreFile } : {}),
      ignorePatterns: ignoreFile ? (read(ignoreFile) ?? '').split(/\r?\n/) : [],
      ...(Object.keys(namedIgnorePatterns).length > 0 ? { namedIgnorePatterns } : {}),
      ...(dockerfileText !== undefined ? { dockerfileText } : {}),
    },
  };
}
