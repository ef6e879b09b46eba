import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack, BASE_IMAGE } from '../support/stack';
import { indexDigests, indexPlatforms, tagDigest, platformManifestDigest } from '../support/registry';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';

/**
 * Platform-specific args and config, built one task per platform: each platform's
 * image carries its own args and merged config, and a change to one platform's
 * overlay rebuilds that platform alone; the manifest list is re-assembled from
 * the new digest and the other platform's unchanged one (checked in the registry).
 */
const RUN_ID = `e2e-platforms-${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `127.0.0.1:5000/${RUN_ID}/api:1`;
const PLATFORMS = { 'linux/amd64': { tag: `${IMAGE}-amd64`, feature: 'simd' }, 'linux/arm64': { tag: `${IMAGE}-arm64`, feature: 'neon' } };

const COMPOSE = `services:
  api:
    image: ${IMAGE}
    build:
      context: ./app
      network: none
      platforms: [linux/amd64, linux/arm64]
    x-nx-buildx:
      platformArgs:
        x86_64: { EXTRA_FEATURES: simd }
        linux/arm64: { EXTRA_FEATURES: neon }
      platformConfig:
        base: config/base.json
        overlays:
          amd64: config/amd64.json
          aarch64: config/arm64.yaml
`;

describe('per-platform args, config and rebuilds', () => {
  let ws: TempWorkspace;
  let dockerEnv: NodeJS.ProcessEnv;
  const docker = (args: string[]) => run('docker', args, { cwd: ws.root, env: dockerEnv });
  const inImage = async (platform: string, file: string) => {
    const r = await docker(['run', '--rm', '--network', 'none', '--platform', platform, '--pull', 'always', IMAGE, 'cat', file]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    const stack = await ensureStack();
    dockerEnv = { ...process.env, ...stack.env };
    ws = await createWorkspace({
      env: stack.env,
      files: {
        'svc/compose.yaml': COMPOSE,
        'svc/app/Dockerfile': [
          `FROM ${BASE_IMAGE}`,
          'ARG EXTRA_FEATURES',
          'COPY --from=config config.json /etc/app/config.json',
          'RUN echo "$EXTRA_FEATURES" > /etc/app/features',
          '',
        ].join('\n'),
        'svc/config/base.json': JSON.stringify({ name: 'demo', optimizations: { simd: false, neon: false } }),
        'svc/config/amd64.json': JSON.stringify({ optimizations: { simd: true } }),
        'svc/config/arm64.yaml': 'optimizations:\n  neon: true\n',
      },
    });
  });
  afterAll(() => ws?.dispose());

  it('one task per platform; each image has its own args and config; an arm64-only change rebuilds arm64 alone', async () => {
    const project = JSON.parse((await ws.nx(['show', 'project', 'api', '--json'])).stdout);
    expect(project.targets['docker-push'].dependsOn).toEqual(['^docker-push', 'docker-push--linux-amd64', 'docker-push--linux-arm64']);
    expect(project.targets['docker-push--linux-arm64'].options.additionalContexts).toEqual({
      config: 'dist/docker-config/api/linux-arm64',
    });

    await ws.nx(['run-many', '-t', 'docker-push', '--output-style=static']);
    expect(await indexPlatforms(IMAGE)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const [platform, { feature }] of Object.entries(PLATFORMS)) {
      expect(JSON.parse(await inImage(platform, '/etc/app/config.json'))).toEqual({
        name: 'demo',
        optimizations: { simd: platform === 'linux/amd64', neon: platform === 'linux/arm64' },
      });
      expect((await inImage(platform, '/etc/app/features')).trim()).toBe(feature);
    }
    const before = {
      amd64: await platformManifestDigest(PLATFORMS['linux/amd64'].tag, 'linux/amd64'),
      arm64: await platformManifestDigest(PLATFORMS['linux/arm64'].tag, 'linux/arm64'),
      list: await tagDigest(IMAGE),
    };
    expect(await indexDigests(IMAGE)).toEqual({ 'linux/amd64': before.amd64, 'linux/arm64': before.arm64 });

    // Only the arm64 overlay changes.
    ws.write('svc/config/arm64.yaml', 'optimizations:\n  neon: true\nlevel: 2\n');
    await ws.commit('arm64 overlay');
    const affected = await ws.nx(['affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD', '--output-style=static']);
    const out = affected.stdout;
    // The registry is the cache for pushes: amd64's image is found by its content key and tagged,
    // with no build; arm64's is built.
    expect(out).toMatch(/\[api\] docker-push: linux\/amd64 [^\n]*\n(.*\n)*?\[api\] registry cache hit: /);
    // (the FROM-only republish of a content-stable build, its `nxcb-image=` context, runs no step: not a build)
    const builds = (out.match(/^\[api\] docker buildx build .*$/gm) ?? []).filter((l) => !l.includes('nxcb-image='));
    expect(builds.map((l) => /--platform (\S+)/.exec(l)?.[1])).toEqual(['linux/arm64']);

    const after = {
      amd64: await platformManifestDigest(PLATFORMS['linux/amd64'].tag, 'linux/amd64'),
      arm64: await platformManifestDigest(PLATFORMS['linux/arm64'].tag, 'linux/arm64'),
      list: await tagDigest(IMAGE),
    };
    expect(after.amd64).toBe(before.amd64);
    expect(after.arm64).not.toBe(before.arm64);
    expect(after.list).not.toBe(before.list);
    expect(await indexDigests(IMAGE)).toEqual({ 'linux/amd64': before.amd64, 'linux/arm64': after.arm64 });
    expect(JSON.parse(await inImage('linux/arm64', '/etc/app/config.json'))).toEqual({
      name: 'demo',
      optimizations: { simd: false, neon: true },
      level: 2,
    });
    expect(JSON.parse(await inImage('linux/amd64', '/etc/app/config.json'))).toEqual({
      name: 'demo',
      optimizations: { simd: true, neon: false },
    });
  });
});
