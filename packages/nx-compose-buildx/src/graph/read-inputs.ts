/**
 * What a build reads from a context (dockerfile-reads), intersected with the ignore rules
 * in effect (dockerignore), as Nx input globs.
 *
 * A read pattern P becomes `{workspaceRoot}/<ctx>/P` and `{workspaceRoot}/<ctx>/P/**\/*`
 * (the path itself, or everything below a folder). Go `filepath.Match` wildcards map to
 * Nx's globset one to one within a segment (`*` and `?` never cross `/`, checked on
 * nx 24.0.6), classes `[^…]` become `[!…]`, every other metacharacter is escaped. The
 * ignored paths that exist (see ignoredPaths) follow as negations, only those that
 * overlap a read pattern, so an ignored file is never an input.
 */
import { posix } from 'node:path';
import type { ContextReads } from './dockerfile-reads';
import { contextGlobPrefix, escapeNxGlob, ignoredGlob, type IgnoredPath } from './dockerignore';

/** One pattern segment as an Nx glob segment. */
function globSegment(seg: string): string {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i];
    if (ch === '*' || ch === '?') out += ch;
    else if (ch === '[') {
      const end = seg.indexOf(']', i + 1);
      let body = seg.slice(i + 1, end);
      if (body.startsWith('^')) body = `!${body.slice(1)}`;
      out += `[${body}]`;
      i = end;
    } else out += escapeNxGlob(ch);
  }
  return out;
}

/** One pattern segment as an anchored RegExp (Go `filepath.Match` within a segment). */
function segmentRegExp(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = seg.indexOf(']', i + 1);
      const body = seg.slice(i + 1, end);
      const neg = body.startsWith('^');
      re += `[${neg ? '^' : ''}${(neg ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

/**
 * An ignored path's segments, split once: every service of a shared context (the root-context
 * layout: ten services each checking the same ignored list) asks again for each of its patterns.
 */
const segmentsCache = new WeakMap<IgnoredPath, string[]>();
function segmentsOf(ignored: IgnoredPath): string[] {
  let parts = segmentsCache.get(ignored);
  if (!parts) segmentsCache.set(ignored, (parts = ignored.path.split('/')));
  return parts;
}

/** Does the ignored path overlap what pattern `segs` reads (the matched paths and everything below them)? */
function overlaps(segs: readonly RegExp[], ignored: IgnoredPath): boolean {
  const parts = segmentsOf(ignored);
  if (!ignored.folder && parts.length < segs.length) return false;
  const n = Math.min(parts.length, segs.length);
  for (let i = 0; i < n; i++) if (!segs[i].test(parts[i])) return false;
  return true;
}

/** The Nx input globs of what a build reads from the context at `contextDir` (workspace-relative). */
export function readInputs(contextDir: string, reads: ContextReads, ignored: readonly IgnoredPath[]): string[] {
  const prefix = contextGlobPrefix(contextDir);
  if (reads.whole) return [`${prefix}**/*`, ...ignored.map((i) => ignoredGlob(prefix, i))];
  const positives: string[] = [];
  const matchers: RegExp[][] = [];
  for (const pattern of reads.paths) {
    const segs = pattern.split('/');
    const glob = segs.map(globSegment).join('/');
    positives.push(`${prefix}${glob}`, `${prefix}${glob}/**/*`);
    matchers.push(segs.map(segmentRegExp));
  }
  const negations = ignored.filter((i) => matchers.some((m) => overlaps(m, i))).map((i) => ignoredGlob(prefix, i));
  return [...positives, ...negations];
}

/** Whether a read pattern (see dockerfile-reads) reads the context-relative file `path`: the path itself or a file below it. */
export function patternReads(pattern: string, path: string): boolean {
  const segs = pattern.split('/');
  const parts = path.split('/');
  if (parts.length < segs.length) return false;
  return segs.every((seg, i) => segmentRegExp(seg).test(parts[i]));
}

/** More followed links than any real context holds: a loop of links stops here (the kernel stops at 40). */
const MAX_FOLLOWED = 256;

/**
 * A symlink's target as a context-relative path: BuildKit resolves it inside the context, an
 * absolute target from the context root and `..` stopping there ('' is the root itself).
 */
export function linkTargetInContext(link: string, target: string): string {
  return posix.normalize(posix.join('/', target.startsWith('/') ? target : posix.join(posix.dirname(link), target))).slice(1);
}

/**
 * The reads with the symlinks they name followed, as BuildKit follows them: a COPY source that is
 * a link, or that goes through a linked folder, reads the link's target (checked against BuildKit:
 * a literal link, a link matched by a wildcard, a linked folder, an absolute target). A link below
 * a copied folder is copied as a link and followed by nothing. `links`: context-relative link →
 * readlink target (fs-edge's listing). A target that is the context root, or whose name holds a
 * pattern character, reads the whole context or everything below its last plain folder.
 */
export function followLinks(reads: ContextReads, links: Readonly<Record<string, string>>): ContextReads {
  if (reads.whole) return reads;
  const linkParts = Object.keys(links).map((link) => ({ link, parts: link.split('/') }));
  if (linkParts.length === 0) return reads;
  const paths = [...reads.paths];
  const known = new Set(paths);
  const readBy = reads.readBy ? { ...reads.readBy } : undefined;
  for (let i = 0; i < paths.length; i++) {
    const pattern = paths[i]!;
    const segs = pattern.split('/');
    const matchers = segs.map(segmentRegExp);
    for (const { link, parts } of linkParts) {
      if (parts.length > segs.length || !parts.every((part, k) => matchers[k]!.test(part))) continue;
      const followed = followedPattern(linkTargetInContext(link, links[link]!), segs.slice(parts.length));
      if (followed === '') return { whole: true, reasons: [`${link} links to the context root`] };
      if (known.has(followed)) continue;
      if (paths.length >= MAX_FOLLOWED) return { whole: true, reasons: [`more than ${MAX_FOLLOWED} symlinks to follow`] };
      known.add(followed);
      paths.push(followed);
      if (readBy?.[pattern]) readBy[followed] = readBy[pattern];
    }
  }
  return paths.length === reads.paths.length ? reads : { whole: false, paths, ...(readBy ? { readBy } : {}) };
}

/**
 * The link's target and the rest of the pattern after the link, as a read pattern. The target is
 * a literal path: it is cut before the first segment a pattern would not read literally, and the
 * rest is dropped then (reading everything below the cut).
 */
function followedPattern(target: string, rest: readonly string[]): string {
  const segments = target === '' ? [] : target.split('/');
  const literal = segments.findIndex((seg) => /[*?[\\]/.test(seg));
  return (literal === -1 ? [...segments, ...rest] : segments.slice(0, literal)).join('/');
}
