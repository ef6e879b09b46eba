/**
 * The compose loader's order of operations (compose-go `loader`): per file parse → interpolate → extends →
 * include (separate sub-projects) → merge into the previous files; then tags are applied, relative paths
 * resolved against the project folder, and every service normalised into a `ComposeProject`.
 * Pure apart from the injected `readFile` / `exists`.
 */
import * as path from 'node:path';
import { parseDotenv } from './dotenv';
import { lookupIn } from './environment';
import { applyExtends, type ExtendsFile } from './extends';
import { importIncluded, parseIncludeEntries, type IncludeEntry } from './include';
import { interpolateModel } from './interpolate-model';
import { enforceUnicity, mergeModels, MergeError, omitEmpty, stripTags } from './merge';
import { validateComposeModel } from './schema/validate';
import { canonical } from './transform/canonical';
import { normalizeService } from './normalize';
import { DOCKER_DEFAULT_PLATFORM } from './project-options';
import { resolveModelPaths } from './paths';
import { resolveProjectName } from './project-name';
import { combineMeta, emptyMeta, type ServiceMeta } from './service-meta';
import {
  ComposeError,
  type ComposeFileSet,
  type ComposeProject,
  type ComposeSecretDefinition,
  type ComposeService,
  type InterpolationEnvironment,
  type SourceLocation,
} from './types';
import type { VariableLookup } from './interpolate';
import { isPlainObject, lineOf, parseYamlSource, setKey, Tagged } from './yaml-source';

/** Returns the file's text, or undefined when it does not exist. */
export type ReadFile = (absPath: string) => string | undefined;
export type FileExists = (absPath: string) => boolean;

export interface LoadOptions {
  /** Whether a file exists (used for an included project's implicit `.env`). Defaults to `readFile(p) !== undefined`. */
  exists?: FileExists;
  /** Home folder for `~` in paths. Defaults to `env.process.HOME`. */
  homeDir?: string;
  /**
   * Treat `${X:?msg}` / `${X?msg}` on a missing variable as empty instead of an error (e.g. to hash what the
   * committed files alone define, without the process environment). Default false, as Compose.
   */
  lenientRequired?: boolean;
}

interface Scope {
  projectDir: string;
  env: InterpolationEnvironment;
  lookup: VariableLookup;
  readFile: ReadFile;
  exists: FileExists;
  homeDir?: string;
  lenientRequired: boolean;
  filesRead: Set<string>;
  /** Files loaded through `include:`, shared by every sub-scope. */
  included: Set<string>;
  includeChain: string[];
  cache: Map<string, ExtendsFile>;
}

interface LoadedModel {
  model: Record<string, unknown>;
  meta: Map<string, ServiceMeta>;
  /** Services the compose-spec schema rejects (first problem each): they become errors of their own. */
  invalid: Map<string, ComposeError>;
}

function loadFile(scope: Scope, file: string, from?: SourceLocation & { service?: string }): ExtendsFile {
  const cached = scope.cache.get(file);
  if (cached) return cached;
  const text = scope.readFile(file);
  if (text === undefined) {
    throw new ComposeError(`compose file not found: ${file}`, from ?? { file });
  }
  scope.filesRead.add(file);
  const source = parseYamlSource(text, file);
  const loaded = { source, model: interpolateModel(source, scope.lookup, { lenientRequired: scope.lenientRequired }) };
  scope.cache.set(file, loaded);
  return loaded;
}

function loadIncluded(scope: Scope, entry: IncludeEntry, from: SourceLocation): LoadedModel {
  for (const f of entry.files) {
    if (scope.includeChain.includes(f)) {
      throw new ComposeError(`include cycle: ${[...scope.includeChain, f].join(' -> ')}`, from);
    }
  }
  for (const f of entry.files) scope.included.add(f);
  const implicit = path.posix.join(entry.projectDir, '.env');
  const envFiles = entry.envFiles.length > 0 ? entry.envFiles : scope.exists(implicit) ? [implicit] : [];
  // The including project's environment wins over the included project's env files (checked against Compose 2.26).
  const dotenv: Record<string, string> = {};
  for (const f of envFiles) {
    const text = scope.readFile(f);
    if (text === undefined) throw new ComposeError(`env file not found: ${f}`, from);
    scope.filesRead.add(f);
    Object.assign(dotenv, parseDotenv(text, f, scope.lookup, { lenientRequired: scope.lenientRequired }).values);
  }
  Object.assign(dotenv, scope.env.dotenv);
  const env: InterpolationEnvironment = { process: scope.env.process, dotenv };
  const sub: Scope = {
    ...scope,
    projectDir: entry.projectDir,
    env,
    lookup: lookupIn(env),
    includeChain: [...scope.includeChain, ...entry.files],
    cache: new Map(),
  };
  return loadModel(sub, entry.files, from);
}

function loadModel(scope: Scope, files: string[], from?: SourceLocation): LoadedModel {
  let acc: Record<string, unknown> = {};
  const meta = new Map<string, ServiceMeta>();
  const invalid = new Map<string, ComposeError>();
  for (const file of files) {
    const loaded = loadFile(scope, file, from);
    const root: Record<string, unknown> = { ...loaded.model.root };
    const ext = applyExtends(loaded, {
      workingDir: scope.projectDir,
      homeDir: scope.homeDir,
      loadFile: (abs, where) => loadFile(scope, abs, where),
    });
    const ownServices = root.services instanceof Tagged ? root.services.value : root.services;
    if (root.services !== undefined && root.services !== null) {
      if (!isPlainObject(ownServices))
        throw new ComposeError('services must be a mapping', { file, line: lineOf(loaded.source, ['services']) });
      root.services = ext.services;
    }
    const fileMeta = new Map<string, ServiceMeta>();
    for (const [name, m] of ext.meta) {
      fileMeta.set(name, m);
    }
    if (root.include !== undefined) {
      const entries = parseIncludeEntries(root.include, loaded.source, scope.projectDir);
      delete root.include;
      for (const entry of entries) {
        const where = { file, line: entry.line };
        const sub = loadIncluded(scope, entry, where);
        importIncluded(root, sub.model, { ...where, lineFor: (section, name) => lineOf(loaded.source, [section, name]) });
        for (const [name, m] of sub.meta) fileMeta.set(name, combineMeta(fileMeta.get(name), m));
        for (const [name, error] of sub.invalid) if (!invalid.has(name)) invalid.set(name, error);
      }
    }
    try {
      // compose-go: merge the file as written into the canonical model, validate, then make it canonical again.
      const merged = mergeModels(acc, root);
      for (const [service, problem] of validateComposeModel(stripTags(merged))) {
        const error = new ComposeError(problem.message, {
          file,
          line: lineOf(loaded.source, problem.path),
          ...(service ? { service } : {}),
        });
        if (!service) throw error;
        if (!invalid.has(service)) invalid.set(service, error);
      }
      acc = enforceUnicity(omitEmpty(canonical(merged)), []) as Record<string, unknown>;
    } catch (e) {
      if (!(e instanceof MergeError)) throw e;
      const service = e.path[0] === 'services' ? String(e.path[1]) : undefined;
      throw new ComposeError(e.message, { file, line: lineOf(loaded.source, e.path), service });
    }
    for (const [name, m] of fileMeta) meta.set(name, combineMeta(meta.get(name), m));
  }
  acc = stripTags(acc) as Record<string, unknown>;
  return { model: resolveModelPaths(acc, scope.projectDir, scope.homeDir), meta, invalid };
}

/**
 * Load a compose project: the files of `fileSet`, interpolated with `env` (process wins over `.env`).
 * `readFile` returns a file's text or undefined when missing; no other I/O happens.
 */
export function loadComposeProject(
  fileSet: ComposeFileSet,
  env: InterpolationEnvironment,
  readFile: ReadFile,
  options: LoadOptions = {},
): ComposeProject {
  if (fileSet.files.length === 0) throw new ComposeError('no compose file to load', { file: fileSet.projectDir });
  const lookup = lookupIn(env);
  const scope: Scope = {
    projectDir: fileSet.projectDir,
    env,
    lookup,
    readFile,
    exists: options.exists ?? ((p) => readFile(p) !== undefined),
    homeDir: options.homeDir ?? env.process.HOME,
    lenientRequired: options.lenientRequired === true,
    filesRead: new Set(),
    included: new Set(),
    includeChain: [...fileSet.files],
    cache: new Map(),
  };
  const { model, meta, invalid } = loadModel(scope, fileSet.files);
  const name = resolveProjectName({ explicit: fileSet.projectName, fromFiles: model.name, projectDir: fileSet.projectDir });
  if (!name) throw new ComposeError('cannot derive a valid project name (set `name:` or a project name)', { file: fileSet.files[0] });

  const services: Record<string, ComposeService> = {};
  const rawServices = isPlainObject(model.services) ? model.services : {};
  for (const [serviceName, raw] of Object.entries(rawServices)) {
    const m = meta.get(serviceName) ?? emptyMeta();
    const where = m.sources[m.sources.length - 1] ?? { file: fileSet.files[0] };
    // One service of the wrong shape (schema, name, types) is that service's error; the others still load.
    const broken = (error: ComposeError) =>
      setKey(services, serviceName, {
        name: serviceName,
        definition: {},
        variables: [...m.variables],
        sources: m.sources,
        locations: m.locations,
        error,
      });
    const schemaError = invalid.get(serviceName);
    if (schemaError) {
      broken(schemaError);
      continue;
    }
    const def = raw === null ? {} : raw;
    let n: ReturnType<typeof normalizeService>;
    try {
      if (!isPlainObject(def)) throw new ComposeError('service definition must be a mapping', { ...where, service: serviceName });
      n = normalizeService(serviceName, def, fileSet.projectDir, lookup, where, m.locations);
    } catch (e) {
      if (!(e instanceof ComposeError)) throw e;
      broken(e);
      continue;
    }
    if (n.build && n.platform === undefined) {
      const defaultPlatform = lookup(DOCKER_DEFAULT_PLATFORM);
      if (defaultPlatform) {
        n.platform = defaultPlatform;
        n.envLookups.push(DOCKER_DEFAULT_PLATFORM);
      }
    }
    const service: ComposeService = {
      name: serviceName,
      definition: n.definition,
      variables: [...new Set([...m.variables, ...n.envLookups])].sort(),
      sources: m.sources,
      locations: m.locations,
    };
    if (n.build) service.build = n.build;
    if (n.image !== undefined) service.image = n.image;
    if (n.profiles) service.profiles = n.profiles;
    if (n.platform !== undefined) service.platform = n.platform;
    setKey(services, serviceName, service); // `__proto__` is a name like any other, to be rejected later by name
  }

  const secrets: Record<string, ComposeSecretDefinition> = {};
  if (isPlainObject(model.secrets)) {
    for (const [id, def] of Object.entries(model.secrets)) {
      if (!isPlainObject(def)) continue;
      const s: ComposeSecretDefinition = {};
      if (typeof def.file === 'string') s.file = def.file;
      if (typeof def.environment === 'string') s.environment = def.environment;
      if (typeof def.external === 'boolean') s.external = def.external;
      s.name = typeof def.name === 'string' ? def.name : `${name}_${id}`;
      secrets[id] = s;
    }
  }
  const files = [...scope.filesRead];
  for (const f of env.dotenvFiles ?? []) if (!files.includes(f)) files.push(f);
  return { name, projectDir: fileSet.projectDir, files, services, secrets, includedFiles: [...scope.included] };
}
