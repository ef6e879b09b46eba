/**
 * Top-level `include:` (compose-go `loader/include.go`): each entry is loaded as its own sub-project (paths
 * resolve against its own folder, its own `.env`), then its resources are imported. A resource that the
 * including file also defines (differently) is a conflict, as in Compose.
 */
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ComposeError } from './types';
import { isPlainObject, lineOf, setKey, Tagged, type YamlSource } from './yaml-source';

export interface IncludeEntry {
  /** Absolute compose files of the sub-project, in merge order. */
  files: string[];
  /** Absolute sub-project folder: `project_directory`, else the first file's folder. */
  projectDir: string;
  /** Absolute env files; empty means "`<projectDir>/.env` if it exists". */
  envFiles: string[];
  line?: number;
}

const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** Read the (interpolated) `include:` section of one file. Relative paths resolve against `workingDir`. */
export function parseIncludeEntries(value: unknown, source: YamlSource, workingDir: string): IncludeEntry[] {
  const v = value instanceof Tagged ? value.value : value;
  if (v === undefined || v === null) return [];
  const fail = (message: string, line = lineOf(source, ['include'])): never => {
    throw new ComposeError(message, { file: source.file, line });
  };
  if (!Array.isArray(v)) fail('include must be a list');
  return (v as unknown[]).map((entry, i) => {
    const line = lineOf(source, ['include', i]);
    const spec = typeof entry === 'string' ? { path: entry } : entry;
    if (!isPlainObject(spec)) return fail('include entries must be a path or a mapping with `path`', line);
    const paths = asList(spec.path);
    if (paths.length === 0 || paths.some((p) => typeof p !== 'string' || p === ''))
      fail('include.path must be a path or a list of paths', line);
    const files = (paths as string[]).map((p) => path.posix.resolve(workingDir, p));
    const projectDir =
      typeof spec.project_directory === 'string' && spec.project_directory !== ''
        ? path.posix.resolve(workingDir, spec.project_directory)
        : path.posix.dirname(files[0]);
    const envFiles = asList(spec.env_file).map((f) => {
      if (typeof f !== 'string') return fail('include.env_file must be a path or a list of paths', line);
      return path.posix.resolve(workingDir, f);
    });
    return { files, projectDir, envFiles, line };
  });
}

/** Import an included sub-project's top-level resources into the including file's model. */
export function importIncluded(
  target: Record<string, unknown>,
  included: Record<string, unknown>,
  where: { file: string; line?: number; lineFor?: (section: string, name: string) => number | undefined },
): void {
  for (const section of ['services', 'secrets', 'configs', 'networks', 'volumes']) {
    const from = included[section];
    if (!isPlainObject(from)) continue;
    const existing = target[section] instanceof Tagged ? (target[section] as Tagged).value : target[section];
    const to: Record<string, unknown> = isPlainObject(existing) ? { ...existing } : {};
    for (const [name, def] of Object.entries(from)) {
      if (Object.prototype.hasOwnProperty.call(to, name)) {
        if (isDeepStrictEqual(to[name], def)) continue;
        throw new ComposeError(`${section}.${name} conflicts with imported resource`, {
          file: where.file,
          line: where.lineFor?.(section, name) ?? where.line,
          service: section === 'services' ? name : undefined,
        });
      }
      setKey(to, name, def);
    }
    target[section] = to;
  }
}
