/**
 * Service → service edges: B depends on A when B's build uses an image A builds (FROM,
 * COPY --from, RUN --mount from=, a `docker-image://` context), or names A's build as a
 * context (`service:A` as Compose writes it, `target:A` as bake writes it).
 *
 * Reference parsing and matching (digest pins included): buildx/image-ref.ts.
 *
 * An image ref that names one of B's additional contexts (`FROM base` with
 * `additional_contexts: { base: … }`) is served by that context, not by any image:
 * dockerfileRefs leaves it out of `imageRefs` (the context value decides the edge).
 * A service never depends on itself.
 */

import { serviceContextName } from '../build-spec/paths';
import { normalizeImageRef, normalizedRefMatches, type NormalizedRef } from '../buildx/image-ref';

export interface ServiceRef {
  /** Nx project name. */
  project: string;
  /** Compose service name (`service:<name>` resolves against it); defaults to `project`. */
  service?: string;
  /** Compose project, so `service:x` prefers the service of the same compose project. */
  composeProject?: string;
}

/**
 * The one resolver of `service:x` / `target:x` contexts: the service x of the same compose
 * project, else the project named x, else every service named x.
 */
export function serviceIndex<T extends ServiceRef>(nodes: readonly T[]): { resolve(from: ServiceRef, name: string): T[] } {
  const byProject = new Map(nodes.map((n) => [n.project, n]));
  const byService = new Map<string, T[]>();
  for (const n of nodes) {
    const svc = n.service ?? n.project;
    byService.set(svc, [...(byService.get(svc) ?? []), n]);
  }
  return {
    resolve(from, name) {
      const named = byService.get(name) ?? [];
      const same = named.filter((n) => n.composeProject === from.composeProject);
      if (same.length > 0) return same;
      const project = byProject.get(name);
      return project ? [project] : named;
    },
  };
}

export interface ImageNode extends ServiceRef {
  /** Every tag the service's image is known under: `image:` plus `build.tags`. */
  tags: readonly string[];
  /** Image references from its Dockerfile (dockerfileRefs().images, given the service's named contexts). */
  imageRefs: readonly string[];
  /** additional_contexts: name -> value as written. */
  contexts: Readonly<Record<string, string>>;
  /** build.context as written or workspace-relative. */
  context: string;
}

export type EdgeRecord = Record<string, string[]>;

export interface ImageEdgeReason {
  dependent: string;
  dependency: string;
  via: 'image' | 'context';
  /** The image ref or context value that made the edge. */
  ref: string;
}

/** Every edge with why it exists, sorted by dependent, dependency, via, ref. */
export function imageEdgeReasons(nodes: readonly ImageNode[]): ImageEdgeReason[] {
  const byName = new Map<string, Array<{ project: string; tag: NormalizedRef }>>();
  for (const n of nodes) {
    for (const raw of n.tags) {
      const tag = normalizeImageRef(raw);
      if (!tag) continue;
      const list = byName.get(tag.name) ?? [];
      list.push({ project: n.project, tag });
      byName.set(tag.name, list);
    }
  }
  const services = serviceIndex(nodes);

  const reasons = new Map<string, ImageEdgeReason>();
  const add = (dependent: string, dependency: string, via: 'image' | 'context', ref: string) => {
    if (dependent === dependency) return;
    const key = `${dependent}\0${dependency}\0${via}\0${ref}`;
    if (!reasons.has(key)) reasons.set(key, { dependent, dependency, via, ref });
  };
  const addImage = (from: ImageNode, ref: string) => {
    const r = normalizeImageRef(ref);
    if (!r) return;
    for (const cand of byName.get(r.name) ?? []) {
      if (normalizedRefMatches(r, cand.tag)) add(from.project, cand.project, 'image', ref);
    }
  };

  for (const n of nodes) {
    for (const ref of n.imageRefs) addImage(n, ref);
    for (const value of [n.context, ...Object.values(n.contexts)]) {
      const service = serviceContextName(value);
      if (service !== undefined) for (const dep of services.resolve(n, service)) add(n.project, dep.project, 'context', value);
      else if (value.startsWith('docker-image://')) addImage(n, value);
    }
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...reasons.values()].sort(
    (a, b) => cmp(a.dependent, b.dependent) || cmp(a.dependency, b.dependency) || cmp(a.via, b.via) || cmp(a.ref, b.ref),
  );
}

/** Direct dependencies of every project (every project is a key), sorted and unique. */
export function imageEdges(nodes: readonly ImageNode[]): EdgeRecord {
  const edges: Record<string, Set<string>> = {};
  for (const n of [...nodes].sort((a, b) => (a.project < b.project ? -1 : a.project > b.project ? 1 : 0))) {
    edges[n.project] ??= new Set();
  }
  for (const r of imageEdgeReasons(nodes)) edges[r.dependent].add(r.dependency);
  return Object.fromEntries(Object.entries(edges).map(([k, v]) => [k, [...v].sort()]));
}

function allNodes(edges: EdgeRecord): string[] {
  const set = new Set<string>(Object.keys(edges));
  for (const deps of Object.values(edges)) for (const d of deps) set.add(d);
  return [...set].sort();
}

/**
 * The first cycle found, walking projects and their dependencies in sorted order:
 * `[a, b, c]` meaning a -> b -> c -> a (each project once), or undefined.
 */
export function detectCycles(edges: EdgeRecord): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  for (const start of allNodes(edges)) {
    if (state.has(start)) continue;
    const path: string[] = [start];
    const iters: Array<Iterator<string>> = [[...(edges[start] ?? [])].sort()[Symbol.iterator]()];
    state.set(start, 1);
    while (path.length > 0) {
      const next = iters[iters.length - 1].next();
      if (next.done) {
        state.set(path.pop() as string, 2);
        iters.pop();
        continue;
      }
      const dep = next.value;
      const s = state.get(dep);
      if (s === 1) return path.slice(path.indexOf(dep));
      if (s === 2) continue;
      state.set(dep, 1);
      path.push(dep);
      iters.push([...(edges[dep] ?? [])].sort()[Symbol.iterator]());
    }
  }
  return undefined;
}
