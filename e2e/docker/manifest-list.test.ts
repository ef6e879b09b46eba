import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack, BASE_IMAGE } from '../support/stack';
import { indexDigests, tagDigest } from '../support/registry';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';

/**
 * docker-push's `manifestList` option on the real engine and registry: buildx pushes a
 * single-platform image as a plain manifest; with the option every tag serves a one-entry
 * manifest list of that same image, put through the registry API as the very bytes `imagetools
 * create` writes (the CLI run is the oracle). Reuse is off, the path where nothing else makes a list.
 */
const RUN_ID = `e2e-mlist-${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `127.0.0.1:5000/${RUN_ID}/one:1`;
const EXTRA = `127.0.0.1:5000/${RUN_ID}/one:extra`;
const NO_REUSE = { NX_COMPOSE_BUILDX_REUSE: 'false' };

describe('docker-push --manifestList on a single-platform service', () => {
  let ws: TempWorkspace;
  let stackEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const stack = await ensureStack();
    stackEnv = { ...process.env, ...stack.env };
    ws = await createWorkspace({
      env: stack.env,
      files: {
        'compose.yaml': `services:\n  one:\n    image: ${IMAGE}\n    build:\n      context: ./one\n      platforms: [linux/amd64]\n      tags: [${EXTRA}]\n`,
        'one/Dockerfile': `FROM ${BASE_IMAGE}\nCOPY a.txt /a.txt\n`,
        'one/a.txt': 'one\n',
      },
    });
  });
  afterAll(() => ws?.dispose());

  it('without the option the tags serve one manifest; with it, a one-entry list of the same image under every tag', async () => {
    await ws.nx(['run', 'one:docker-push', '--skip-nx-cache', '--output-style=static'], { env: NO_REUSE });
    const plain = await tagDigest(IMAGE);
    expect(plain).toMatch(/^sha256:/);
    await expect(indexDigests(IMAGE)).rejects.toThrow(/single-platform manifest, not a manifest list/);

    const listed = await ws.nx(['run', 'one:docker-push', '--manifestList', '--skip-nx-cache', '--output-style=static'], { env: NO_REUSE });
    const listedOut = `${listed.stdout}${listed.stderr}`;
    expect(listedOut).toMatch(
      new RegExp(`listing 127\\.0\\.0\\.1:5000/${RUN_ID}/one@sha256:[0-9a-f]{64} as ${IMAGE}, ${EXTRA} .*through the registry API`),
    );
    expect(listedOut).not.toContain('imagetools create');
    // The same content (same commit, SOURCE_DATE_EPOCH from it): the list's one entry is the manifest pushed before.
    expect(await indexDigests(IMAGE)).toEqual({ 'linux/amd64': plain });
    expect(await indexDigests(EXTRA)).toEqual({ 'linux/amd64': plain });
    const list = await tagDigest(IMAGE);
    expect(list).not.toBe(plain);
    expect(await tagDigest(EXTRA)).toBe(list);
    const metadata = JSON.parse(readFileSync(join(ws.root, 'dist/docker/one/push-metadata.json'), 'utf8'));
    expect(metadata).toMatchObject({ pushed: true, manifestDigest: list, platforms: { 'linux/amd64': { digest: plain } } });

    // The oracle: `imagetools create` itself, of the same manifest, writes the very bytes the API put.
    const oracle = `127.0.0.1:5000/${RUN_ID}/one:oracle`;
    const made = await run('docker', ['buildx', 'imagetools', 'create', '-t', oracle, `127.0.0.1:5000/${RUN_ID}/one@${plain}`], {
      cwd: ws.root,
      env: stackEnv,
      timeoutMs: 120_000,
    });
    expect(made.status, made.stderr).toBe(0);
    expect(await tagDigest(oracle)).toBe(list);
  });

  it('with the registry API off (a credential helper) the list is made by imagetools create, and the push is confirmed', async () => {
    ws.write('one/a.txt', 'three\n');
    await ws.commit('new content for the CLI path');
    const env = { ...NO_REUSE, NX_COMPOSE_BUILDX_REGISTRY_API: 'false' };
    const listed = await ws.nx(['run', 'one:docker-push', '--manifestList', '--skip-nx-cache', '--output-style=static'], { env });
    const out = `${listed.stdout}${listed.stderr}`;
    expect(out).toContain('imagetools create');
    expect(out).not.toContain('not confirmed');
    const entries = await indexDigests(IMAGE);
    expect(Object.keys(entries)).toEqual(['linux/amd64']);
    expect(await tagDigest(EXTRA)).toBe(await tagDigest(IMAGE));
    const metadata = JSON.parse(readFileSync(join(ws.root, 'dist/docker/one/push-metadata.json'), 'utf8'));
    expect(metadata).toMatchObject({
      pushed: true,
      manifestDigest: await tagDigest(IMAGE),
      platforms: { 'linux/amd64': { digest: entries['linux/amd64'] } },
    });
  });

  it('with reuse on (the default) a one-platform image is already a one-entry list: it is published from its key tag', async () => {
    ws.write('one/a.txt', 'two\n');
    await ws.commit('new content: a new content key');
    await ws.nx(['run', 'one:docker-push', '--skip-nx-cache', '--output-style=static']);
    const entries = await indexDigests(IMAGE);
    expect(Object.keys(entries)).toEqual(['linux/amd64']);
    expect(await tagDigest(EXTRA)).toBe(await tagDigest(IMAGE));
  });
});
