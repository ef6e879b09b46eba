// Pure formatting for `npm run demo` (scripts/demo.mjs): no I/O, no Docker. Sizes and digests are
// shown by the plugin's own run-summary functions, which demo.mjs passes in (as it passes the
// plugin's uname table): one home for each, "?" where the value is unknown.

const COLUMNS = [
  { title: 'COMPOSE', get: (r) => r.compose ?? '' },
  { title: 'SERVICE', get: (r) => r.service },
  { title: 'PLATFORM', get: (r) => r.platform },
  { title: 'DIGEST', get: (r, { shortDigest }) => shortDigest(r.digest, '?') },
  { title: 'SIZE', get: (r, { humanSize }) => humanSize(r.bytes, '?'), right: true },
  { title: 'UNAME -M', get: (r, { machines }) => machineCell(r, machines) },
];

/**
 * `machines(platform)`: every `uname -m` a correct run of that platform prints, first the usual one,
 * or undefined when unknown; the demo passes the plugin's own table (buildx/platform.ts).
 */
function machineCell(r, machines) {
  if (r.error) return `? (${r.error})`;
  if (!r.machine) return '?';
  const want = machines(r.platform);
  if (!want?.length) return r.machine;
  return want.includes(r.machine) ? `${r.machine} ok` : `${r.machine} WRONG (expected ${want[0]})`;
}

/** True when a row's `uname -m` is missing or not one its platform can report. */
export function rowProblem(r, machines) {
  if (r.error || !r.machine || !r.digest || typeof r.bytes !== 'number') return true;
  const want = machines(r.platform);
  return Boolean(want?.length) && !want.includes(r.machine);
}

/**
 * rows: [{ compose, service, platform, digest, bytes, machine, error? }], one per service x platform,
 * already in display order. Compose and service names are printed only where they change.
 * `plugin`: { machines (as for rowProblem), humanSize, shortDigest } — the last two are the
 * plugin's (nx/run-summary), called with "?" for an unknown value.
 * Returns the table as one string (no trailing newline).
 */
export function formatTable(rows, plugin) {
  const cells = rows.map((r, i) => {
    const prev = rows[i - 1];
    const sameCompose = prev && (prev.compose ?? '') === (r.compose ?? '');
    const sameService = sameCompose && prev.service === r.service;
    return COLUMNS.map((c) => {
      if (c.title === 'COMPOSE' && sameCompose) return '';
      if (c.title === 'SERVICE' && sameService) return '';
      return String(c.get(r, plugin));
    });
  });
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const line = (values) =>
    values
      .map((v, i) => (COLUMNS[i].right ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(COLUMNS.map((c) => c.title)), rule, ...cells.map(line)].join('\n');
}

/** [{ name, ms }] -> aligned "name  12.3s" lines plus a total line (total given separately). */
export function formatTimings(phases, totalMs) {
  const width = Math.max('total'.length, ...phases.map((p) => p.name.length));
  const secs = (ms) => `${(ms / 1000).toFixed(1)}s`.padStart(7);
  return [...phases.map((p) => `${p.name.padEnd(width)}  ${secs(p.ms)}`), `${'total'.padEnd(width)}  ${secs(totalMs)}`].join('\n');
}
