/**
 * What every nx command loads from the plugin: src/index.ts and its static, non-type imports.
 * A warm graph needs only the graph cache; the rest is loaded on a miss (plugin.ts), at the end
 * of a run (postTasksExecution) or by an executor.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '..');

/** Static imports and re-exports that are values at run time (`import type` and `import()` excluded). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf-8');
  const specs: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)([^'";]*?)\s*from\s+'([^']+)'/gm)) {
    const names = m[1]
      .replace(/[{}]/g, '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    if (names.length && names.every((n) => n.startsWith('type '))) continue;
    specs.push(m[2]);
  }
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) specs.push(m[1]);
  return specs;
}

function closure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of runtimeImports(file)) {
      if (!spec.startsWith('.')) packages.add(spec);
      else {
        const base = join(dirname(file), spec.replace(/\.js$/, ''));
        visit(existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts'));
      }
    }
  };
  visit(entry);
  return { files: [...files].map((f) => relative(SRC, f)).sort(), packages: [...packages].sort() };
}

describe('the plugin entry at graph time', () => {
  const { files, packages } = closure(join(SRC, 'index.ts'));

  it('loads only the graph cache and its warnings, no package but node builtins', () => {
    expect(files).toEqual([
      'index.ts',
      'nx/graph-cache.ts',
      'nx/notice-once.ts',
      'nx/plugin-warnings.ts',
      'nx/plugin.ts',
      'nx/service-lock-file.ts',
    ]);
    expect(packages.filter((p) => !p.startsWith('node:'))).toEqual([]);
  });

  it('the closure walk sees what create-nodes.ts loads (the test can fail)', () => {
    const miss = closure(join(SRC, 'nx/create-nodes.ts'));
    expect(miss.files).toContain('compose/index.ts');
    expect(miss.packages).toContain('dockerfile-ast');
    expect(miss.files.some((f) => /executors|generators/.test(f))).toBe(false);
    // Of the run layer, only the one `git ls-files` of the lock's view, run without execa (runQuery).
    expect(miss.files.filter((f) => f.startsWith('run/'))).toEqual(['run/exec.ts', 'run/git-index.ts', 'run/log.ts']);
    expect(miss.packages).not.toContain('execa');
    // The yaml library is required only for the compose files the plain block reader leaves to it.
    expect(miss.packages).not.toContain('yaml');
  });
});
