import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrunePredicate, contextInputs } from './dockerignore';
import { fileExistsIn, listContext, listContextFiles } from './fs-edge';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'graph-fs-'));
  const files = [
    'Dockerfile',
    '.dockerignore',
    'src/a.ts',
    'src/b/c.ts',
    'node_modules/x/index.js',
    'node_modules/y/z/w.js',
    '.git/HEAD',
    'docs/keep.md',
    'docs/drop.md',
    'a [1].txt',
  ];
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), f);
  }
  symlinkSync('src', join(root, 'link-to-src'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('listContextFiles', () => {
  it('lists every file, sorted, skipping .git and untracked folders (node_modules), symlinks as files', () => {
    expect(listContextFiles(root)).toEqual([
      '.dockerignore',
      'Dockerfile',
      'a [1].txt',
      'docs/drop.md',
      'docs/keep.md',
      'link-to-src',
      'src/a.ts',
      'src/b/c.ts',
    ]);
    expect(listContext(root).walkedDirs).toEqual(['', 'docs', 'src', 'src/b']);
    expect(listContext(root).links).toEqual({ 'link-to-src': 'src' });
  });

  it('prunes wholly ignored folders without walking them, and reports them', () => {
    const patterns = ['node_modules', 'docs', '!docs/keep.md'];
    const listing = listContext(root, createPrunePredicate(patterns));
    expect(listing.prunedDirs).toEqual(['node_modules']);
    expect(listing.files).not.toContain('node_modules/x/index.js');
    expect(listing.files).toContain('docs/drop.md');
    expect(
      contextInputs({
        contextDir: 'svc',
        files: listing.files,
        prunedDirs: listing.prunedDirs,
        ignorePatterns: patterns,
        alwaysInclude: [],
      }),
    ).toEqual(['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/docs/drop.md', '!{workspaceRoot}/svc/node_modules/**/*']);
  });

  it('fileExistsIn sees files, not folders', () => {
    const exists = fileExistsIn(root);
    expect(exists('Dockerfile')).toBe(true);
    expect(exists('src')).toBe(false);
    expect(exists('nope')).toBe(false);
  });
});
