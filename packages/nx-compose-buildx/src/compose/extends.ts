/**
 * `extends:` (compose-go `loader/extends.go`): a service inherits another service's definition, from the same
 * file or another file. Services loaded from another file have their relative paths rebased on that file's
 * folder first. Resolution is recursive; cycles are errors naming the chain.
 */
import * as path from 'node:path';
import { mergeModels, MergeError } from './merge';
import { resolveServicePaths } from './paths';
import { combineMeta, serviceLocations, type ServiceMeta } from './service-meta';
import { ComposeError } from './types';
import { isPlainObject, lineOf, setKey, Tagged, type YamlSource } from './yaml-source';
import type { InterpolatedModel } from './interpolate-model';

export interface ExtendsFile {
  source: YamlSource;
  model: InterpolatedModel;
}

export interface ExtendsContext {
  /** Folder that a relative `extends.file` of a top-level compose file resolves against (the project folder). */
  workingDir: string;
  homeDir?: string;
  /** Load (parse + interpolate) another compose file; throws ComposeError naming `from` when it is missing. */
  loadFile(absFile: string, from: { file: string; line?: number; service: string }): ExtendsFile;
}

interface Resolved {
  definition: unknown;
  meta: ServiceMeta;
}

interface FileServices {
  file: string;
  source: YamlSource;
  services: Record<string, unknown>;
  variables: Map<string, Set<string>>;
  workingDir: string;
}

const unwrap = (v: unknown) => (v instanceof Tagged ? v.value : v);

/** Apply `extends` to every service of one (interpolated) file. Returns the new services map and per-service meta. */
export function applyExtends(
  file: ExtendsFile,
  ctx: ExtendsContext,
): { services: Record<string, unknown>; meta: Map<string, ServiceMeta> } {
  const services = unwrap(file.model.root.services);
  const result: Record<string, unknown> = {};
  const meta = new Map<string, ServiceMeta>();
  if (!isPlainObject(services)) return { services: result, meta };
  const own: FileServices = {
    file: file.source.file,
    source: file.source,
    services,
    variables: file.model.serviceVariables,
    workingDir: ctx.workingDir,
  };
  const rebasedFiles = new Map<string, FileServices>();
  for (const name of Object.keys(services)) {
    const r = resolve(name, own, [], ctx, rebasedFiles);
    setKey(result, name, r.definition);
    meta.set(name, r.meta);
  }
  return { services: result, meta };
}

function resolve(
  name: string,
  where: FileServices,
  chain: Array<{ file: string; name: string }>,
  ctx: ExtendsContext,
  rebased: Map<string, FileServices>,
): Resolved {
  const definition = where.services[name];
  const line = lineOf(where.source, ['services', name]);
  const ownMeta: ServiceMeta = {
    variables: new Set(where.variables.get(name) ?? []),
    sources: [{ file: where.file, line }],
    // Keys set by the service extended come with its file and line (combineMeta: own keys win).
    locations: serviceLocations(where.source, name, definition),
  };
  const def = unwrap(definition);
  if (!isPlainObject(def) || def.extends === undefined) return { definition, meta: ownMeta };

  const extendsLine = lineOf(where.source, ['services', name, 'extends']);
  const fail = (message: string): never => {
    throw new ComposeError(message, { file: where.file, line: extendsLine, service: name });
  };
  const ext = def.extends;
  let ref: string;
  let extFile: string | undefined;
  if (typeof ext === 'string') ref = ext;
  else if (isPlainObject(ext) && typeof ext.service === 'string') {
    ref = ext.service;
    if (ext.file !== undefined && ext.file !== null) {
      if (typeof ext.file !== 'string') fail('extends.file must be a string');
      extFile = ext.file as string;
    }
  } else return fail('extends must be a service name or a mapping with a `service` key');

  if (chain.some((c) => c.file === where.file && c.name === name)) {
    const steps = [...chain, { file: where.file, name }].map((c) => `${c.name} (${c.file})`);
    fail(`circular extends: ${steps.join(' -> ')}`);
  }

  let baseWhere = where;
  if (extFile !== undefined) {
    const abs = path.posix.resolve(where.workingDir, extFile);
    let loaded = rebased.get(abs);
    if (!loaded) {
      const f = ctx.loadFile(abs, { file: where.file, line: extendsLine, service: name });
      const dir = path.posix.dirname(abs);
      const raw = unwrap(f.model.root.services);
      const services: Record<string, unknown> = {};
      if (isPlainObject(raw)) {
        for (const [n, s] of Object.entries(raw)) {
          const u = unwrap(s);
          setKey(services, n, isPlainObject(u) ? resolveServicePaths(u, dir, ctx.homeDir) : u);
        }
      }
      loaded = { file: abs, source: f.source, services, variables: f.model.serviceVariables, workingDir: dir };
      rebased.set(abs, loaded);
    }
    baseWhere = loaded;
  }
  if (!Object.prototype.hasOwnProperty.call(baseWhere.services, ref)) {
    fail(`cannot extend service "${name}": service "${ref}" not found in ${baseWhere.file}`);
  }
  const base = resolve(ref, baseWhere, [...chain, { file: where.file, name }], ctx, rebased);
  const own = { ...def };
  delete own.extends;
  const baseDef = unwrap(base.definition);
  let merged: Record<string, unknown>;
  try {
    merged = isPlainObject(baseDef) ? mergeModels(structuredCloneTagged(baseDef) as Record<string, unknown>, own, ['services', name]) : own;
  } catch (e) {
    if (e instanceof MergeError) return fail(e.message);
    throw e;
  }
  delete merged.extends;
  return { definition: merged, meta: combineMeta(base.meta, ownMeta) };
}

function structuredCloneTagged(v: unknown): unknown {
  if (v instanceof Tagged) return new Tagged(v.tag, structuredCloneTagged(v.value));
  if (Array.isArray(v)) return v.map(structuredCloneTagged);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) setKey(out, k, structuredCloneTagged(e));
    return out;
  }
  return v;
}
