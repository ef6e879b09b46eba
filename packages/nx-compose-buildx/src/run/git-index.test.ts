import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitIndexPath, isTrackedPath, listTrackedFiles, parseLsFiles } from './git-index';
import type { RunFn } from './exec';

describe('parseLsFiles / isTrackedPath', () => {
  const tracked = parseLsFiles('compose.yaml\0svc/a/.env\0odd name\n.yaml\0');
  it.each([
    ['/ws/compose.yaml', true],
    ['/ws/svc/a/.env', true],
    ['/ws/odd name\n.yaml', true],
    ['/ws/svc', true],
    ['/ws/svc/a', true],
    ['/ws', true],
    ['/ws/.env', false],
    ['/ws/svc/b', false],
    ['/ws/compose', false],
    ['/ws2/compose.yaml', false],
    ['/compose.yaml', false],
  ])('%j tracked: %s', (abs, expected) => expect(isTrackedPath(tracked, '/ws')(abs)).toBe(expected));
});

describe('listTrackedFiles', () => {
  it('runs one git ls-files in the workspace root; a failure (not a checkout) gives undefined', async () => {
    const calls: (readonly string[])[] = [];
    const run =
      (exitCode: number): RunFn =>
      async (argv, options) => (calls.push([...argv, options.cwd]), { exitCode, stdout: 'a\0b/c\0', stderr: '', command: '' });
    expect([...(await listTrackedFiles('/ws', run(0)))!.files]).toEqual(['a', 'b/c']);
    expect(await listTrackedFiles('/ws', run(128))).toBeUndefined();
    expect(calls[0]).toEqual(['git', 'ls-files', '-z', '--cached', '/ws']);
  });
});

describe('gitIndexPath', () => {
  const base = mkdtempSync(join(tmpdir(), 'nxcb-gitindex-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  mkdirSync(join(base, 'repo/.git'), { recursive: true });
  mkdirSync(join(base, 'repo/sub/ws'), { recursive: true });
  mkdirSync(join(base, 'wt'), { recursive: true });
  writeFileSync(join(base, 'wt/.git'), `gitdir: ${join(base, 'repo/.git/worktrees/wt')}\n`);
  it.each([
    ['the workspace is the repository', 'repo', {}, '.git/index'],
    ['the workspace is a folder of it', 'repo/sub/ws', {}, '../../.git/index'],
    ['a worktree (.git is a gitdir: file)', 'wt', {}, '../repo/.git/worktrees/wt/index'],
  ])('%s', (_name, ws, env, expected) => expect(gitIndexPath(join(base, ws), env)).toBe(expected));

  it('GIT_INDEX_FILE wins (workspace-relative, as the graph cache stats it)', () => {
    const index = join(base, 'elsewhere/index');
    expect(join(base, 'repo', gitIndexPath(join(base, 'repo'), { GIT_INDEX_FILE: index })!)).toBe(index);
  });
});
