import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack, BASE_IMAGE } from '../support/stack';
import { tagDigest } from '../support/registry';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';

/**
 * The shared registry cache, proven the way a fresh CI runner meets it: build
 * and push with the cache, wipe the builder and the local images, rebuild the
 * unchanged service, and check that every step came from the registry cache and
 * that the manifest digest did not change. The same rebuild with the cache off
 * is timed alongside (printed, not asserted: the machines are shared).
 */
const RUN_ID = `e2e-cache-${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `127.0.0.1:5000/${RUN_ID}/heavy:1`;

describe('workspace registry cache on a fresh builder', () => {
  let ws: TempWorkspace;
  let dockerEnv: NodeJS.ProcessEnv;
  const docker = (args: string[]) => run('docker', args, { cwd: ws.root, env: dockerEnv });
  const wipeBuilder = async () => {
    expect((await docker(['buildx', 'prune', '-af'])).status).toBe(0);
    await docker(['image', 'rm', '-f', IMAGE]);
  };

  beforeAll(async () => {
    const stack = await ensureStack();
    dockerEnv = { ...process.env, ...stack.env };
    ws = await createWorkspace({
      env: stack.env,
      pluginOptions: { cache: { type: 'registry', ref: `127.0.0.1:5000/${RUN_ID}/cache/{service}:buildcache`, mode: 'max' } },
      files: {
        'compose.yaml': `services:\n  heavy:\n    image: ${IMAGE}\n    build:\n      context: ./heavy\n      network: none\n      platforms: [linux/amd64, linux/arm64]\n`,
        // Deterministic work that is slow under emulation, so a cache hit is visible.
        'heavy/Dockerfile': [
          `FROM ${BASE_IMAGE}`,
          'COPY input.txt /work/input.txt',
          'RUN i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo "$i" > /work/count',
          'RUN sha256sum /work/input.txt /work/count > /work/sums',
          '',
        ].join('\n'),
        'heavy/input.txt': 'cache me\n',
      },
    });
  });
  afterAll(() => ws?.dispose());

  // This proves BuildKit's layer cache in the registry: the image-level reuse (docker-push finding
  // the whole image by its content key, e2e/docker/reuse.test.ts) would skip the build it measures.
  const LAYER_CACHE_ONLY = { NX_COMPOSE_BUILDX_REUSE: 'false' };

  it('a rebuild of the unchanged service on a wiped builder takes every step from the registry cache, same digest', async () => {
    const project = JSON.parse((await ws.nx(['show', 'project', 'heavy', '--json'])).stdout);
    expect(project.targets['docker-push'].options.cacheFrom).toEqual([`type=registry,ref=127.0.0.1:5000/${RUN_ID}/cache/heavy:buildcache`]);

    await wipeBuilder();
    await ws.nx(['run', 'heavy:docker-push', '--skip-nx-cache', '--output-style=static'], { env: LAYER_CACHE_ONLY });
    const first = await tagDigest(IMAGE);
    expect(first).toMatch(/^sha256:/);

    await wipeBuilder();
    let started = Date.now();
    const cached = await ws.nx(['run', 'heavy:docker-push', '--skip-nx-cache', '--output-style=static'], { env: LAYER_CACHE_ONLY });
    const withCache = (Date.now() - started) / 1000;

    // Every COPY/RUN step of both platforms is CACHED (BuildKit's plain progress).
    const text = `${cached.stdout}\n${cached.stderr}`;
    // BuildKit may print a step's header more than once; one entry per (platform, step).
    const found = new Map<string, { id: string; platform: string }>();
    for (const m of text.matchAll(/^\[heavy\] (#\d+) \[(linux\/[a-z0-9/]+) (\d+)\/\d+\] (COPY|RUN) /gm))
      found.set(`${m[2]} ${m[3]}`, { id: m[1], platform: m[2] });
    const steps = [...found.values()];
    expect(steps.length).toBe(6); // COPY + 2 RUN, two platforms
    // A cache hit prints CACHED, or (for the last layers, which the export needs)
    // only downloads of the cached layer blobs from the registry; an executed step prints neither.
    for (const step of steps) {
      const cachedLine = new RegExp(`^\\[heavy\\] ${step.id} CACHED$`, 'm');
      const blobPulled = new RegExp(`^\\[heavy\\] ${step.id} sha256:[0-9a-f]{64} \\d+B / \\d+B`, 'm');
      expect(cachedLine.test(text) || blobPulled.test(text), `${step.id} on ${step.platform} was not a cache hit`).toBe(true);
    }
    expect(text).toMatch(/importing cache manifest from 127\.0\.0\.1:5000\/.*\/cache\/heavy:buildcache/);
    // Same layers and a reproducible config (SOURCE_DATE_EPOCH from the commit): the same image.
    expect(await tagDigest(IMAGE)).toBe(first);

    await wipeBuilder();
    started = Date.now();
    const built = await ws.nx(['run', 'heavy:docker-build', '--skip-nx-cache', '--noCache', '--output-style=static']);
    const withoutCache = (Date.now() - started) / 1000;
    // docker-build loads its content-stable layout as it is, with no republish: the very image docker-push pushed.
    const builtText = `${built.stdout}\n${built.stderr}`;
    expect(builtText).toMatch(/^\[heavy\] docker load < \S+ \(as a tar\)$/m);
    expect(builtText).not.toContain('nxcb-image=');
    expect(JSON.parse(ws.read('dist/docker/heavy/metadata.json')).manifestDigest).toBe(first);
    expect((await docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE])).stdout.trim()).toBe(first);
    console.log(
      `fresh builder, unchanged service: registry cache ${withCache.toFixed(1)} s, no cache ${withoutCache.toFixed(1)} s (${(withoutCache / withCache).toFixed(1)}x)`,
    );
  });

  it('read-only mode (NX_COMPOSE_BUILDX_CACHE_READONLY=true) reads the cache and writes none', async () => {
    const dry = await ws.nx(['run', 'heavy:docker-build', '--dryRun', '--skip-nx-cache'], {
      env: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' },
    });
    expect(dry.stdout).toMatch(/--cache-from type=registry,ref=\S+\/cache\/heavy:buildcache/);
    expect(dry.stdout).not.toMatch(/--cache-to/);
    const normal = await ws.nx(['run', 'heavy:docker-build', '--dryRun', '--skip-nx-cache']);
    expect(normal.stdout).toMatch(/--cache-to type=registry,ref=\S+\/cache\/heavy:buildcache,mode=max/);
  });
});
