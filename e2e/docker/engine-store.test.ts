import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack, BASE_IMAGE } from '../support/stack';
import { tagDigest } from '../support/registry';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';

/**
 * docker-push with the registry cache on the stack's `docker` driver, where a `FROM` resolves
 * against the engine's own image store first: the store gets every tag a push publishes (solo, a
 * single-platform image, is built under its key tag alone and published from it), and a build
 * whose key names a base by its registry digest builds on that base, not on an older image the
 * store holds under the same tag. A one-platform image's key tag serves the one-entry list its
 * tags serve, so a hit on it needs no docker process.
 */
const RUN_ID = `e2e-store-${process.pid}-${Date.now().toString(36)}`;
const NS = `127.0.0.1:5000/${RUN_ID}`;

describe("docker-push and the engine's image store", () => {
  let ws: TempWorkspace;
  let dockerEnv: NodeJS.ProcessEnv;
  let soloDigest: string | undefined;
  const docker = (args: string[]) => run('docker', args, { cwd: ws.root, env: dockerEnv });
  const localTags = async () =>
    (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).stdout
      .split('\n')
      .filter((t) => t.startsWith(`${NS}/`) && !/:nxcb-/.test(t))
      .sort();

  beforeAll(async () => {
    const stack = await ensureStack();
    dockerEnv = { ...process.env, ...stack.env };
    ws = await createWorkspace({
      env: stack.env,
      files: {
        'compose.yaml': [
          'services:',
          '  solo:',
          `    image: ${NS}/solo:1`,
          '    build:',
          '      context: ./base',
          '      network: none',
          '  base:',
          `    image: ${NS}/base:1`,
          '    build:',
          '      context: ./base',
          '      network: none',
          '      platforms: [linux/amd64, linux/arm64]',
          '  app:',
          `    image: ${NS}/app:1`,
          '    build:',
          '      context: ./app',
          '      network: none',
          '      platforms: [linux/amd64, linux/arm64]',
          '',
        ].join('\n'),
        'base/Dockerfile': `FROM ${BASE_IMAGE}\nCOPY base.txt /base.txt\n`,
        'base/base.txt': 'base v1\n',
        'app/Dockerfile': `FROM ${NS}/base:1\nCOPY app.txt /app.txt\nRUN cat /base.txt /app.txt > /both.txt\n`,
        'app/app.txt': 'app v1\n',
      },
    });
  });
  afterAll(() => ws?.dispose());

  it("a push leaves every service's own tags in the store, the single-platform one too", async () => {
    const r = await ws.nx(['run-many', '-t', 'docker-push', '--output-style=static']);
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/\[base\] registry cache miss/);
    // the one-platform miss is listed through the registry API, as imagetools would list it (manifest-list.test.ts checks the bytes)
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/\[solo\] listing .* through the registry API\)/);
    expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/\[solo\] docker buildx imagetools create/);
    expect(await localTags()).toEqual([`${NS}/app:1`, `${NS}/base:1`, `${NS}/solo:1`]);
    // solo is published from its key tag as a one-entry list; the store holds the manifest it lists
    const list = JSON.parse((await docker(['buildx', 'imagetools', 'inspect', '--raw', `${NS}/solo:1`])).stdout);
    expect(list.manifests).toHaveLength(1);
    const stored = await docker(['image', 'inspect', '--format', '{{.Id}}', `${NS}/solo:1`]);
    expect(stored.stdout.trim()).toBe(list.manifests[0].digest);
    soloDigest = await tagDigest(`${NS}/solo:1`);
    expect(soloDigest).toMatch(/^sha256:/);
  });

  it('a rebuild on a base the store holds an older image of builds on the registry base the key names', async () => {
    // an older base:1 in the engine's store, as on a machine that built it before the last release
    expect((await docker(['tag', BASE_IMAGE, `${NS}/base:1`])).status).toBe(0);
    writeFileSync(join(ws.root, 'app/app.txt'), 'app v2\n');
    await ws.commit('app v2');
    await ws.nx(['reset']);
    const r = await ws.nx(['run-many', '-t', 'docker-push', '--output-style=static']);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(/\[base\] registry cache hit/);
    // the key tag of the one-platform image serves its one-entry list since the first push: the hit
    // puts the list's bytes under its tags through the registry API, no imagetools process, same digest
    expect(out).toMatch(/\[solo\] registry cache hit/);
    expect(out).toMatch(/\[solo\] tagging .* through the registry API\)/);
    expect(out).not.toMatch(/\[solo\] docker buildx imagetools create/);
    expect(await tagDigest(`${NS}/solo:1`)).toBe(soloDigest);
    expect(out).toMatch(/\[app\] registry cache miss/);
    expect(out).toMatch(/\[app\] docker buildx build .* --pull /);
    expect((await docker(['image', 'rm', '-f', `${NS}/app:1`])).status).toBe(0);
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const both = await docker(['run', '--rm', '--pull', 'always', '--platform', platform, `${NS}/app:1`, 'cat', '/both.txt']);
      expect(both.stdout).toBe('base v1\napp v2\n');
    }
  });

  it('with the registry asked through the docker CLI, the one-entry list under the key tag is a hit too', async () => {
    await ws.nx(['reset']);
    const r = await ws.nx(['run', 'solo:docker-push', '--output-style=static'], { env: { NX_COMPOSE_BUILDX_REGISTRY_API: 'false' } });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(/\[solo\] registry cache hit/);
    expect(out).not.toMatch(/\[solo\] docker buildx build /);
    expect(await tagDigest(`${NS}/solo:1`)).toBe(soloDigest);
  });
});
