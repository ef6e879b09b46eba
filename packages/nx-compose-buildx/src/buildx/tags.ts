/**
 * Tags generated from git facts, after docker/metadata-action's rules. Pure: the git facts are input
 * (see run/git.ts for reading them). Generated at run time by the executors only, never written into
 * target options, so they do not change Nx cache keys.
 */
// The two functions by their own paths: `semver` itself loads all of its ~50 modules, on every task.
import parseSemver from 'semver/functions/parse';
import rcompareSemver from 'semver/functions/rcompare';
import { repositoryOf } from './image-ref';

export type TagRule =
  | { type: 'semver'; pattern: string }
  | { type: 'ref'; event: 'branch' | 'tag' }
  | { type: 'sha'; prefix?: string; length?: number }
  | { type: 'raw'; value: string }
  | { type: 'latest' };

export interface GitFacts {
  /** Current branch name (absent on a detached HEAD / tag build). */
  branch?: string;
  /** Git tag pointing at HEAD (as written, e.g. `v1.2.3`). */
  tag?: string;
  /** Full commit sha. */
  sha: string;
  defaultBranch: string;
  /** Remote URL (for the OCI source label). */
  remoteUrl?: string;
  /** Commit time of HEAD (ISO 8601), so the created label is the same on every rebuild of a commit. */
  commitTime?: string;
}

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease?: string;
  build?: string;
  /** The version without `v` prefix, as written. */
  raw: string;
}

/** Parses a git tag as semver (a leading `v` is stripped); undefined when it is not one. */
export function parseSemverTag(tag: string | undefined): SemVer | undefined {
  const written = tag?.trim();
  // semver also takes `=1.2.3`; a git tag is `1.2.3` or `v1.2.3`.
  if (!written || !/^v?\d/.test(written)) return undefined;
  const v = parseSemver(written);
  if (!v) return undefined;
  return {
    major: v.major,
    minor: v.minor,
    patch: v.patch,
    ...(v.prerelease.length ? { prerelease: v.prerelease.join('.') } : {}),
    ...(v.build.length ? { build: v.build.join('.') } : {}),
    raw: written.replace(/^v/, ''),
  };
}

/** Semver precedence, highest first (`1.0.0` before `1.0.0-rc1`; build metadata is ignored). */
export function compareSemverDescending(a: SemVer, b: SemVer): number {
  return rcompareSemver(a.raw, b.raw);
}

/**
 * A valid Docker tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. Like metadata-action, runs of other
 * characters become `-` (case is kept); leading `.`/`-` are dropped; cut to 128 characters.
 */
export function sanitizeTag(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
}

export function isValidDockerTag(tag: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag);
}

function semverTag(pattern: string, v: SemVer): string | undefined {
  // metadata-action: a pre-release only gets {{version}} (and {{raw}}), never major/minor aliases.
  const usesPartial = /\{\{\s*(major|minor|patch)\s*\}\}/.test(pattern);
  if (v.prerelease !== undefined && usesPartial) return undefined;
  // `{{major}}` alone for 0.x would move with every breaking release: metadata-action skips it too.
  if (/^\{\{\s*major\s*\}\}$/.test(pattern.trim()) && v.major === 0) return undefined;
  const version = `${v.major}.${v.minor}.${v.patch}${v.prerelease !== undefined ? `-${v.prerelease}` : ''}`;
  return pattern
    .replace(/\{\{\s*version\s*\}\}/g, version)
    .replace(/\{\{\s*raw\s*\}\}/g, v.raw)
    .replace(/\{\{\s*major\s*\}\}/g, String(v.major))
    .replace(/\{\{\s*minor\s*\}\}/g, String(v.minor))
    .replace(/\{\{\s*patch\s*\}\}/g, String(v.patch));
}

/** The tag values (no image name) the rules give for these git facts, in rule order, deduplicated. */
export function tagValues(rules: readonly TagRule[], facts: GitFacts): string[] {
  const out: string[] = [];
  const semver = parseSemverTag(facts.tag);
  for (const rule of rules) {
    let value: string | undefined;
    switch (rule.type) {
      case 'semver':
        value = semver ? semverTag(rule.pattern, semver) : undefined;
        break;
      case 'ref':
        value = rule.event === 'branch' ? facts.branch : facts.tag;
        break;
      case 'sha':
        value = facts.sha ? `${rule.prefix ?? 'sha-'}${facts.sha.slice(0, rule.length ?? 7)}` : undefined;
        break;
      case 'raw':
        value = rule.value;
        break;
      case 'latest':
        value = facts.branch !== undefined && facts.branch === facts.defaultBranch ? 'latest' : undefined;
        break;
    }
    if (value === undefined || value === '') continue;
    const tag = sanitizeTag(value);
    if (tag && !out.includes(tag)) out.push(tag);
  }
  return out;
}

/** Distinct image names (repository parts) of a service's tags, first tag's first. */
export function imageNames(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const n = repositoryOf(t);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * Generated tags applied to each image name of the service (the repository part of its tags, the first
 * tag's first), e.g. rules [sha] on `reg/app:1` → `reg/app:sha-abc1234`. Tags already present are not repeated.
 */
export function generateTags(rules: readonly TagRule[], facts: GitFacts, serviceTags: readonly string[]): string[] {
  const values = tagValues(rules, facts);
  const out: string[] = [];
  for (const name of imageNames(serviceTags)) {
    for (const v of values) {
      const ref = `${name}:${v}`;
      if (!serviceTags.includes(ref) && !out.includes(ref)) out.push(ref);
    }
  }
  return out;
}
