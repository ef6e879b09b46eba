/**
 * The workspace-wide build cache option. Each service gets a cache location of
 * its own: several services writing one registry ref (or one GitHub Actions
 * scope) overwrite each other and make cache hits random (buildx #3819).
 *
 *   "cache": { "type": "registry", "ref": "127.0.0.1:5000/cache/{service}:buildcache", "mode": "max" }
 *
 * `{service}` is replaced by the Nx project name (unique in the workspace).
 * A service's own `cache_from` / `cache_to` in compose win over this default, except that
 * `readOnly: true` drops every `--cache-to`, the service's own included.
 */
export type WorkspaceCacheOption =
  | { type: 'registry'; ref: string; mode?: 'min' | 'max'; readOnly?: boolean }
  | { type: 'gha'; scope?: string; mode?: 'min' | 'max'; readOnly?: boolean }
  | { type: 'local'; dir?: string; mode?: 'min' | 'max'; readOnly?: boolean }
  | { type: 'inline'; readOnly?: boolean };

export interface CacheSettings {
  cacheFrom: string[];
  cacheTo: string[];
}

const fill = (template: string, project: string) => template.replace(/\{service\}|\{project\}/g, project);

/** The cache flags for one service: its own compose settings first, the workspace default for what it leaves out. */
export function serviceCache(
  option: WorkspaceCacheOption | undefined,
  project: string,
  firstTag: string | undefined,
  own: CacheSettings,
): CacheSettings {
  const fallback = option ? workspaceCache(option, project, firstTag) : { cacheFrom: [], cacheTo: [] };
  return {
    cacheFrom: own.cacheFrom.length ? own.cacheFrom : fallback.cacheFrom,
    // readOnly means no cache is written at all: a pull request's compose file (its own cache_to) included.
    cacheTo: option?.readOnly ? [] : own.cacheTo.length ? own.cacheTo : fallback.cacheTo,
  };
}

export function workspaceCache(option: WorkspaceCacheOption, project: string, firstTag: string | undefined): CacheSettings {
  switch (option.type) {
    case 'registry': {
      const ref = fill(option.ref, project);
      return { cacheFrom: [`type=registry,ref=${ref}`], cacheTo: [`type=registry,ref=${ref},mode=${option.mode ?? 'max'}`] };
    }
    case 'gha': {
      const scope = fill(option.scope ?? '{service}', project);
      return { cacheFrom: [`type=gha,scope=${scope}`], cacheTo: [`type=gha,scope=${scope},mode=${option.mode ?? 'max'}`] };
    }
    case 'local': {
      const dir = fill(option.dir ?? '.buildx-cache/{service}', project);
      return { cacheFrom: [`type=local,src=${dir}`], cacheTo: [`type=local,dest=${dir},mode=${option.mode ?? 'max'}`] };
    }
    case 'inline':
      // The cache travels inside the pushed image: read it back from the image's own tag.
      return { cacheFrom: firstTag ? [`type=registry,ref=${firstTag}`] : [], cacheTo: ['type=inline'] };
  }
}

export function validateWorkspaceCache(option: unknown): string | undefined {
  if (option === undefined) return undefined;
  const o = option as { type?: unknown; ref?: unknown };
  if (!o || typeof o !== 'object') return 'the "cache" option must be an object';
  if (!['registry', 'gha', 'local', 'inline'].includes(String(o.type)))
    return `cache.type must be registry, gha, local or inline (got ${String(o.type)})`;
  if (o.type === 'registry' && (typeof o.ref !== 'string' || !o.ref.includes('{service}')))
    return 'cache.ref must name a ref with "{service}" in it, so that no two services share a cache ref';
  return undefined;
}
