/**
 * Which build-context files BuildKit sends, and how to say that as Nx input globs.
 *
 * Matching follows moby/patternmatcher (what BuildKit's fsutil uses): rules are read like
 * `ignorefile.ReadAll` (comments, trimming, `!`, `filepath.Clean`, leading `/` dropped), a
 * file is excluded when the last rule that matches it or one of its parent folders is an
 * exclusion. Regex matching is delegated to `@balena/dockerignore` (case-sensitive), with
 * the characters current BuildKit escapes but the library does not (`+ ( ) | { }`)
 * escaped first.
 *
 * Nx glob facts this module relies on (nx 24.0.6, native `build_glob_set` / globset,
 * checked through `matchGlobPaths`): `{workspaceRoot}/d/**\/*` matches every file under
 * `d` (dotfiles too, never `d` itself); a negation in a fileset list beats every positive
 * pattern; `\` escapes any metacharacter, and `( ) ! @ +` must be escaped because Nx's
 * own extglob pass rewrites `(…)` groups before globset sees them.
 */
import ignore from '@balena/dockerignore';

/** `exists(wsRelativePath)`: the only file-system access this module needs. */
export type ExistsFn = (workspacePath: string) => boolean;

/** Joins workspace-relative posix paths; '' and '.' mean the workspace root. */
function joinWs(dir: string, name: string): string {
  const d = dir === '.' || dir === './' ? '' : dir.replace(/\/+$/, '');
  return d === '' ? name : `${d}/${name}`;
}

function dirnameWs(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * BuildKit's choice of ignore file: `<Dockerfile>.dockerignore` beside the Dockerfile wins
 * over `<context>/.dockerignore`. Returns the workspace-relative path, or undefined.
 */
export function selectIgnoreFile(dockerfilePath: string | undefined, contextDir: string, exists: ExistsFn): string | undefined {
  if (dockerfilePath) {
    const specific = `${dockerfilePath}.dockerignore`;
    if (exists(specific)) return specific;
  }
  const generic = joinWs(contextDir, '.dockerignore');
  return exists(generic) ? generic : undefined;
}

/** One normalised rule, as moby's `ignorefile.ReadAll` leaves it. */
export interface IgnoreRule {
  pattern: string;
  negated: boolean;
}

/** Posix `filepath.Clean`. */
function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const body = out.join('/');
  if (rooted) return `/${body}`;
  return body === '' ? '.' : body;
}

/**
 * Normalises ignore-file lines (or the whole file text) into rules, like moby's
 * `ignorefile.ReadAll`: a BOM is dropped, a line whose first character is `#` is a comment
 * (` # x` is a pattern), lines are trimmed, `!` negates, paths are cleaned and a leading
 * `/` is removed.
 */
export function parseIgnoreRules(lines: string | readonly string[]): IgnoreRule[] {
  const list = typeof lines === 'string' ? lines.split(/\r?\n/) : lines.flatMap((l) => l.split(/\r?\n/));
  const rules: IgnoreRule[] = [];
  list.forEach((raw, i) => {
    let line = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.startsWith('#')) return;
    line = line.trim();
    if (line === '') return;
    let negated = false;
    if (line.startsWith('!')) {
      negated = true;
      line = line.slice(1).trim();
    }
    if (line.length > 0) {
      line = cleanPath(line);
      if (line.length > 1 && line.startsWith('/')) line = line.slice(1);
    }
    if (line === '') return; // a lone "!" is dropped by moby too
    rules.push({ pattern: line, negated });
  });
  return rules;
}

/**
 * Escapes what current BuildKit escapes (`shouldEscape`) but @balena/dockerignore passes to
 * RegExp raw, and a leading `#` (already past comment handling; the library would drop it).
 */
function escapeForBalena(pattern: string): string {
  let out = pattern.startsWith('#') ? '\\' : '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) {
      out += ch + pattern[i + 1];
      i++;
    } else if ('+()|{}'.includes(ch)) {
      out += `\\${ch}`;
    } else {
      out += ch;
    }
  }
  return out;
}

export interface IgnoreMatcher {
  readonly rules: readonly IgnoreRule[];
  /** True when BuildKit would leave this context-relative path out of the context. */
  ignores(path: string): boolean;
}

const matchers = new Map<string, IgnoreMatcher>();
const MATCHER_CACHE_LIMIT = 1000;

/**
 * Memoised on the patterns: one graph compiles each distinct ignore file once, though the walker,
 * the pattern check and the ignored-path listing all ask (and services often share one file). A
 * matcher's answers depend on its rules alone, so sharing it (and the library's own per-path
 * cache) changes no answer.
 */
export function createIgnoreMatcher(patterns: string | readonly string[]): IgnoreMatcher {
  const key = JSON.stringify(patterns);
  let matcher = matchers.get(key);
  if (!matcher) {
    if (matchers.size >= MATCHER_CACHE_LIMIT) matchers.clear();
    matcher = compileIgnoreMatcher(patterns);
    matchers.set(key, matcher);
  }
  return matcher;
}

function compileIgnoreMatcher(patterns: string | readonly string[]): IgnoreMatcher {
  const rules = parseIgnoreRules(patterns);
  const ig = ignore({ ignorecase: false });
  ig.add(rules.map((r) => (r.negated ? '!' : '') + escapeForBalena(r.pattern)));
  return {
    rules,
    ignores: rules.length === 0 ? () => false : (path: string) => ig.ignores(path),
  };
}

/** The files BuildKit would send: those the ignore rules leave in. Order is kept. */
export function includedFiles(files: readonly string[], patterns: string | readonly string[]): string[] {
  const m = createIgnoreMatcher(patterns);
  return files.filter((f) => !m.ignores(f));
}

// ---------------------------------------------------------------------------------------
// "Could a rule match anything strictly below this folder?" (conservative)

interface SegmentedRule {
  /** Per-segment regexes up to the first segment holding `**`. */
  fixed: RegExp[];
  /** Whether a `**` segment follows `fixed` (then any depth is possible). */
  open: boolean;
  /** Total segment count when not open. */
  length: number;
}

function segmentRegex(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      if (i + 1 < seg.length) {
        re += `\\${seg[i + 1]}`;
        i++;
      } else re += '\\\\';
    } else if ('.$+()|{}^'.includes(ch)) re += `\\${ch}`;
    else re += ch; // '[' ... ']' classes pass through, as in moby
  }
  re += '$';
  try {
    return new RegExp(re);
  } catch {
    return /^/; // malformed class: assume it could match anything
  }
}

function segmentRule(pattern: string): SegmentedRule {
  const segs = pattern.split('/');
  const fixed: RegExp[] = [];
  for (const s of segs) {
    if (s.includes('**')) return { fixed, open: true, length: segs.length };
    fixed.push(segmentRegex(s));
  }
  return { fixed, open: false, length: segs.length };
}

/** True unless `rule` certainly matches no path strictly below `dirSegs`. */
function couldMatchBelow(rule: SegmentedRule, dirSegs: readonly string[]): boolean {
  if (!rule.open && rule.length <= dirSegs.length) return false;
  const n = Math.min(rule.fixed.length, dirSegs.length);
  for (let i = 0; i < n; i++) if (!rule.fixed[i].test(dirSegs[i])) return false;
  return true;
}

/**
 * A predicate for walkers: true when the context-relative folder is excluded and nothing
 * under it can be re-included (no `!` rule could match below it, and no `keep` path lies
 * below it). Every file under such a folder is excluded, now and in future.
 */
export function createPrunePredicate(patterns: string | readonly string[], keep: readonly string[] = []): (relDir: string) => boolean {
  const matcher = createIgnoreMatcher(patterns);
  return prunePredicate(matcher, keepAncestors(keep));
}

function keepAncestors(keep: readonly string[]): Set<string> {
  const dirs = new Set<string>();
  for (const k of keep) {
    for (let d = dirnameWs(k); d !== ''; d = dirnameWs(d)) {
      if (dirs.has(d)) break;
      dirs.add(d);
    }
  }
  return dirs;
}

/** A matcher's `!` rules split into segments, once per (memoised) matcher rather than once per context walked. */
const negationRules = new WeakMap<IgnoreMatcher, SegmentedRule[]>();
function negationsOf(matcher: IgnoreMatcher): SegmentedRule[] {
  let rules = negationRules.get(matcher);
  if (!rules) negationRules.set(matcher, (rules = matcher.rules.filter((r) => r.negated).map((r) => segmentRule(r.pattern))));
  return rules;
}

function prunePredicate(matcher: IgnoreMatcher, keepDirs: ReadonlySet<string>): (relDir: string) => boolean {
  if (matcher.rules.length === 0) return () => false;
  const negations = negationsOf(matcher);
  return (relDir: string) => {
    if (keepDirs.has(relDir)) return false;
    if (!matcher.ignores(relDir)) return false;
    if (negations.length === 0) return true;
    const segs = relDir.split('/');
    return !negations.some((r) => couldMatchBelow(r, segs));
  };
}

// ---------------------------------------------------------------------------------------
// Nx input globs

/** Escapes a literal path for Nx's glob matcher (`\` before each metacharacter). */
export function escapeNxGlob(path: string): string {
  return path.replace(/[\\*?[\]{}()!@+]/g, '\\$&');
}

function normaliseDir(dir: string): string {
  const d = dir.replace(/^\.\/+/, '').replace(/\/+$/, '');
  return d === '.' ? '' : d;
}

export interface ContextInputsOptions {
  /** Workspace-relative context folder; '' or '.' for the workspace root. */
  contextDir: string;
  /** Every file under the context, context-relative, "/"-separated. */
  files: readonly string[];
  /** The ignore file's lines (or text); [] when there is none. */
  ignorePatterns: string | readonly string[];
  /**
   * Workspace-relative files the target must stay sensitive to even when ignored: the
   * Dockerfile, the ignore file, and any other input of the same target that lies inside
   * the context (compose files, secret files), since a negation beats every positive glob.
   * Those outside the context are added as positive inputs.
   */
  alwaysInclude: readonly string[];
  /**
   * Context-relative folders a walker pruned without listing (see createPrunePredicate).
   * Negated as a whole when they are wholly excluded; otherwise left as inputs.
   */
  prunedDirs?: readonly string[];
}

/** A context-relative path the ignore rules drop: a file, or a folder with everything below it. */
export interface IgnoredPath {
  readonly path: string;
  readonly folder: boolean;
}

export interface IgnoredPathsOptions {
  /** Every file under the context, context-relative, "/"-separated. */
  files: readonly string[];
  /** The ignore file's lines (or text); [] when there is none. */
  ignorePatterns: string | readonly string[];
  /** Context-relative files never reported (they must stay inputs even when ignored). */
  keep: readonly string[];
  /** Context-relative folders a walker pruned without listing (see createPrunePredicate). */
  prunedDirs?: readonly string[];
}

/**
 * The existing paths BuildKit leaves out of the context: one entry per ignored file, or
 * per ignored folder when nothing below it can be re-included (and no `keep` file lies
 * below it). Sorted, unique. O(files + folders x negation rules).
 */
export function ignoredPaths(opts: IgnoredPathsOptions): IgnoredPath[] {
  const matcher = createIgnoreMatcher(opts.ignorePatterns);
  if (matcher.rules.length === 0) return [];
  const keepFiles = new Set(opts.keep);
  const prunable = prunePredicate(matcher, keepAncestors(opts.keep));

  // Each folder is asked once, and only while no folder above it was pruned (a pruned folder's
  // contents are never looked at), walking each file's folders from the top.
  const prunedFolder = new Map<string, boolean>();
  const out = new Map<string, IgnoredPath>();
  for (const file of opts.files) {
    let pruned: string | undefined;
    for (let slash = file.indexOf('/'); slash >= 0; slash = file.indexOf('/', slash + 1)) {
      const dir = file.slice(0, slash);
      let cut = prunedFolder.get(dir);
      if (cut === undefined) prunedFolder.set(dir, (cut = prunable(dir)));
      if (cut) {
        pruned = dir;
        break;
      }
    }
    if (pruned !== undefined) out.set(`${pruned}/`, { path: pruned, folder: true });
    else if (!keepFiles.has(file) && matcher.ignores(file)) out.set(file, { path: file, folder: false });
  }
  for (const raw of opts.prunedDirs ?? []) {
    const dir = normaliseDir(raw);
    if (dir !== '' && prunable(dir)) out.set(`${dir}/`, { path: dir, folder: true });
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : Number(a.folder) - Number(b.folder)));
}

/** `{workspaceRoot}/<ctx>/` with the context escaped for Nx. */
export function contextGlobPrefix(contextDir: string): string {
  const ctx = normaliseDir(contextDir);
  return ctx === '' ? '{workspaceRoot}/' : `{workspaceRoot}/${escapeNxGlob(ctx)}/`;
}

/** The negation glob of an ignored path. */
export function ignoredGlob(wsPrefix: string, ignored: IgnoredPath): string {
  return ignored.folder ? `!${wsPrefix}${escapeNxGlob(ignored.path)}/**/*` : `!${wsPrefix}${escapeNxGlob(ignored.path)}`;
}

/**
 * Nx input globs for a whole build context: `{workspaceRoot}/<ctx>/**\/*`, then one
 * negation per ignored file, or per ignored folder when nothing below it can be
 * re-included. Outside files of `alwaysInclude` follow the context glob. Deterministic:
 * positives first, then sorted negations.
 */
export function contextInputs(opts: ContextInputsOptions): string[] {
  const ctx = normaliseDir(opts.contextDir);
  const wsPrefix = contextGlobPrefix(ctx);
  const ctxPrefix = ctx === '' ? '' : `${ctx}/`;

  const keepInside: string[] = [];
  const outside = new Set<string>();
  for (const raw of opts.alwaysInclude) {
    const p = normaliseDir(raw);
    if (p === '') continue;
    if (ctx === '' || p.startsWith(ctxPrefix)) keepInside.push(p.slice(ctxPrefix.length));
    else outside.add(`{workspaceRoot}/${escapeNxGlob(p)}`);
  }
  const positives = [`${wsPrefix}**/*`, ...[...outside].sort()];
  const ignored = ignoredPaths({ files: opts.files, ignorePatterns: opts.ignorePatterns, keep: keepInside, prunedDirs: opts.prunedDirs });
  return [...positives, ...[...new Set(ignored.map((i) => ignoredGlob(wsPrefix, i)))].sort()];
}
