// Statistics and table printing for scripts/bench.mjs.
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a, b) => (a !== undefined && b ? `${(a / b).toFixed(2)}x` : '—');

/**
 * One scenario's rows. `runs`: tool label → ms[]; `ours`: label of ours; `peers`: labels compared
 * with ours; `limit`: label of the physical limit (optional). Returns markdown lines.
 */
export function scenarioTable(title, runs, { ours, limit, notes = [] }) {
  const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.length ? median(v) : undefined]));
  const lines = [`#### ${title}`, '', '| tool | median | min–max | ours/this | ours/limit |', '|---|---|---|---|---|'];
  for (const [label, xs] of Object.entries(runs)) {
    if (!xs.length) continue;
    const isOurs = label === ours;
    lines.push(
      `| ${isOurs ? `**${label}**` : label} | ${sec(med[label])} | ${sec(Math.min(...xs))}–${sec(Math.max(...xs))} | ${isOurs ? '—' : ratio(med[ours], med[label])} | ${isOurs && limit && med[limit] ? ratio(med[ours], med[limit]) : '—'} |`,
    );
  }
  for (const n of notes) lines.push('', n);
  lines.push('');
  return { lines, med };
}
