import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, cloneWorkspace, createWorkspace, type TempWorkspace } from '../support/workspace';

/**
 * Issue 10 §0: the service lock is committed in one checkout and must hold in every other
 * (a CI runner clones to its own path). Real nx processes, real git clone, no Docker needed.
 * Every path kind the loader makes absolute is present: build contexts (string and long form),
 * additional_contexts, env_file, extends from another file, and a per-platform service.
 */
const COMPOSE = [
  'services:',
  '  api:',
  '    image: reg.local/lock-clone/api:${TAG:-dev}',
  '    build:',
  '      context: ./services/api',
  '      additional_contexts:',
  '        shared: ./shared',
  '      args: { FLAVOUR: plain }',
  '      platforms: [linux/amd64, linux/arm64]',
  '    env_file: [./api.env]',
  '  web:',
  '    extends: { file: ./common/base.yaml, service: base }',
  '    image: reg.local/lock-clone/web',
  '    build: ./services/web',
  '  edge:',
  '    image: reg.local/lock-clone/edge',
  '    build:',
  '      context: ./services/edge',
  '      platforms: [linux/amd64, linux/arm64]',
  '    x-nx-buildx:',
  '      platformArgs: { linux/arm64: { FEATURES: neon } }',
  '',
].join('\n');

const FILES: Record<string, string> = {
  'compose.yaml': COMPOSE,
  '.env': 'TAG=1.0\n',
  'api.env': 'MODE=prod\n',
  'common/base.yaml': 'services:\n  base:\n    build:\n      context: ../services/web\n      args: { FROM_BASE: "1" }\n',
  'services/api/Dockerfile': 'FROM scratch\nCOPY . /app\n',
  'services/web/Dockerfile': 'FROM scratch\nCOPY . /app\n',
  'services/edge/Dockerfile': 'FROM scratch\nARG FEATURES\nCOPY . /app\n',
  'shared/lib.txt': 'shared\n',
};

describe('the service lock holds in a clone at another path', () => {
  let origin: TempWorkspace;
  let clone: TempWorkspace;

  beforeAll(async () => {
    origin = await createWorkspace({ files: FILES });
    clone = await cloneWorkspace(origin);
  });
  afterAll(() => {
    origin?.dispose();
    clone?.dispose();
  });

  it('the clone sits at another absolute path and carries the committed lock', () => {
    expect(clone.root).not.toBe(origin.root);
    expect(clone.root.split('/').length).not.toBe(origin.root.split('/').length);
    const lock = JSON.parse(clone.read('nx-compose-buildx.lock.json'));
    expect(Object.keys(lock.services).sort()).toEqual(['api', 'edge', 'edge@linux-arm64', 'edge@linux-amd64', 'web'].sort());
  });

  it('nx sync:check passes in the clone', async () => {
    const check = await clone.nx(['sync:check'], { allowFailure: true });
    expect(check.stdout + check.stderr).not.toMatch(/out of sync/i);
    expect(check.status).toBe(0);
    expect(`${check.stdout}${check.stderr}`).not.toMatch(/missing or stale/);
  });

  it('a one-service compose edit in the clone selects only that service', async () => {
    clone.write('compose.yaml', COMPOSE.replace('FLAVOUR: plain', 'FLAVOUR: spicy'));
    // The lock is out of date now, and sync:check says so (the check can fail).
    expect((await clone.nx(['sync:check'], { allowFailure: true })).status).not.toBe(0);
    await clone.commit('api: another flavour');
    expect((await clone.git(['diff', '--name-only', 'HEAD~1', 'HEAD'])).trim().split('\n').sort()).toEqual([
      'compose.yaml',
      'nx-compose-buildx.lock.json',
    ]);
    expect(await clone.affected()).toEqual(['api:docker-build']);
  });

  it('a per-platform edit in the clone selects only that platform', async () => {
    clone.write('compose.yaml', clone.read('compose.yaml').replace('FEATURES: neon', 'FEATURES: sve'));
    await clone.commit('edge: arm64 features');
    // Per-platform services build one task per platform; docker-build itself is a no-op that depends on them.
    expect(await clone.affected('docker-build,docker-build--linux-amd64,docker-build--linux-arm64')).toEqual([
      'edge:docker-build--linux-arm64',
    ]);
  });

  it('the lock the clone commits syncs back unchanged in the first checkout', async () => {
    await origin.git(['pull', '-q', '--ff-only', clone.root, 'main']);
    const check = await origin.nx(['sync:check'], { allowFailure: true });
    expect(check.status).toBe(0);
  });
});

describe('the shipped examples/ commits a current lock', () => {
  it('nx sync in a copy of examples/ at another path leaves its lock as committed', async () => {
    const committed = readFileSync(join(REPO_ROOT, 'examples', 'nx-compose-buildx.lock.json'), 'utf-8');
    // createWorkspace runs `nx sync` before its first commit, in a temp folder far from the repo.
    const ws = await createWorkspace({ copyFrom: join(REPO_ROOT, 'examples') });
    try {
      expect(ws.read('nx-compose-buildx.lock.json')).toBe(committed);
      expect(Object.keys(JSON.parse(committed).services).length).toBeGreaterThan(0);
    } finally {
      ws.dispose();
    }
  });
});
