import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCommand } from '../../../run/exec';
import { historyQueryOf, jsonKeyLineRegExp, lastInputCommit, type HistoryQuery } from './source-epoch';

describe('historyQueryOf: Nx inputs → git pathspecs and JSON entries', () => {
  test.each<[string, Parameters<typeof historyQueryOf>[0], Record<string, string[]>, string, HistoryQuery]>([
    [
      'globs and negations; dependencies and env skipped',
      ['{workspaceRoot}/src/a/**/*', '!{workspaceRoot}/src/a/docs/**/*', '^docker-image', { env: 'X' }, '{workspaceRoot}/src/a/Dockerfile'],
      {},
      'src/a',
      {
        pathspecs: [':(glob)src/a/**/*', ':(glob)src/a/Dockerfile', ':(exclude,glob)src/a/docs/**/*'],
        jsonKeys: [],
      },
    ],
    [
      'named inputs expanded, the lock entry becomes a JSON key',
      ['docker-image', '^docker-image'],
      {
        'docker-image': ['{projectRoot}/app.txt', '{workspaceRoot}/**/*'] as never,
      },
      'svc',
      { pathspecs: [':(glob)**/*', ':(glob)svc/app.txt'], jsonKeys: [] },
    ],
    [
      'a json field',
      [{ json: '{workspaceRoot}/nx-compose-buildx.lock.json', fields: ['services.a%2Eb'] }],
      {},
      '.',
      { pathspecs: [], jsonKeys: [{ file: 'nx-compose-buildx.lock.json', key: 'a%2Eb' }] },
    ],
    ['only negations: nothing to ask', ['!{workspaceRoot}/x'], {}, '.', { pathspecs: [], jsonKeys: [] }],
    [
      'a named input that names itself does not loop',
      ['n'],
      { n: ['n', '{workspaceRoot}/f'] },
      '.',
      { pathspecs: [':(glob)f'], jsonKeys: [] },
    ],
  ])('%s', (_, inputs, named, root, expected) => {
    expect(historyQueryOf(inputs, named, root)).toEqual(expected);
  });

  test('the JSON key regexp escapes what ERE would read', () => {
    expect(jsonKeyLineRegExp('a.b')).toBe('^[[:space:]]*"a\\.b":');
  });
});

describe('lastInputCommit, against real git', () => {
  let root: string;
  const shas: Record<string, string> = {};
  const git = async (args: string[], date?: string) => {
    const r = await runCommand(['git', ...args], {
      cwd: root,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.invalid',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.invalid',
        ...(date ? { GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date } : {}),
      },
    });
    if (r.exitCode !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  const commit = async (name: string, files: Record<string, string>, date: string) => {
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), text);
    }
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', name], date);
    shas[name] = await git(['rev-parse', 'HEAD']);
  };
  const lock = (a: string, b: string) => `${JSON.stringify({ services: { a, b } }, null, 2)}\n`;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'nxcb-epoch-'));
    await git(['init', '-q', '-b', 'main']);
    await commit('one', { 'a/app.txt': '1', 'a/docs/x.md': '1', 'lock.json': lock('h1', 'h1') }, '2024-01-01T00:00:00Z');
    await commit('a-docs', { 'a/docs/x.md': '2' }, '2024-01-02T00:00:00Z');
    await commit('b-lock', { 'lock.json': lock('h1', 'h2') }, '2024-01-03T00:00:00Z');
    await commit('other', { 'README.md': 'x' }, '2024-01-04T00:00:00Z');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test.each<[string, HistoryQuery, string | undefined]>([
    ['an excluded folder does not count', { pathspecs: [':(glob)a/**/*', ':(exclude,glob)a/docs/**/*'], jsonKeys: [] }, 'one'],
    ['without the exclusion it does', { pathspecs: [':(glob)a/**/*'], jsonKeys: [] }, 'a-docs'],
    ["another service's lock entry does not count", { pathspecs: [], jsonKeys: [{ file: 'lock.json', key: 'a' }] }, 'one'],
    ['its own does', { pathspecs: [], jsonKeys: [{ file: 'lock.json', key: 'b' }] }, 'b-lock'],
    ['the newest part wins', { pathspecs: [':(glob)a/app.txt'], jsonKeys: [{ file: 'lock.json', key: 'b' }] }, 'b-lock'],
    ['a path no commit touched', { pathspecs: [':(glob)nowhere/**'], jsonKeys: [] }, undefined],
    ['a pathspec that starts with - is a path, not a flag', { pathspecs: ['--all'], jsonKeys: [] }, undefined],
  ])('%s', async (_, query, expected) => {
    const found = await lastInputCommit(query, root);
    expect(found?.sha).toBe(expected && shas[expected]);
    if (expected === 'one') expect(found).toEqual({ sha: shas.one, time: Date.parse('2024-01-01T00:00:00Z') / 1000, parentless: true });
  });
});
