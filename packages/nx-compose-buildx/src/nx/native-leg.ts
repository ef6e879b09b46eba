/**
 * Native runners: one CI job per platform builds only its platform of each affected service, pushes
 * it by digest and writes one digest file per service and platform; a merge job assembles each
 * service's manifest list from those files (docker-merge). This module holds the facts both sides
 * share: which platforms a run is restricted to, where the digest files live, their names and
 * contents, and the coverage check. The file reads and writes are the two functions at the end.
 *
 *   NX_COMPOSE_BUILDX_PLATFORMS=linux/arm64[,linux/arm/v7]   (or the executor option onlyPlatforms)
 *   NX_COMPOSE_BUILDX_DIGESTS_DIR=dist/nxcb-digests           (or the executor option digestsDir)
 *   <dir>/<project>/<os>-<arch>[-<variant>].json               one file per service and platform
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageRefMatches, repositoryOf, withTagSuffix } from '../buildx/image-ref';
import { normalizePlatforms, platformSlug, platformTagSuffix } from '../buildx/platform';
import { childPathForWrite, isInsideWorkspace, workspacePathForWrite } from './containment';

type Env = Record<string, string | undefined>;

export const PLATFORMS_ENV = 'NX_COMPOSE_BUILDX_PLATFORMS';
export const DIGESTS_DIR_ENV = 'NX_COMPOSE_BUILDX_DIGESTS_DIR';
/** Where digest files go when neither the variable nor the option names a folder. */
export const DEFAULT_DIGESTS_DIR = 'dist/nxcb-digests';

/**
 * The platforms this run is restricted to, normalised, or undefined for an unrestricted run. The
 * option wins over the variable (it is set on purpose for one target); invalid entries throw one
 * error naming each.
 */
export function platformRestriction(option: readonly string[] | undefined, env: Env): string[] | undefined {
  if (option?.length) return normalizePlatforms(option);
  const raw = env[PLATFORMS_ENV]?.trim();
  if (!raw) return undefined;
  try {
    return normalizePlatforms(
      raw
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    );
  } catch (e) {
    throw new Error(`${PLATFORMS_ENV}=${raw}: ${(e as Error).message}`, { cause: e });
  }
}

/** The declared platforms this leg builds, in declared order. */
export function legPlatforms(declared: readonly string[], restriction: readonly string[]): string[] {
  const only = new Set(restriction);
  return normalizePlatforms(declared).filter((p) => only.has(p));
}

export function digestsDirOf(option: string | undefined, env: Env): string {
  return option || env[DIGESTS_DIR_ENV]?.trim() || DEFAULT_DIGESTS_DIR;
}

/** `<project>/<os>-<arch>[-<variant>].json`, relative to the digests folder. */
export function digestFileName(project: string, platform: string): string {
  return `${project}/${platformSlug(platform)}.json`;
}

/**
 * The tag a leg pushes on a builder that cannot push by digest (the `docker` driver says
 * "push-by-digest is currently not implemented"): one per repository and platform, in the
 * plugin's own `nxcb-` namespace, never a release tag. The merge reads the digest, not this tag.
 */
export function legTag(firstTag: string, platform: string): string {
  return `${repositoryOf(firstTag)}:nxcb-leg-${platformTagSuffix(platform)}`;
}

/** Drivers whose exporter pushes by digest; the `docker` driver (dockerd's BuildKit) does not. */
export function canPushByDigest(driver: string | undefined): boolean {
  return driver !== undefined && driver !== 'docker';
}

/**
 * A leg's cache location: the service's own, with the platform added, so that two legs (two runners
 * building one service at once) never overwrite each other's cache (buildx #3819): a registry ref's
 * tag, a GitHub Actions scope, a local folder. Inline cache travels in the image and stays as it is.
 */
export function legCacheEntry(entry: string, platform: string): string {
  const suffix = platformTagSuffix(platform);
  return entry
    .split(',')
    .map((field) => {
      const m = /^(ref|scope|src|dest)=(.+)$/.exec(field);
      if (!m) return field;
      const [, key, value] = m as unknown as [string, string, string];
      return `${key}=${key === 'ref' ? withTagSuffix(value, suffix) : `${value}-${suffix}`}`;
    })
    .join(',');
}

/** One platform of one service, as a leg pushed it (or found it in the registry cache). */
export interface DigestRecord {
  project: string;
  service: string;
  platform: string;
  /** Repository the digest lives in (`<registry>/<path>`, no tag). */
  repository: string;
  /** The platform's image manifest digest. */
  digest: string;
  /** true: found in the registry by its content key, nothing built. */
  reused: boolean;
  contentKey?: string;
  /** The service's tags, so that a dependent built on the same leg can find this image by the ref it names. */
  tags: string[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses one digest file; the reason it is not one, naming the file. */
export function parseDigestRecord(text: string, file: string): { record: DigestRecord } | { error: string } {
  let j: Partial<DigestRecord>;
  try {
    j = JSON.parse(text) as Partial<DigestRecord>;
  } catch (e) {
    return { error: `${file}: not JSON (${(e as Error).message})` };
  }
  if (!j || typeof j !== 'object') return { error: `${file}: not a digest record` };
  for (const key of ['project', 'service', 'platform', 'repository', 'digest'] as const) {
    if (typeof j[key] !== 'string' || !j[key]) return { error: `${file}: "${key}" is missing` };
  }
  if (!DIGEST.test(j.digest!)) return { error: `${file}: "digest" ${JSON.stringify(j.digest)} is not a sha256 digest` };
  let platform: string;
  try {
    platform = normalizePlatforms([j.platform!])[0]!;
  } catch (e) {
    return { error: `${file}: ${(e as Error).message}` };
  }
  if (/[\s@]|^-/.test(j.repository!)) return { error: `${file}: "repository" ${JSON.stringify(j.repository)} is not a repository` };
  const tags = Array.isArray(j.tags) ? j.tags.filter((t): t is string => typeof t === 'string') : [];
  return {
    record: {
      project: j.project!,
      service: j.service!,
      platform,
      repository: j.repository!,
      digest: j.digest!,
      reused: j.reused === true,
      ...(typeof j.contentKey === 'string' ? { contentKey: j.contentKey } : {}),
      tags,
    },
  };
}

/** Declared platforms against the records found: what the merge lacks, what it has beyond the declaration. */
export function coverage(declared: readonly string[], records: readonly DigestRecord[]): { missing: string[]; extra: string[] } {
  const want = normalizePlatforms(declared);
  const have = new Set(records.map((r) => r.platform));
  return { missing: want.filter((p) => !have.has(p)), extra: [...have].filter((p) => !want.includes(p)) };
}

/**
 * The images a dependent built on this leg must use instead of their tags (which still point at the
 * last merged image): for each ref it builds on that names another service's tag, `<repo>@<digest>`
 * of that service's image for this platform.
 */
export function pinnedRefs(refs: readonly string[], records: readonly DigestRecord[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ref of refs) {
    const r = records.find((rec) => rec.tags.some((t) => imageRefMatches(ref, t)));
    if (r) out[ref] = `${r.repository}@${r.digest}`;
  }
  return out;
}

/** The digests folder, checked to lie inside the workspace (it is written to, and read from). */
export function digestsFolder(root: string, dir: string): string {
  return workspacePathForWrite(root, dir, 'digestsDir');
}

/** Writes one record whole (temporary file, then rename): a reader never sees half a file. */
export function writeDigestRecord(root: string, dir: string, record: DigestRecord): string {
  const folder = digestsFolder(root, dir);
  const path = childPathForWrite(folder, digestFileName(record.project, record.platform), 'digest file');
  mkdirSync(join(path, '..'), { recursive: true });
  const temp = `${path}.${process.pid}-${Date.now()}.tmp`;
  writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(temp, path);
  return `${dir}/${digestFileName(record.project, record.platform)}`;
}

/**
 * The records of one project (`<dir>/<project>/*.json`), or of every project for one platform
 * (project undefined). Files that are not records are returned as problems, naming the file.
 */
export function readDigestRecords(
  root: string,
  dir: string,
  select: { project?: string; platform?: string },
): { records: DigestRecord[]; problems: string[] } {
  const folder = join(root, dir);
  if (!isInsideWorkspace(root, folder)) return { records: [], problems: [`digestsDir ${dir} lies outside the workspace`] };
  const records: DigestRecord[] = [];
  const problems: string[] = [];
  if (!existsSync(folder)) return { records, problems };
  const projects = select.project !== undefined ? [select.project] : readdirSync(folder);
  for (const project of projects) {
    const sub = join(folder, project);
    if (!existsSync(sub) || !isInsideWorkspace(root, sub)) continue;
    let names: string[];
    try {
      names = readdirSync(sub).filter((n) => n.endsWith('.json'));
    } catch {
      continue; // a file where a project folder would be
    }
    for (const name of names.sort()) {
      if (select.platform !== undefined && name !== `${platformSlug(select.platform)}.json`) continue;
      const file = `${dir}/${project}/${name}`;
      const parsed = parseDigestRecord(readFileSync(join(sub, name), 'utf8'), file);
      if ('error' in parsed) problems.push(parsed.error);
      else if (parsed.record.project !== project) problems.push(`${file}: holds project "${parsed.record.project}", not "${project}"`);
      else if (`${platformSlug(parsed.record.platform)}.json` !== name)
        problems.push(`${file}: holds platform ${parsed.record.platform}, not the one its name says`);
      else records.push(parsed.record);
    }
  }
  return { records, problems };
}
