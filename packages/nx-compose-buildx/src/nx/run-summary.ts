/**
 * The closing summary of a run: one row per service × platform with the short digest, the
 * compressed size, what happened to the image (built, pushed, reused, from Nx's cache, failed,
 * skipped) and how long it took, plus the docker-verify result when that ran too. Pure: the
 * post-tasks hook (post-tasks-execution.ts) reads the task results and metadata files and
 * prints what these functions format.
 */
import { escapeControls } from '../run/log';

/** What became of one image task. */
/** `not run`: no build or push of the image ran in this run (a docker-verify alone, say). */
export type ImageOutcome = 'built' | 'pushed' | 'reused' | 'cached' | 'failed' | 'skipped' | 'not run';
export type VerifyOutcome = 'ok' | 'failed' | 'cached' | 'skipped';

export interface SummaryRow {
  service: string;
  /** '' when the platform is the builder's default (none declared). */
  platform: string;
  digest?: string;
  /** Compressed size in bytes (the sum of the layers of the platform's manifest), when known. */
  bytes?: number;
  outcome: ImageOutcome;
  seconds?: number;
  verify?: VerifyOutcome;
}

/** The target kinds the summary reports, as the plugin names them (options may rename them). */
export interface SummaryTargetNames {
  build: string;
  push: string;
  verify: string;
}

export type TaskKind = 'build' | 'push' | 'verify';

/** `docker-push` → push; `docker-build--linux-arm64` → build (per platform); anything else: not ours. */
export function taskKind(target: string, names: SummaryTargetNames): { kind: TaskKind; perPlatform: boolean } | undefined {
  for (const kind of ['build', 'push', 'verify'] as const) {
    const name = names[kind];
    if (target === name) return { kind, perPlatform: false };
    if (kind !== 'verify' && target.startsWith(`${name}--`)) return { kind, perPlatform: true };
  }
  return undefined;
}

/** Nx's task status → what the summary says about the image. */
export function imageOutcome(status: string, kind: 'build' | 'push', reused: boolean): ImageOutcome {
  if (status === 'local-cache' || status === 'remote-cache' || status === 'local-cache-kept-existing') return 'cached';
  if (status === 'success') return reused ? 'reused' : kind === 'push' ? 'pushed' : 'built';
  if (status === 'skipped' || status === 'stopped') return 'skipped';
  return 'failed';
}

export function verifyOutcome(status: string): VerifyOutcome {
  if (status === 'success') return 'ok';
  if (status === 'local-cache' || status === 'remote-cache' || status === 'local-cache-kept-existing') return 'cached';
  if (status === 'skipped' || status === 'stopped') return 'skipped';
  return 'failed';
}

/** One image task's contribution, before rows of the same service × platform are merged. */
export interface ImageTaskRows {
  kind: 'build' | 'push';
  perPlatform: boolean;
  rows: SummaryRow[];
}

/**
 * Merges the rows of every image task into one row per service × platform. A push says more
 * than a build of the same image, and a per-platform task more than the aggregate that only
 * re-assembles its digests (its time is the manifest's, not the build's); the aggregate still
 * fills in a digest the per-platform task lacks.
 */
export function mergeRows(tasks: readonly ImageTaskRows[], verified: ReadonlyMap<string, VerifyOutcome>): SummaryRow[] {
  const rank = (t: ImageTaskRows) => (t.kind === 'push' ? 2 : 0) + (t.perPlatform ? 1 : 0);
  const byKey = new Map<string, { row: SummaryRow; rank: number }>();
  for (const task of [...tasks].sort((a, b) => rank(a) - rank(b))) {
    for (const row of task.rows) {
      const key = `${row.service}\u0000${row.platform}`;
      const prev = byKey.get(key);
      const merged: SummaryRow = prev ? { ...prev.row, ...definedOnly(row) } : { ...row };
      byKey.set(key, { row: merged, rank: rank(task) });
    }
  }
  const rows = [...byKey.values()].map(({ row }) => {
    const v = verified.get(row.service);
    return v ? { ...row, verify: v } : row;
  });
  for (const [service, v] of verified) {
    if (!rows.some((r) => r.service === service)) rows.push({ service, platform: '', outcome: 'not run', verify: v });
  }
  return rows.sort((a, b) => a.service.localeCompare(b.service) || a.platform.localeCompare(b.platform));
}

function definedOnly(row: SummaryRow): Partial<SummaryRow> {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) as Partial<SummaryRow>;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * 1234567 → "1.2 MiB"; under 1 KiB stays exact ("512 B"); not a size → `unknown` ("-" in this
 * summary; `npm run demo`'s table, which uses these too, shows "?").
 */
export function humanSize(bytes: number | undefined, unknown = '-'): string {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return unknown;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  // 1023.96 KiB would print as "1024.0 KiB": carry into the next unit instead.
  if (Number(value.toFixed(1)) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** "sha256:0123456789abcdef…" → "0123456789ab"; anything else → `unknown` (as for humanSize). */
export function shortDigest(digest: string | undefined, unknown = '-'): string {
  const m = /^sha256:([0-9a-f]{12})[0-9a-f]*$/.exec(digest ?? '');
  return m ? m[1]! : unknown;
}

function seconds(s: number | undefined): string {
  return typeof s === 'number' && Number.isFinite(s) ? `${s.toFixed(1)} s` : '-';
}

/** Values come from compose files: nothing in them may draw on the terminal or break a table. */
const cellText = escapeControls;

const COLUMNS: Array<{ title: string; cell: (r: SummaryRow) => string; right?: boolean }> = [
  { title: 'SERVICE', cell: (r) => cellText(r.service) },
  { title: 'PLATFORM', cell: (r) => r.platform || '(default)' },
  { title: 'DIGEST', cell: (r) => shortDigest(r.digest) },
  { title: 'SIZE', cell: (r) => humanSize(r.bytes), right: true },
  { title: 'IMAGE', cell: (r) => r.outcome },
  { title: 'TIME', cell: (r) => seconds(r.seconds), right: true },
  { title: 'VERIFY', cell: (r) => r.verify ?? '-' },
];

/** Columns that say something: VERIFY only when a docker-verify ran. */
function columnsFor(rows: readonly SummaryRow[]) {
  return rows.some((r) => r.verify) ? COLUMNS : COLUMNS.filter((c) => c.title !== 'VERIFY');
}

/** The table for the terminal (aligned text, no trailing newline); '' for no rows. */
export function formatSummaryTable(rows: readonly SummaryRow[]): string {
  if (!rows.length) return '';
  const columns = columnsFor(rows);
  const cells = rows.map((r) => columns.map((c) => c.cell(r)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The same table as GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY`; '' for no rows. */
export function formatSummaryMarkdown(rows: readonly SummaryRow[]): string {
  if (!rows.length) return '';
  const columns = columnsFor(rows);
  const escape = (v: string) => v.replace(/\|/g, '\\|');
  const header = `| ${columns.map((c) => c.title.toLowerCase()).join(' | ')} |`;
  const rule = `| ${columns.map((c) => (c.right ? '---:' : '---')).join(' | ')} |`;
  const body = rows.map(
    (r) => `| ${columns.map((c) => escape(c.title === 'DIGEST' && r.digest ? `\`${shortDigest(r.digest)}\`` : c.cell(r))).join(' | ')} |`,
  );
  return ['### nx-compose-buildx', '', header, rule, ...body, ''].join('\n');
}

/** One line under the table: how many images of each outcome, and how the verifies went. */
export function summaryTotals(rows: readonly SummaryRow[]): string {
  const count = <T extends string>(values: T[], order: readonly T[]) => {
    const counts = new Map<T, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return order.filter((o) => counts.has(o)).map((o) => `${counts.get(o)} ${o}`);
  };
  const images = rows.filter((r) => r.outcome !== 'not run');
  const parts = images.length
    ? [
        `${images.length} image(s): ${count(
          images.map((r) => r.outcome),
          ['built', 'pushed', 'reused', 'cached', 'failed', 'skipped'] as const,
        ).join(', ')}`,
      ]
    : [];
  const verified = rows.flatMap((r) => (r.verify ? [r.verify] : []));
  if (verified.length) parts.push(`docker-verify: ${count(verified, ['ok', 'failed', 'cached', 'skipped'] as const).join(', ')}`);
  return parts.join('; ');
}
