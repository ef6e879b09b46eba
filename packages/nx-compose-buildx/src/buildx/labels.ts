/**
 * OCI annotation labels (org.opencontainers.image.*). Computed by the executors at RUN time only —
 * never put into target options — so a build date or commit does not leak into Nx cache keys.
 */
import { parseSemverTag, sanitizeTag, type GitFacts } from './tags';

export const OCI = {
  created: 'org.opencontainers.image.created',
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
  version: 'org.opencontainers.image.version',
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

/** version label: the semver tag (v stripped), else the branch, else the short sha. */
export function versionOf(facts: GitFacts): string | undefined {
  const semver = parseSemverTag(facts.tag);
  if (semver) return semver.raw;
  if (facts.branch) return sanitizeTag(facts.branch);
  if (facts.sha) return facts.sha.slice(0, 7);
  return undefined;
}

/**
 * `created` is the commit time of HEAD (or SOURCE_DATE_EPOCH), not the clock:
 * rebuilding the same commit then gives the same image digest, which is what lets
 * a fresh runner prove it reused the registry cache. The clock is the fallback.
 */
export function createdAt(facts: GitFacts | undefined, now: Date, sourceDateEpoch?: string): Date {
  return reproducibleTime(facts, sourceDateEpoch) ?? now;
}

/** SOURCE_DATE_EPOCH, else HEAD's commit time; undefined when neither is known. */
export function reproducibleTime(facts: GitFacts | undefined, sourceDateEpoch?: string): Date | undefined {
  if (sourceDateEpoch && /^\d+$/.test(sourceDateEpoch)) return new Date(Number(sourceDateEpoch) * 1000);
  const commit = facts?.commitTime ? new Date(facts.commitTime) : undefined;
  return commit && !Number.isNaN(commit.getTime()) ? commit : undefined;
}

/** `sourceDateEpoch` is the caller's SOURCE_DATE_EPOCH (this stage reads no environment). */
export function ociLabels(facts: GitFacts | undefined, now: Date, sourceDateEpoch?: string): Record<string, string> {
  const labels: Record<string, string> = { [OCI.created]: rfc3339(createdAt(facts, now, sourceDateEpoch)) };
  if (!facts) return labels;
  if (facts.sha) labels[OCI.revision] = facts.sha;
  if (facts.remoteUrl) labels[OCI.source] = stripCredentials(facts.remoteUrl);
  const version = versionOf(facts);
  if (version) labels[OCI.version] = version;
  return labels;
}

/** OCI labels first, the service's own labels win on a clash; `enabled: false` adds none. */
export function withOciLabels(
  labels: Record<string, string>,
  facts: GitFacts | undefined,
  now: Date,
  enabled = true,
  sourceDateEpoch?: string,
): Record<string, string> {
  return enabled ? { ...ociLabels(facts, now, sourceDateEpoch), ...labels } : { ...labels };
}
