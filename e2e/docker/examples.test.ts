import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack } from '../support/stack';
import { indexPlatforms, tagDigest } from '../support/registry';
import { REPO_ROOT, createWorkspace, run, type TempWorkspace } from '../support/workspace';

/**
 * The example monorepo against a real Docker Engine (BuildKit, containerd image
 * store), a real registry and real QEMU emulation. Images go to a registry
 * namespace of this run's own, through the REGISTRY variable the compose files
 * interpolate (the process environment wins over .env, as in Compose).
 */
const RUN_ID = `e2e-${process.pid}-${Date.now().toString(36)}`;
const REGISTRY = `127.0.0.1:5000/${RUN_ID}`;

const DECLARED: Record<string, string[]> = {
  base: ['linux/amd64', 'linux/arm/v7', 'linux/arm64', 'linux/ppc64le', 'linux/s390x'],
  api: ['linux/amd64', 'linux/arm64'],
  worker: ['linux/amd64', 'linux/arm/v7', 'linux/arm64'],
  gateway: ['linux/amd64', 'linux/ppc64le', 'linux/s390x'],
  docs: ['linux/amd64', 'linux/arm64'],
  sensor: ['linux/arm/v7', 'linux/arm64'],
  relay: ['linux/amd64', 'linux/arm/v7', 'linux/arm64'],
  catalog: ['linux/amd64', 'linux/arm64'],
  checkout: ['linux/amd64', 'linux/arm64'],
  frontend: ['linux/amd64', 'linux/arm64'],
};
/** `uname -m` under each platform (QEMU user mode for all but amd64). */
const UNAME: Record<string, string> = {
  'linux/amd64': 'x86_64',
  'linux/arm64': 'aarch64',
  'linux/arm/v7': 'armv7l',
  'linux/ppc64le': 'ppc64le',
  'linux/s390x': 's390x',
};
const IMAGE: Record<string, string> = {
  base: `${REGISTRY}/shop/base:latest`,
  api: `${REGISTRY}/shop/api:latest`,
  worker: `${REGISTRY}/shop/worker:latest`,
  gateway: `${REGISTRY}/shop/gateway:latest`,
  docs: `${REGISTRY}/shop/docs:latest`,
  sensor: `${REGISTRY}/edge/sensor:latest`,
  relay: `${REGISTRY}/edge/relay:latest`,
  catalog: `${REGISTRY}/store/catalog:latest`,
  checkout: `${REGISTRY}/store/checkout:latest`,
  frontend: `${REGISTRY}/store/frontend:latest`,
};

describe('examples/ against the real stack', () => {
  let ws: TempWorkspace;
  let dockerEnv: NodeJS.ProcessEnv;
  const docker = (args: string[]) => run('docker', args, { cwd: ws.root, env: dockerEnv });
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  beforeAll(async () => {
    const stack = await ensureStack();
    dockerEnv = { ...process.env, ...stack.env };
    ws = await createWorkspace({ copyFrom: join(REPO_ROOT, 'examples'), env: { ...stack.env, REGISTRY } });
  });
  afterAll(() => ws?.dispose());

  it('nx run-many -t docker-build builds every service for every declared platform', async () => {
    const result = await ws.nx(['run-many', '-t', 'docker-build', '--output-style=static']);
    expect(output(result)).toMatch(/Successfully ran target docker-build for 10 projects/);
    for (const [service, platforms] of Object.entries(DECLARED)) {
      const metadata = JSON.parse(ws.read(`dist/docker/${service}/metadata.json`));
      expect(Object.keys(metadata.platforms).sort(), service).toEqual(platforms);
      for (const platform of platforms)
        expect(metadata.platforms[platform].digest, `${service} ${platform}`).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });

  it('docker-push then docker-verify: manifest lists with exactly the declared platforms, each running its own machine', async () => {
    await ws.nx(['run-many', '-t', 'docker-push', '--output-style=static']);
    for (const [service, platforms] of Object.entries(DECLARED)) {
      expect(await indexPlatforms(IMAGE[service]), service).toEqual(platforms);
    }
    const verify = await ws.nx(['run-many', '-t', 'docker-verify', '--output-style=static']);
    const text = output(verify);
    // Each service, each of its platforms, its own machine: an arm64 image reporting x86_64 fails here.
    for (const [service, platforms] of Object.entries(DECLARED)) {
      if (service === 'api') continue; // runs its own test command, below
      for (const platform of platforms) expect(text).toContain(`[${service}] ${platform}: ok (${UNAME[platform]})`);
    }
    expect(text).toMatch(/\[api\] linux\/arm64: ok \(exit 0\)/); // the service's own test command under emulation
    // and independently of the plugin: the s390x image runs and says so
    const s390x = await docker(['run', '--rm', '--network', 'none', '--platform', 'linux/s390x', IMAGE.gateway, 'uname', '-m']);
    expect(s390x.stdout.trim()).toBe('s390x');
    // The worker was cross-compiled with TARGETARCH pinned to amd64 by compose.override.yaml;
    // each platform must still have been built for itself.
    for (const [platform, machine] of [
      ['linux/arm64', 'aarch64'],
      ['linux/arm/v7', 'armv7l'],
      ['linux/amd64', 'x86_64'],
    ]) {
      const worker = await docker(['run', '--rm', '--network', 'none', '--platform', platform, IMAGE.worker]);
      expect(worker.stdout).toContain(`worker for ${platform} (built on linux/amd64) running on ${machine}`);
    }
  });

  it('after a commit to the base service, nx affected -t docker-push pushes it and the images built on it, nothing else', async () => {
    const before = Object.fromEntries(await Promise.all(Object.entries(IMAGE).map(async ([s, ref]) => [s, await tagDigest(ref)])));
    ws.write('services/base/motd', 'shop base runtime v2\n');
    await ws.commit('base: new motd');
    expect(await ws.affected('docker-push')).toEqual(['api:docker-push', 'base:docker-push', 'docs:docker-push']);

    const pushed = await ws.nx(['affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD', '--output-style=static']);
    const after = Object.fromEntries(await Promise.all(Object.entries(IMAGE).map(async ([s, ref]) => [s, await tagDigest(ref)])));
    const changed = Object.keys(IMAGE)
      .filter((s) => before[s] !== after[s])
      .sort();
    expect(changed).toEqual(['api', 'base', 'docs']);

    // base was built first, and api really contains the new base layer, on an emulated platform too
    const text = output(pushed);
    expect(text.indexOf('[base] docker-push')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('[base] docker-push')).toBeLessThan(text.indexOf('[api] docker-push'));
    const motd = await docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--platform',
      'linux/arm64',
      '--pull',
      'always',
      IMAGE.api,
      'cat',
      '/etc/shop/motd',
    ]);
    expect(motd.stdout.trim()).toBe('shop base runtime v2');
  });

  it('a platform with no emulator fails before any build starts, naming the platform and the fix', async () => {
    const docsPlatforms = /(api: service:api[^\n]*\n\s+platforms: \[linux\/amd64, linux\/arm64)\]/;
    expect(ws.read('compose.yaml')).toMatch(docsPlatforms);
    ws.write('compose.yaml', ws.read('compose.yaml').replace(docsPlatforms, '$1, linux/mips64le]'));
    await ws.commit('docs: add mips64le');
    const result = await ws.nx(['run', 'docs:docker-build', '--skip-nx-cache', '--exclude-task-dependencies', '--output-style=static'], {
      allowFailure: true,
    });
    const text = output(result);
    expect(result.status).not.toBe(0);
    expect(text).toContain('linux/mips64le');
    expect(text).toMatch(/tonistiigi\/binfmt --install mips64le/);
    expect(text).toMatch(/apt-get install qemu-user-static/);
    expect(text).not.toMatch(/docker buildx build /); // nothing was built
    ws.write('compose.yaml', ws.read('compose.yaml').replace(', linux/mips64le]', ']'));
    await ws.commit('docs: back to amd64');
  });

  it('with its registry unreachable, docker-push fails and reports no success', async () => {
    // The shared registry on 127.0.0.1:5000 stays up (other test files push to it meanwhile): this
    // push goes to a loopback port where nothing listens (dockerd takes 127.0.0.0/8 as plain http).
    const dead = `127.0.0.1:${await closedLoopbackPort()}`;
    await expect(fetch(`http://${dead}/v2/`), 'nothing should listen there').rejects.toThrow();
    const result = await ws.nx(['run', 'sensor:docker-push', '--skip-nx-cache', '--output-style=static'], {
      allowFailure: true,
      env: { REGISTRY: `${dead}/${RUN_ID}` },
    });
    expect(result.status).not.toBe(0);
    expect(output(result)).toContain(`→ ${dead}/${RUN_ID}/edge/sensor:latest`); // the push went there
    expect(output(result)).toMatch(/connection refused/);
    expect(output(result)).not.toMatch(/Successfully ran target/);
    const metadataPath = join(ws.root, 'dist/docker/sensor/push-metadata.json');
    // The earlier push's record is removed before the push starts; a failed push writes none.
    expect(existsSync(metadataPath)).toBe(false);
  });

  it('a bad Dockerfile fails only its own task', async () => {
    ws.write('services/worker/Dockerfile', `${ws.read('services/worker/Dockerfile')}\nRUN exit 3\n`);
    await ws.commit('worker: broken');
    const result = await ws.nx(['run-many', '-t', 'docker-build', '--skip-nx-cache', '--output-style=static'], { allowFailure: true });
    const text = output(result);
    expect(result.status).not.toBe(0);
    const failed = text.slice(text.lastIndexOf('Failed tasks:')).match(/^- (\S+)$/gm);
    expect(failed).toEqual(['- worker:docker-build']);
    // The worker's own output block (batch tasks print their BuildKit output as one block) names the failure.
    const workerBlock = text.slice(text.indexOf('> nx run worker:docker-build'), text.indexOf('[worker] docker buildx build failed'));
    expect(workerBlock).toMatch(/exit code: 3/);
    // every other service built: each run removes the old record first, so these are this run's
    for (const service of Object.keys(DECLARED).filter((s) => s !== 'worker')) {
      expect(existsSync(join(ws.root, `dist/docker/${service}/metadata.json`)), service).toBe(true);
    }
    expect(existsSync(join(ws.root, 'dist/docker/worker/metadata.json'))).toBe(false);
  });
});

/** A loopback port nothing listens on: one the kernel just handed out and that was closed again. */
async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
