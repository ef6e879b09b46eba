import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCommand, type RunFn } from '../../../run/exec';
import { parseLineHistory } from '../../../run/git';
import { historyQueryOf, jsonKeyLineTest, lastInputCommit, lastKeyChange, type FileHistories, type HistoryQuery } from './source-epoch';

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

  test.each([
    ['a.b', '    "a.b": "h1",', true],
    ['a.b', '    "aXb": "h1",', false],
    ['a', '  "ab": "h1",', false],
    ['a(1)', '"a(1)":"h"', true],
    ['a', '  "x": "a",', false],
    ['a"b', '  "a\\"b": "h",', true],
  ])('the line test of key %s on %s: %s', (key, line, want) => expect(jsonKeyLineTest(key).test(line)).toBe(want));
});

describe('parseLineHistory and lastKeyChange: one walk of a file answers every key', () => {
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);
  const C = 'c'.repeat(40);
  const out = [
    `\0${A} 300 ${B}`,
    '',
    'diff --git a/lock.json b/lock.json',
    '--- a/lock.json',
    '+++ b/lock.json',
    '@@ -3 +3 @@',
    '-    "b": "h1",',
    '+    "b": "h2",',
    `\0${B} 200 ${C}`,
    '',
    'diff --git a/lock.json b/lock.json',
    '--- a/lock.json',
    '+++ b/lock.json',
    '@@ -2,0 +3 @@',
    '+    "c": "h1",',
    `\0${C} 100`,
    '',
    'diff --git a/lock.json b/lock.json',
    'new file mode 100644',
    '--- /dev/null',
    '+++ b/lock.json',
    '@@ -0,0 +1,4 @@',
    '+{',
    '+    "a": "h1",',
    '+    "b": "h1",',
    '+}',
    '',
  ].join('\n');
  const history = parseLineHistory(out);

  test('commits newest first, with the lines their hunks add or remove (no file headers)', () => {
    expect(history.map((h) => [h.commit.sha[0], h.commit.time, h.commit.parentless, h.lines.length])).toEqual([
      ['a', 300, false, 2],
      ['b', 200, false, 1],
      ['c', 100, true, 4],
    ]);
  });

  test.each([
    ['b', A],
    ['c', B],
    ['a', C],
    ['never', undefined],
  ])('key %s last changed in %s', (key, sha) => expect(lastKeyChange(history, key)?.sha).toBe(sha));
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
    ['a key no commit wrote', { pathspecs: [], jsonKeys: [{ file: 'lock.json', key: 'c' }] }, undefined],
    ['a key whose name another contains is not that key', { pathspecs: [], jsonKeys: [{ file: 'lock.json', key: 'services' }] }, 'one'],
  ])('%s', async (_, query, expected) => {
    const found = await lastInputCommit(query, root);
    expect(found?.sha).toBe(expected && shas[expected]);
    if (expected === 'one') expect(found).toEqual({ sha: shas.one, time: Date.parse('2024-01-01T00:00:00Z') / 1000, parentless: true });
  });

  test('the tasks of one run walk a JSON file once: one git for the lock entries of every service, one per task for its files', async () => {
    const seen: string[][] = [];
    const counting: RunFn = (argv, o) => {
      seen.push([...argv]);
      return runCommand(argv, o);
    };
    const histories: FileHistories = new Map();
    const asked = await Promise.all(
      ['a', 'b', 'a'].map((key) =>
        lastInputCommit({ pathspecs: [':(glob)a/app.txt'], jsonKeys: [{ file: 'lock.json', key }] }, root, counting, histories),
      ),
    );
    expect(asked.map((c) => c?.sha)).toEqual([shas.one, shas['b-lock'], shas.one]);
    expect(seen.filter((a) => a.includes('-p'))).toHaveLength(1);
    expect(seen.filter((a) => a.includes('-1'))).toHaveLength(3);
  });

  test('a JSON file git cannot read: that part has no commit, the files still answer', async () => {
    const found = await lastInputCommit({ pathspecs: [':(glob)a/app.txt'], jsonKeys: [{ file: 'missing.json', key: 'a' }] }, root);
    expect(found?.sha).toBe(shas.one);
  });
});
