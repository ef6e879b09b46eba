/**
 * Service → service edges: B depends on A when B's build uses an image A builds (FROM,
 * COPY --from, RUN --mount from=, a `docker-image://` context), or names A's build as a
 * context (`service:A` as Compose writes it, `target:A` as bake writes it).
 *
 * Reference matching follows docker's normalisation (distribution/reference):
 * `busybox` == `docker.io/library/busybox:latest`, a missing tag is `:latest`, the
 * `index.docker.io` domain is `docker.io`.
 *
 * Digests (decided): a ref pinned by digest (`name@sha256:…`, with or without a tag)
 * matches a tag of A with the same name and no digest, whatever its tag. A's digest is only
 * known after A builds, so a workspace pinning the name it builds is pinning A's output;
 * an extra edge costs an ordering constraint (and a cached no-op build), a missing edge
 * breaks the build. When A's tag has a digest too, the digests must be equal. A plain
 * tag ref never matches a digest-only tag.
 *
 * An image ref that names one of B's additional contexts (`FROM base` with
 * `additional_contexts: { base: … }`) is served by that context, not by any image, so it
 * makes no image edge (BuildKit's NamedContext lookup; the context value decides).
 * A service never depends on itself.
 */

export interface ImageNode {
  /** Nx project name. */
  project: string;
  /** Compose service name (`service:<name>` resolves against it); defaults to `project`. */
  service?: string;
  /** Compose project, so `service:x` prefers the service of the same compose project. */
  composeProject?: string;
  /** Every tag the service's image is known under: `image:` plus `build.tags`. */
  tags: readonly string[];
  /** Image references from its Dockerfile (dockerfileRefs().images). */
  imageRefs: readonly string[];
  /** additional_contexts: name -> value as written. */
  contexts: Readonly<Record<string, string>>;
  /** build.context as written or workspace-relative. */
  context: string;
}

export interface NormalizedRef {
  /** Fully qualified repository, e.g. `docker.io/library/busybox`. */
  name: string;
  tag?: string;
  digest?: string;
}

/**
 * Docker reference normalisation. Returns undefined for what cannot be an image reference
 * (empty, unexpanded variables, spaces, a scheme other than docker-image://).
 */
export function normalizeImageRef(ref: string): NormalizedRef | undefined {
  let r = ref.trim();
  if (r.startsWith('docker-image://')) r = r.slice('docker-image://'.length);
  if (r === '' || /[\s$]/.test(r) || r.includes('://')) return undefined;
  let digest: string | undefined;
  const at = r.indexOf('@');
  if (at >= 0) {
    digest = r.slice(at + 1);
    r = r.slice(0, at);
    if (digest === '' || r === '') return undefined;
  }
  let tag: string | undefined;
  const colon = r.lastIndexOf(':');
  if (colon > r.lastIndexOf('/')) {
    tag = r.slice(colon + 1);
    r = r.slice(0, colon);
    if (tag === '') return undefined;
  }
  let domain = 'docker.io';
  let path = r;
  const slash = r.indexOf('/');
  if (slash >= 0) {
    const first = r.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first.toLowerCase();
      path = r.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (path === '') return undefined;
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!tag && !digest) tag = 'latest';
  return { name: `${domain}/${path}`, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The short form BuildKit looks named contexts up by: familiar name, `:latest` dropped. */
function contextKey(n: NormalizedRef): string {
  let name = n.name;
  if (name.startsWith('docker.io/library/')) name = name.slice('docker.io/library/'.length);
  else if (name.startsWith('docker.io/')) name = name.slice('docker.io/'.length);
  if (n.tag && n.tag !== 'latest') name += `:${n.tag}`;
  if (n.digest) name += `@${n.digest}`;
  return name;
}

/** Does image reference `ref` (what B uses) name the image tagged `tag` (what A builds)? */
export function imageRefMatches(ref: string, tag: string): boolean {
  const r = normalizeImageRef(ref);
  const t = normalizeImageRef(tag);
  return r !== undefined && t !== undefined && normalizedMatch(r, t);
}

function normalizedMatch(r: NormalizedRef, t: NormalizedRef): boolean {
  if (r.name !== t.name) return false;
  if (r.digest) return t.digest ? t.digest === r.digest : true;
  return r.tag !== undefined && r.tag === t.tag;
}

export type EdgeRecord = Record<string, string[]>;

export interface ImageEdgeReason {
  dependent: string;
  dependency: string;
  via: 'image' | 'context';
  /** The image ref or context value that made the edge. */
  ref: string;
}

const REFERENCE = /^(service|target):(.+)$/;

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
  const byProject = new Map(nodes.map((n) => [n.project, n]));

  const byService = new Map<string, ImageNode[]>();
  for (const n of nodes) {
    const svc = n.service ?? n.project;
    byService.set(svc, [...(byService.get(svc) ?? []), n]);
  }
  // `service:x` / `target:x`: the service x of the same compose project, else the project
  // named x, else every service named x.
  const resolveBuild = (from: ImageNode, name: string): string[] => {
    const named = byService.get(name) ?? [];
    const same = named.filter((n) => n.composeProject === from.composeProject);
    if (same.length > 0) return same.map((n) => n.project);
    if (byProject.has(name)) return [name];
    return named.map((n) => n.project);
  };

  const reasons = new Map<string, ImageEdgeReason>();
  const add = (dependent: string, dependency: string, via: 'image' | 'context', ref: string) => {
    if (dependent === dependency) return;
    const key = `${dependent}\0${dependency}\0${via}\0${ref}`;
    if (!reasons.has(key)) reasons.set(key, { dependent, dependency, via, ref });
  };
  const addImage = (from: ImageNode, ref: string, named: ReadonlySet<string>) => {
    const r = normalizeImageRef(ref);
    if (!r || named.has(contextKey(r)) || named.has(ref)) return;
    for (const cand of byName.get(r.name) ?? []) {
      if (normalizedMatch(r, cand.tag)) add(from.project, cand.project, 'image', ref);
    }
  };

  for (const n of nodes) {
    const named = new Set(Object.keys(n.contexts));
    for (const ref of n.imageRefs) addImage(n, ref, named);
    for (const value of [n.context, ...Object.values(n.contexts)]) {
      const m = REFERENCE.exec(value);
      if (m) for (const dep of resolveBuild(n, m[2])) add(n.project, dep, 'context', value);
      else if (value.startsWith('docker-image://')) addImage(n, value, new Set());
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

export class ImageCycleError extends Error {
  constructor(readonly cycle: string[]) {
    super(`Image dependency cycle: ${[...cycle, ...cycle.slice(0, 1)].join(' -> ')}`);
    this.name = 'ImageCycleError';
  }
}

/**
 * Dependencies before dependents; among the ready ones, alphabetical. Throws
 * ImageCycleError on a cycle.
 */
export function topologicalOrder(edges: EdgeRecord): string[] {
  const nodes = allNodes(edges);
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    const deps = new Set(edges[n] ?? []);
    remaining.set(n, deps.size);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(n);
      dependents.set(d, list);
    }
  }
  const ready = nodes.filter((n) => remaining.get(n) === 0); // sorted
  const order: string[] = [];
  while (ready.length > 0) {
    const n = ready.shift() as string;
    order.push(n);
    for (const m of dependents.get(n) ?? []) {
      const left = (remaining.get(m) as number) - 1;
      remaining.set(m, left);
      if (left === 0) {
        let lo = 0;
        let hi = ready.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (ready[mid] < m) lo = mid + 1;
          else hi = mid;
        }
        ready.splice(lo, 0, m);
      }
    }
  }
  if (order.length < nodes.length) throw new ImageCycleError(detectCycles(edges) ?? []);
  return order;
}

/** Every project `project` depends on, directly or not, sorted; never `project` itself. */
export function transitiveDependencies(edges: EdgeRecord, project: string): string[] {
  const seen = new Set<string>();
  const stack = [...(edges[project] ?? [])];
  while (stack.length > 0) {
    const n = stack.pop() as string;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const d of edges[n] ?? []) if (!seen.has(d)) stack.push(d);
  }
  seen.delete(project);
  return [...seen].sort();
}
