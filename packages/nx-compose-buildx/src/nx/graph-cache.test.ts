import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { graphCacheWritesSettled, readGraphCache, workspaceDataDirectory, writeGraphCache, type GraphDependencies } from './graph-cache';
import { gitIn } from '../run/__fixtures__/git';

const RESULTS = [['compose.yaml', { projects: { ctx: { root: 'ctx', name: 'api' } } }]] as const;
const BASE = 'options-key-0123456789abcdef';

describe('the graph cache', () => {
  let root: string;
  const deps: GraphDependencies = {
    composeDirs: ['.'],
    files: ['compose.yaml', '.env'],
    stats: ['ctx', 'ctx/Dockerfile', 'ctx/Dockerfile.dockerignore', 'ctx/project.json', 'ctx/sub', 'ctx/sub/deeper/package.json', 'gone/x'],
    variables: ['NXCB_GRAPH_CACHE_TEST_TAG'],
  };

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'nxcb-graph-cache-'));
    writeFileSync(join(root, 'compose.yaml'), 'services: {}\n');
    mkdirSync(join(root, 'ctx/sub'), { recursive: true });
    writeFileSync(join(root, 'ctx/Dockerfile'), 'FROM scratch\n');
    delete process.env.NXCB_GRAPH_CACHE_TEST_TAG;
    await writeGraphCache(root, BASE, deps, RESULTS as never, ['a warning']);
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    delete process.env.NXCB_GRAPH_CACHE_TEST_TAG;
  });

  const read = () => readGraphCache(root, BASE);
  const written = (): GraphDependencies => {
    const dir = workspaceDataDirectory(root);
    const file = readdirSync(dir).find((f) => f.startsWith('nx-compose-buildx-') && f.endsWith('.json'))!;
    return JSON.parse(readFileSync(join(dir, file), 'utf-8')).dependencies;
  };

  it('a write not waited for has landed once graphCacheWritesSettled settles (what cleanups wait for)', async () => {
    rmSync(workspaceDataDirectory(root), { recursive: true, force: true });
    void writeGraphCache(root, BASE, deps, RESULTS as never, []);
    await graphCacheWritesSettled();
    expect(readdirSync(workspaceDataDirectory(root)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await read())?.results).toEqual(RESULTS);
  });

  it('answers from the cache while nothing it depends on changed', async () => {
    expect(await read()).toEqual({ results: RESULTS, warnings: ['a warning'] });
    expect(await readGraphCache(root, 'another-options-key')).toBeUndefined();
  });

  it('writes the entry through a temp file renamed into place, and leaves none behind', () => {
    expect(readdirSync(workspaceDataDirectory(root)).filter((f) => f.startsWith('nx-compose-buildx-'))).toEqual([
      `nx-compose-buildx-${BASE.slice(0, 16)}.json`,
    ]);
  });

  it('keeps no stat of an absent path whose folder it watches, and keeps the others', () => {
    expect(written().stats).toEqual(['ctx', 'ctx/Dockerfile', 'ctx/sub', 'ctx/sub/deeper/package.json', 'gone/x']);
  });

  it.each<[string, (root: string) => void]>([
    ['an absent file appears beside a watched folder', (r) => writeFileSync(join(r, 'ctx/project.json'), '{}')],
    ['an absent ignore file appears', (r) => writeFileSync(join(r, 'ctx/Dockerfile.dockerignore'), '*\n')],
    [
      'an absent file appears under an absent folder',
      (r) => (mkdirSync(join(r, 'ctx/sub/deeper')), writeFileSync(join(r, 'ctx/sub/deeper/package.json'), '{}')),
    ],
    ['a path with no watched folder appears', (r) => (mkdirSync(join(r, 'gone')), writeFileSync(join(r, 'gone/x'), ''))],
    [
      'a watched file changes',
      (r) => (writeFileSync(join(r, 'ctx/Dockerfile'), 'FROM scratch\nCOPY . .\n'), utimesSync(join(r, 'ctx/Dockerfile'), 1, 1)),
    ],
    ['a hashed file changes content', (r) => writeFileSync(join(r, 'compose.yaml'), 'services: {a: {}}\n')],
    ['an absent hashed file appears', (r) => writeFileSync(join(r, '.env'), 'TAG=1\n')],
    ['a compose file appears in a compose folder', (r) => writeFileSync(join(r, 'compose.override.yaml'), 'services: {}\n')],
    ['a variable the compose files read is set', () => (process.env.NXCB_GRAPH_CACHE_TEST_TAG = 'v2')],
  ])('misses when %s', async (_, change) => {
    expect(await read()).toBeDefined();
    change(root);
    expect(await read()).toBeUndefined();
  });
});

describe('the graph cache: hashed files by stat, by content when in doubt', () => {
  let root: string;
  const deps: GraphDependencies = { composeDirs: ['.', 'ctx'], files: ['compose.yaml', '.env'], stats: ['ctx'], variables: [] };
  const LATER = Date.now() + 60_000; // an entry written a minute after the files: their stats are not racy
  const MTIME = 1_700_000_000; // whole seconds, so that putting it back restores it exactly
  const read = () => readGraphCache(root, BASE);
  const entry = () => {
    const dir = workspaceDataDirectory(root);
    return JSON.parse(
      readFileSync(
        join(
          dir,
          readdirSync(dir).find((f) => f.endsWith('.json'))!,
        ),
        'utf-8',
      ),
    );
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'nxcb-graph-cache-files-'));
    writeFileSync(join(root, 'compose.yaml'), 'services: {a: {}}\n');
    utimesSync(join(root, 'compose.yaml'), MTIME, MTIME);
    mkdirSync(join(root, 'ctx'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lists no compose folder whose own stat it compares, and still sees a compose file appear there', async () => {
    await writeGraphCache(root, BASE, deps, RESULTS as never, [], undefined, LATER);
    expect(entry().dependencies.composeDirs).toEqual(['.']);
    expect(await read()).toBeDefined();
    writeFileSync(join(root, 'ctx/compose.yaml'), 'services: {}\n');
    expect(await read()).toBeUndefined();
  });

  it.each([
    ['the entry is not racy', LATER],
    ['the files changed just before the entry was written (racy: content read every time)', Date.now()],
  ])('when %s: a touch with the same content hits, any other content misses', async (_, writtenAt) => {
    await writeGraphCache(root, BASE, deps, RESULTS as never, [], undefined, writtenAt);
    expect(await read()).toBeDefined();
    utimesSync(join(root, 'compose.yaml'), MTIME + 5, MTIME + 5);
    expect(await read()).toBeDefined();
    // Same size, and the mtime put back: only the ctime (and the content) tell.
    writeFileSync(join(root, 'compose.yaml'), 'services: {b: {}}\n');
    utimesSync(join(root, 'compose.yaml'), MTIME, MTIME);
    expect(statSync(join(root, 'compose.yaml')).mtimeMs).toBe(MTIME * 1000);
    expect(await read()).toBeUndefined();
  });

  it('an absent hashed file that appears misses, and one that goes misses', async () => {
    await writeGraphCache(root, BASE, deps, RESULTS as never, [], undefined, LATER);
    writeFileSync(join(root, '.env'), '');
    expect(await read()).toBeUndefined();
    await writeGraphCache(root, BASE, deps, RESULTS as never, [], undefined, LATER);
    expect(await read()).toBeDefined();
    rmSync(join(root, '.env'));
    expect(await read()).toBeUndefined();
  });
});

const git = gitIn;

describe('the graph cache and git index', () => {
  let root: string;
  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'nxcb-graph-cache-git-'));
    writeFileSync(join(root, 'compose.yaml'), 'services: {}\n');
    writeFileSync(join(root, '.env'), 'TAG=1\n');
    await git(root, 'init', '-q', '-b', 'main');
    await git(root, 'add', 'compose.yaml');
    await git(root, 'commit', '-q', '-m', 'initial');
    const deps: GraphDependencies = {
      composeDirs: ['.'],
      files: ['compose.yaml'],
      stats: [],
      variables: [],
      tracked: { index: '.git/index', paths: { 'compose.yaml': true, '.env': false } },
    };
    await writeGraphCache(root, BASE, deps, RESULTS as never, []);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stands when the index is rewritten but every recorded answer is the same (git status, a commit of other files)', async () => {
    utimesSync(join(root, '.git/index'), new Date(), new Date(Date.now() + 5_000));
    writeFileSync(join(root, 'other.txt'), 'x\n');
    await git(root, 'add', 'other.txt');
    expect(await readGraphCache(root, BASE)).toEqual({ results: RESULTS, warnings: [] });
  });

  it.each([
    ['git add of a recorded untracked file', (r: string) => git(r, 'add', '.env')],
    ['git rm --cached of a recorded tracked file', (r: string) => git(r, 'rm', '-q', '--cached', 'compose.yaml')],
  ])('misses after %s', async (_, change) => {
    await change(root);
    expect(await readGraphCache(root, BASE)).toBeUndefined();
  });
});
