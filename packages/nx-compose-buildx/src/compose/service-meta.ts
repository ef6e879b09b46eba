import type { SourceLocation } from './types';

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
