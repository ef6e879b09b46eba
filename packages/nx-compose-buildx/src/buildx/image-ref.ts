/**
 * The one parser of image references (`[domain/]path[:tag][@digest]`). Matching follows docker's
 * normalisation (distribution/reference): `busybox` == `docker.io/library/busybox:latest`, a
 * missing tag is `:latest`, the `index.docker.io` domain is `docker.io`.
 */

export interface ImageRefParts {
  /** Everything before the tag and digest, as written: `127.0.0.1:5000/shop/api`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits a reference as written; nothing is normalised. */
export function splitImageRef(ref: string): ImageRefParts {
  let repository = ref;
  let digest: string | undefined;
  const at = repository.indexOf('@');
  if (at >= 0) {
    digest = repository.slice(at + 1);
    repository = repository.slice(0, at);
  }
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon > repository.lastIndexOf('/')) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The repository part of an image reference: `reg:5000/app:1.0@sha256:…` → `reg:5000/app`. */
export function repositoryOf(ref: string): string {
  return splitImageRef(ref).repository;
}

/** `<ref>-<suffix>` on the tag (`app:1.0` → `app:1.0-arm64`; an untagged `app` → `app:latest-arm64`); a digest is dropped. */
export function withTagSuffix(ref: string, suffix: string): string {
  const { repository, tag } = splitImageRef(ref);
  return `${repository}:${tag ?? 'latest'}-${suffix}`;
}

/** The registry host a repository is served from and its path there (docker.io → its registry host). */
export function registryLocation(ref: string): { host: string; path: string } {
  const { repository } = splitImageRef(ref);
  const { domain, path } = splitDomain(repository);
  return domain === 'docker.io' ? { host: 'registry-1.docker.io', path: qualifiedPath(domain, path) } : { host: domain, path };
}

export interface NormalizedRef {
  /** Fully qualified repository, e.g. `docker.io/library/busybox`. */
  name: string;
  tag?: string;
  digest?: string;
}

function splitDomain(repository: string): { domain: string; path: string } {
  const slash = repository.indexOf('/');
  if (slash >= 0) {
    const first = repository.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      const domain = first.toLowerCase();
      return { domain: domain === 'index.docker.io' ? 'docker.io' : domain, path: repository.slice(slash + 1) };
    }
  }
  return { domain: 'docker.io', path: repository };
}

function qualifiedPath(domain: string, path: string): string {
  return domain === 'docker.io' && !path.includes('/') ? `library/${path}` : path;
}

/**
 * Docker reference normalisation. Returns undefined for what cannot be an image reference
 * (empty, unexpanded variables, spaces, a scheme other than docker-image://).
 */
export function normalizeImageRef(ref: string): NormalizedRef | undefined {
  let r = ref.trim();
  if (r.startsWith('docker-image://')) r = r.slice('docker-image://'.length);
  if (r === '' || /[\s$]/.test(r) || r.includes('://')) return undefined;
  const { repository, tag, digest } = splitImageRef(r);
  if (digest === '' || tag === '' || repository === '') return undefined;
  const { domain, path } = splitDomain(repository);
  if (path === '') return undefined;
  const name = `${domain}/${qualifiedPath(domain, path)}`;
  return { name, ...(tag ? { tag } : digest ? {} : { tag: 'latest' }), ...(digest ? { digest } : {}) };
}

/** The short form BuildKit looks named contexts up by: familiar name, `:latest` dropped. */
export function familiarRef(n: NormalizedRef): string {
  let name = n.name;
  if (name.startsWith('docker.io/library/')) name = name.slice('docker.io/library/'.length);
  else if (name.startsWith('docker.io/')) name = name.slice('docker.io/'.length);
  if (n.tag && n.tag !== 'latest') name += `:${n.tag}`;
  if (n.digest) name += `@${n.digest}`;
  return name;
}

/**
 * Does `r` (what B uses) name the image `t` (what A builds)? A ref pinned by digest matches a tag
 * of A with the same name and no digest, whatever its tag (A's digest is only known after A builds);
 * when A's tag has a digest too, the digests must be equal. A plain tag never matches a digest-only tag.
 */
export function normalizedRefMatches(r: NormalizedRef, t: NormalizedRef): boolean {
  if (r.name !== t.name) return false;
  if (r.digest) return t.digest ? t.digest === r.digest : true;
  return r.tag !== undefined && r.tag === t.tag;
}

/** Does image reference `ref` name the image tagged `tag`? */
export function imageRefMatches(ref: string, tag: string): boolean {
  const r = normalizeImageRef(ref);
  const t = normalizeImageRef(tag);
  return r !== undefined && t !== undefined && normalizedRefMatches(r, t);
}
