/**
 * OCI annotation labels (org.opencontainers.image.*). Computed by the executors at RUN time only —
 * never put into target options — so a build date or commit does not leak into Nx cache keys.
 */
import type { GitFacts } from './tags';

export const OCI = {
  created: 'org.opencontainers.image.created',
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
} as const;

/** RFC 3339 in UTC, whole seconds: `2024-05-01T12:00:00Z`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Removes credentials from a remote URL: `https://user:token@host/o/r.git` → `https://host/o/r.git`.
 * scp-like remotes (`git@host:o/r.git`) become `https://host/o/r.git`: the label wants a URL.
 */
export function stripCredentials(url: string): string {
  const u = url.trim();
  const scp = /^[^@/:\s]+@([^:/\s]+):(?!\/\/)(.+)$/.exec(u);
  if (scp) return `https://${scp[1]}/${scp[2]!.replace(/^\/+/, '')}`;
  try {
    const parsed = new URL(u);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return u.replace(/\/\/[^@/]*@/, '//');
  }
}

/**
 * The commit an image's content comes from: the last one that changed the service's inputs
 * (nx/executors/shared/source-epoch.ts). `time` in seconds since the epoch.
 */
export interface InputCommit {
  sha: string;
  time: number;
}

/**
 * `created` is SOURCE_DATE_EPOCH, else the time of the last commit that changed the inputs, else
 * HEAD's commit time, never the clock while one is known: rebuilding unchanged inputs at a later
 * commit then gives the same image digest. The clock is the fallback.
 */
export function createdAt(facts: GitFacts | undefined, now: Date, sourceDateEpoch?: string, inputCommit?: InputCommit): Date {
  return reproducibleTime(facts, sourceDateEpoch, inputCommit) ?? now;
}

/** SOURCE_DATE_EPOCH, else the inputs' last commit, else HEAD's commit time; undefined when none is known. */
export function reproducibleTime(facts: GitFacts | undefined, sourceDateEpoch?: string, inputCommit?: InputCommit): Date | undefined {
  if (sourceDateEpoch && /^\d+$/.test(sourceDateEpoch)) return new Date(Number(sourceDateEpoch) * 1000);
  if (inputCommit) return new Date(inputCommit.time * 1000);
  const commit = facts?.commitTime ? new Date(facts.commitTime) : undefined;
  return commit && !Number.isNaN(commit.getTime()) ? commit : undefined;
}

/**
 * `sourceDateEpoch` is the caller's SOURCE_DATE_EPOCH (this stage reads no environment). Every
 * label describes the content, so that it follows the same rule as the epoch: `revision` is the
 * inputs' last commit (HEAD without one), `source` the repository. No `version`: a release tag or
 * a branch name is not a property of the content (it would give an unchanged image a new digest
 * at every release); the image's tags carry the version.
 */
export function ociLabels(
  facts: GitFacts | undefined,
  now: Date,
  sourceDateEpoch?: string,
  inputCommit?: InputCommit,
): Record<string, string> {
  const labels: Record<string, string> = { [OCI.created]: rfc3339(createdAt(facts, now, sourceDateEpoch, inputCommit)) };
  if (!facts) return labels;
  const revision = inputCommit?.sha ?? facts.sha;
  if (revision) labels[OCI.revision] = revision;
  if (facts.remoteUrl) labels[OCI.source] = stripCredentials(facts.remoteUrl);
  return labels;
}

/** OCI labels first, the service's own labels win on a clash; `enabled: false` adds none. */
export function withOciLabels(
  labels: Record<string, string>,
  facts: GitFacts | undefined,
  now: Date,
  enabled = true,
  sourceDateEpoch?: string,
  inputCommit?: InputCommit,
): Record<string, string> {
  return enabled ? { ...ociLabels(facts, now, sourceDateEpoch, inputCommit), ...labels } : { ...labels };
}
