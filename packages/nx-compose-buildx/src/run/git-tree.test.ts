import { describe, expect, it } from 'vitest';
import { parseLsTree, resolveCommit } from './git-tree';

describe('parseLsTree', () => {
  it('files with their blob ids, folders, and the names in each folder; submodules left out', () => {
    const out = [
      '040000 tree aaa\tapi',
      '100644 blob b1\tapi/Dockerfile',
      '100644 blob b2\tcompose.yaml',
      '160000 commit c1\tvendor/sub',
      '100644 blob b3\tname with\ttab',
      '120000 blob b4\tapi/link',
    ].join('\0');
    const tree = parseLsTree(`${out}\0`, 'abc');
    expect([...tree.files]).toEqual([
      ['api/Dockerfile', 'b1'],
      ['compose.yaml', 'b2'],
      ['name with\ttab', 'b3'],
      ['api/link', 'b4'],
    ]);
    expect([...tree.links]).toEqual(['api/link']);
    expect([...tree.dirs]).toEqual(['', 'api']);
    expect(tree.children.get('')).toEqual(['api', 'compose.yaml', 'name with\ttab']);
    expect(tree.children.get('api')).toEqual(['Dockerfile', 'link']);
  });
});

describe('resolveCommit', () => {
  it('never hands git a value starting with -', async () => {
    const seen: string[][] = [];
    const run = async (argv: string[]) => (seen.push(argv), { exitCode: 0, stdout: 'x\n', stderr: '', command: '' });
    expect(await resolveCommit('--output=/tmp/x', '/w', run)).toBeUndefined();
    expect(seen).toEqual([]);
    expect(await resolveCommit('main', '/w', run)).toBe('x');
    expect(seen).toEqual([['git', 'rev-parse', '--verify', '--quiet', 'main^{commit}']]);
  });
});
