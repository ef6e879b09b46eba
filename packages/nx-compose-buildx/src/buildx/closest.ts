/** "Did you mean" for a mistyped name: the nearest candidate by edit distance, when it is near enough. */
export function closest(raw: string, candidates: readonly string[]): string | undefined {
  const s = raw.toLowerCase();
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = levenshtein(s, c.toLowerCase());
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(s.length / 4)) && best.c !== raw ? best.c : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
