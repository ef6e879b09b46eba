import type { SourceLocation } from './types';
import { isPlainObject, lineOf, Tagged, type YamlSource } from './yaml-source';

/** What the loader remembers about a service besides its definition. */
export interface ServiceMeta {
  variables: Set<string>;
  sources: SourceLocation[];
  locations: Record<string, SourceLocation>;
}

export const emptyMeta = (): ServiceMeta => ({ variables: new Set(), sources: [], locations: {} });

export function combineMeta(a: ServiceMeta | undefined, b: ServiceMeta | undefined): ServiceMeta {
  return {
    variables: new Set([...(a?.variables ?? []), ...(b?.variables ?? [])]),
    sources: [...(a?.sources ?? []), ...(b?.sources ?? [])],
    locations: { ...(a?.locations ?? {}), ...(b?.locations ?? {}) },
  };
}

/**
 * Where each key of one service definition is written (its top-level keys, build keys, each build
 * arg, and x-nx-buildx keys), for errors and docker-explain.
 */
export function serviceLocations(source: YamlSource, name: string, def: unknown): Record<string, SourceLocation> {
  const out: Record<string, SourceLocation> = {};
  const d = def instanceof Tagged ? def.value : def;
  if (!isPlainObject(d)) return out;
  for (const k of Object.keys(d)) out[k] = { file: source.file, line: lineOf(source, ['services', name, k]) };
  const build = d.build instanceof Tagged ? d.build.value : d.build;
  if (isPlainObject(build)) {
    for (const k of Object.keys(build)) out[`build.${k}`] = { file: source.file, line: lineOf(source, ['services', name, 'build', k]) };
    // Each arg of a mapping, so that docker-explain can name the file and line that set one arg.
    const args = build.args instanceof Tagged ? build.args.value : build.args;
    if (isPlainObject(args))
      for (const k of Object.keys(args))
        out[`build.args.${k}`] = { file: source.file, line: lineOf(source, ['services', name, 'build', 'args', k]) };
    else if (Array.isArray(args))
      args.forEach((item, i) => {
        if (typeof item === 'string')
          out[`build.args.${item.split('=')[0]}`] = { file: source.file, line: lineOf(source, ['services', name, 'build', 'args', i]) };
      });
  } else if (typeof build === 'string') out['build.context'] = out.build;
  // The plugin's own extension (build-spec/extension.ts): its keys, for warnings that name their line.
  const extension = d['x-nx-buildx'] instanceof Tagged ? d['x-nx-buildx'].value : d['x-nx-buildx'];
  if (isPlainObject(extension)) {
    for (const k of Object.keys(extension)) {
      out[`x-nx-buildx.${k}`] = { file: source.file, line: lineOf(source, ['services', name, 'x-nx-buildx', k]) };
    }
  }
  return out;
}
