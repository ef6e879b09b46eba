import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument, isMap } from 'yaml';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_IMAGE, ensureStack } from '../support/stack';
import { indexPlatforms } from '../support/registry';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';
import { ensureToolchainImages } from './toolchain';

/**
 * The generators in a fresh workspace, then the generated services through the real stack:
 * init, a static and a Go service (really cross-compiled by a Debian Go toolchain on the build
 * platform), docker-build for three platforms, docker-verify (which pushes first).
 */
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const NS = `127.0.0.1:5000/e2e-gen/${RUN_ID}`;
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
const IMAGES = { gstatic: `${NS}/gstatic:latest`, ggo: `${NS}/ggo:latest` };
const COMPOSE = ['# generated services land below; this comment must survive', 'name: gen', '', 'services: {}', ''].join('\n');

describe('generators against the real stack', () => {
  let ws: TempWorkspace;
  let dockerEnv: NodeJS.ProcessEnv;
  let goImage: string;
  const docker = (args: string[]) => run('docker', args, { cwd: ws.root, env: dockerEnv });
  const out = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  beforeAll(async () => {
    const stack = await ensureStack();
    dockerEnv = { ...process.env, ...stack.env };
    const tc = await ensureToolchainImages('go', dockerEnv);
    goImage = tc.build;
    console.log(`go toolchain image ${tc.build}: ${tc.cached ? 'cached' : 'made'} in ${tc.ms} ms`);
    ws = await createWorkspace({ files: { 'compose.yaml': COMPOSE }, env: stack.env });
  }, 50 * 60_000); // from nothing, the toolchain image is a Debian bootstrap
  afterAll(() => ws?.dispose());

  it('init converts the string registration to the object form, idempotently', async () => {
    await ws.nx(['g', 'nx-compose-buildx:init']);
    const once = ws.read('nx.json');
    await ws.nx(['g', 'nx-compose-buildx:init']);
    expect(ws.read('nx.json')).toBe(once);
    const nxJson = JSON.parse(once);
    expect(nxJson.plugins).toEqual([
      {
        plugin: 'nx-compose-buildx',
        options: { buildTargetName: 'docker-build', pushTargetName: 'docker-push', verifyTargetName: 'docker-verify', provenance: false },
      },
    ]);
    expect(nxJson.sync.globalGenerators).toEqual(['nx-compose-buildx:sync']);
  });

  it('service --dry-run writes nothing; bad input fails with a clear message', async () => {
    const dry = await ws.nx(['g', 'nx-compose-buildx:service', 'gdry', '--language=static', '--dry-run']);
    expect(out(dry)).toMatch(/CREATE services\/gdry\/Dockerfile/);
    expect(existsSync(join(ws.root, 'services/gdry'))).toBe(false);
    const bad = await ws.nx(['g', 'nx-compose-buildx:service', 'gbad', '--language=go', '--platforms=linux/arm65'], { allowFailure: true });
    expect(bad.status).not.toBe(0);
    expect(out(bad)).toContain('Invalid platform "linux/arm65"');
  });

  it('generates a static and a Go service and the CI workflow', async () => {
    const platforms = `--platforms=${PLATFORMS.join(',')}`;
    await ws.nx([
      'g',
      'nx-compose-buildx:service',
      'gstatic',
      '--language=static',
      platforms,
      `--image=${IMAGES.gstatic}`,
      `--baseImage=${BASE_IMAGE}`,
    ]);
    await ws.nx([
      'g',
      'nx-compose-buildx:service',
      'ggo',
      '--language=go',
      platforms,
      `--image=${IMAGES.ggo}`,
      `--buildImage=${goImage}`,
      `--baseImage=${BASE_IMAGE}`,
    ]);
    await ws.nx(['g', 'nx-compose-buildx:ci', '--provider=github']);
    const dup = await ws.nx(['g', 'nx-compose-buildx:service', 'ggo', '--language=go'], { allowFailure: true });
    expect(out(dup)).toContain('already has a service named "ggo"');

    const text = ws.read('compose.yaml');
    expect(text).toContain('# generated services land below; this comment must survive');
    // The build machines have no bridge network: build without one, as examples/ does.
    const doc = parseDocument(text);
    for (const name of ['gstatic', 'ggo']) {
      const build = doc.getIn(['services', name, 'build'], true);
      if (!isMap(build)) throw new Error(`no build mapping for ${name}`);
      build.set('network', 'none');
    }
    ws.write('compose.yaml', doc.toString());
    expect(ws.read('services/ggo/Dockerfile')).toContain('FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build');
    expect(existsSync(join(ws.root, '.github/workflows/docker.yml'))).toBe(true);
    await ws.commit('generated services');
  });

  it('docker-build builds both services for amd64, arm64 and arm/v7', async () => {
    const r = await ws.nx(['run-many', '-t', 'docker-build', '-p', 'gstatic', 'ggo', '--output-style=static']);
    expect(out(r)).toMatch(/Successfully ran target docker-build for 2 projects/);
    for (const name of ['gstatic', 'ggo']) {
      const metadata = JSON.parse(ws.read(`dist/docker/${name}/metadata.json`));
      expect(Object.keys(metadata.platforms).sort(), name).toEqual([...PLATFORMS].sort());
    }
  });

  it('docker-verify (after docker-push): the manifests hold the platforms and every binary runs its own arch', async () => {
    const r = await ws.nx(['run-many', '-t', 'docker-verify', '-p', 'gstatic', 'ggo', '--output-style=static']);
    const text = out(r);
    const machines: Record<string, string> = { 'linux/amd64': 'x86_64', 'linux/arm64': 'aarch64', 'linux/arm/v7': 'armv7l' };
    for (const p of PLATFORMS) expect(text).toContain(`[gstatic] ${p}: ok (${machines[p]})`); // static: uname -m, per platform
    for (const p of PLATFORMS) expect(text).toContain(`[ggo] ${p}: ok (exit 0)`); // go: /app --self-test
    for (const name of ['gstatic', 'ggo'] as const) {
      expect(await indexPlatforms(IMAGES[name]), name).toEqual([...PLATFORMS].sort());
    }
    // Independently of the plugin: the cross-compiled Go binary says what it is and where it runs.
    const expected: Record<string, RegExp> = {
      'linux/amd64': /ggo linux\/amd64 running on x86_64/,
      'linux/arm64': /ggo linux\/arm64 running on aarch64/,
      'linux/arm/v7': /ggo linux\/arm running on armv\dl?/,
    };
    for (const p of PLATFORMS) {
      const ran = await docker(['run', '--rm', '--network', 'none', '--pull', 'always', '--platform', p, IMAGES.ggo]);
      expect(ran.status, out(ran)).toBe(0);
      expect(ran.stdout, p).toMatch(expected[p]!);
      const st = await docker(['run', '--rm', '--network', 'none', '--platform', p, IMAGES.gstatic]);
      expect(st.stdout, p).toMatch(/gstatic running on (x86_64|aarch64|armv7l)/);
    }
  });
});
