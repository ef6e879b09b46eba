import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesContext, ProjectGraph } from '@nx/devkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createComposeNodes, COMPOSE_FILE_GLOB } from './create-nodes';
import { definitionHashesFromGraph } from './definition-hash-metadata';
import { inCheckoutTerms, renderServiceLock } from './service-lock';
import { gitIn } from '../run/__fixtures__/git';
import { graphCacheWritesSettled } from './graph-cache';

describe('inCheckoutTerms', () => {
  it.each([
    ['the root itself', '/ws', '{workspaceRoot}'],
    ['a path under the root', '/ws/services/api', '{workspaceRoot}/services/api'],
    ['a sibling with the same prefix', '/ws2/api', '/ws2/api'],
    ['a path outside', '/opt/x', '/opt/x'],
    ['a relative path', 'services/api', 'services/api'],
    ['a bind mount', '/ws/data:/data:ro', '{workspaceRoot}/data:/data:ro'],
    ['a name=path pair', 'src=/ws/src', 'src={workspaceRoot}/src'],
    ['twice in one string', '/ws/a,/ws/b', '{workspaceRoot}/a,{workspaceRoot}/b'],
  ])('%s', (_name, value, expected) => expect(inCheckoutTerms(value, '/ws')).toBe(expected));

  it('walks nested objects and lists, keeps keys and non-strings', () => {
    const definition = {
      build: { context: '/a.b/x', additional_contexts: { shared: '/a.b/shared' }, no_cache: true },
      env_file: [{ path: '/a.b/.env', required: false }],
    };
    expect(inCheckoutTerms(definition, '/a.b/')).toEqual({
      build: { context: '{workspaceRoot}/x', additional_contexts: { shared: '{workspaceRoot}/shared' }, no_cache: true },
      env_file: [{ path: '{workspaceRoot}/.env', required: false }],
    });
    // `.` in the root is literal, not "any character".
    expect(inCheckoutTerms('/aXb/x', '/a.b')).toBe('/aXb/x');
  });
});

/** Every kind of path the loader makes absolute, plus per-platform entries and a .env value. */
const WORKSPACE: Record<string, string> = {
  'compose.yaml': [
    'services:',
    '  api:',
    '    image: reg.local/api:${TAG:-dev}',
    '    build:',
    '      context: ./services/api',
    '      additional_contexts:',
    '        shared: ./shared',
    '      platforms: [linux/amd64, linux/arm64]',
    '    env_file: [./api.env]',
    '    x-nx-buildx:',
    '      platformArgs: { linux/arm64: { FLAVOUR: neon } }',
    '  web:',
    '    extends: { file: ./common/base.yaml, service: base }',
    '    build: ./services/web',
    '    image: reg.local/web',
    '',
  ].join('\n'),
  '.env': 'TAG=1.2\n',
  'api.env': 'A=1\n',
  'common/base.yaml': 'services:\n  base:\n    build:\n      context: ../services/web\n      args: { FROM_BASE: "1" }\n',
  'services/api/Dockerfile': 'FROM scratch\nCOPY . /\n',
  'services/web/Dockerfile': 'FROM scratch\nCOPY . /\n',
  'shared/lib.txt': 'x\n',
};

async function lockAt(root: string, files = WORKSPACE): Promise<{ lock: string; hashes: Record<string, string> }> {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  const context = { workspaceRoot: root, nxJsonConfiguration: {}, configFiles: ['compose.yaml'] } as unknown as CreateNodesContext;
  const results = await createComposeNodes(['compose.yaml'], {}, context);
  const nodes: ProjectGraph['nodes'] = {};
  for (const [, result] of results) {
    for (const [projectRoot, project] of Object.entries(result.projects ?? {})) {
      nodes[project.name ?? projectRoot] = { name: project.name ?? projectRoot, type: 'app', data: { root: projectRoot, ...project } };
    }
  }
  const hashes = definitionHashesFromGraph({ nodes, dependencies: {} });
  return { lock: renderServiceLock(hashes), hashes };
}

describe('the service lock is the same in every checkout', () => {
  const base = mkdtempSync(join(tmpdir(), 'nxcb-lock-'));
  afterAll(async () => {
    await graphCacheWritesSettled(); // createNodes does not wait for its cache write
    rmSync(base, { recursive: true, force: true });
  });

  it('one workspace at two absolute paths gives the same lock', async () => {
    expect(COMPOSE_FILE_GLOB).toContain('compose');
    const first = await lockAt(join(base, 'checkout'));
    const second = await lockAt(join(base, 'elsewhere', 'deeper', 'clone.of.it'));
    expect(Object.keys(first.hashes).sort()).toEqual(['api', 'api@linux-amd64', 'api@linux-arm64', 'web']);
    expect(second.lock).toBe(first.lock);
  });

  it('a checkout copied elsewhere, graph cache included, keeps its lock', async () => {
    const from = join(base, 'copy-from');
    const { lock } = await lockAt(from);
    const to = join(base, 'copy-to');
    cpSync(from, to, { recursive: true });
    expect((await lockAt(to, {})).lock).toBe(lock);
  });

  it('a committed edit still changes the hash (the test can fail)', async () => {
    const root = join(base, 'edited');
    const before = await lockAt(root);
    const after = await lockAt(root, { ...WORKSPACE, 'common/base.yaml': WORKSPACE['common/base.yaml'].replace('"1"', '"2"') });
    expect(after.hashes.web).not.toBe(before.hashes.web);
    expect(after.hashes.api).toBe(before.hashes.api);
  });
});

const git = gitIn;

describe('the service lock hashes only what git tracks', () => {
  const base = mkdtempSync(join(tmpdir(), 'nxcb-lock-git-'));
  afterAll(async () => {
    await graphCacheWritesSettled(); // createNodes does not wait for its cache write
    rmSync(base, { recursive: true, force: true });
  });
  const FILES = { ...WORKSPACE, '.gitignore': '.nx\n' };
  delete (FILES as Record<string, string>)['.env'];

  it('an untracked or git-ignored .env changes no lock byte; the same .env committed does', async () => {
    const root = join(base, 'ws');
    mkdirSync(root, { recursive: true });
    await git(root, 'init', '-q', '-b', 'main');
    await lockAt(root, FILES);
    await git(root, 'add', '-A');
    await git(root, 'commit', '-q', '-m', 'initial');
    const without = await lockAt(root, {});
    expect(Object.keys(without.hashes).sort()).toEqual(['api', 'api@linux-amd64', 'api@linux-arm64', 'web']);

    // Untracked: present on disk, read by the graph (the image tag is 1.2 there), absent from the lock.
    writeFileSync(join(root, '.env'), 'TAG=1.2\n');
    const untracked = await lockAt(root, {});
    expect(untracked.lock).toBe(without.lock);
    // Git-ignored, and with another value: still no lock byte moves.
    writeFileSync(join(root, '.gitignore'), '.nx\n.env\n');
    await git(root, 'commit', '-q', '-am', 'ignore .env');
    writeFileSync(join(root, '.env'), 'TAG=9.9\n');
    expect((await lockAt(root, {})).lock).toBe(without.lock);

    // Committed (git add alone changes no file the graph cache hashes: the index must be watched).
    await git(root, 'add', '-f', '.env');
    const committed = await lockAt(root, {});
    expect(committed.hashes.api).not.toBe(without.hashes.api);
    expect(committed.hashes.web).toBe(without.hashes.web);
    // The tracked .env is read as on disk, like a tracked compose file: another value is another hash.
    writeFileSync(join(root, '.env'), 'TAG=1.2\n');
    expect((await lockAt(root, {})).hashes.api).not.toBe(committed.hashes.api);
    // Untracked again (git rm --cached): back to the lock without it.
    await git(root, 'rm', '-q', '-f', '--cached', '.env');
    expect((await lockAt(root, {})).lock).toBe(without.lock);
  });

  it('a service whose compose file git does not track yet has no lock entry', async () => {
    const root = join(base, 'new-file');
    mkdirSync(root, { recursive: true });
    await git(root, 'init', '-q', '-b', 'main');
    expect((await lockAt(root, FILES)).hashes).toEqual({});
    await git(root, 'add', '-A');
    expect(Object.keys((await lockAt(root, {})).hashes).sort()).toEqual(['api', 'api@linux-amd64', 'api@linux-arm64', 'web']);
  });
});
