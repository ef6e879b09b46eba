/** Compose project name: explicit > top-level `name:` > folder basename, normalised as compose-go does. */
import * as path from 'node:path';

/** Lowercase, keep only [a-z0-9_-], and drop leading `_`/`-`. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

export function resolveProjectName(options: { explicit?: string; fromFiles?: unknown; projectDir: string }): string | undefined {
  const candidates = [
    options.explicit,
    typeof options.fromFiles === 'string' ? options.fromFiles : undefined,
    path.posix.basename(options.projectDir),
  ];
  for (const c of candidates) {
    if (c === undefined || c === '') continue;
    const n = normalizeProjectName(c);
    if (n !== '') return n;
  }
  return undefined;
}
