import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { writeDigestRecord } from '../../native-leg';
import { resetBuilderCache } from '../shared/builder';
import { DOCKER_INSPECT, fakeDeps, tmpContext, type Handler } from '../shared/__fixtures__/fake-deps';
import type { BuildExecutorOptions } from '../shared/options';
import { CONTENT_KEY_LABEL } from '../shared/registry-reuse';
import { dockerPush } from './executor';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const REPO = '127.0.0.1:5000/e2e/api';
const BASE_TAG = '127.0.0.1:5000/e2e/base:1.0';
const BUSYBOX = '127.0.0.1:5000/nxcb/busybox:latest';

const options: BuildExecutorOptions = {
  service: 'api',
  context: 'apps/api',
  dockerfile: 'apps/api/Dockerfile',
  platforms: ['linux/amd64', 'linux/arm64'],
  tags: [`${REPO}:1.0`, `${REPO}:latest`],
  ociLabels: false,
  cacheFrom: ['type=registry,ref=127.0.0.1:5000/cache/api:buildcache'],
  cacheTo: ['type=registry,ref=127.0.0.1:5000/cache/api:buildcache,mode=max'],
  reuse: false,
};

const CONTAINER_INSPECT = DOCKER_INSPECT.replace('Driver:        docker', 'Driver:        docker-container').replace(
  'Name:          default',
  'Name:          multi',
);

/** A registry: builds report `digest`, and `<repo>@<digest>` serves one manifest of the platform built. */
function engine(digest: string, inspect = DOCKER_INSPECT, keyHit?: { key: () => string }): Handler {
  let platform = 'amd64';
  return (argv, opts) => {
    if (argv[2] === 'inspect') return { stdout: inspect };
    if (argv[2] === 'build') {
      platform = argv[argv.indexOf('--platform') + 1]!.split('/')[1]!;
      const i = argv.indexOf('--metadata-file');
      writeFileSync(join(opts.cwd, argv[i + 1]!), JSON.stringify({ 'containerimage.digest': digest }));
      return {};
    }
    const ref = argv.at(-1)!;
    if (argv[2] === 'imagetools' && argv[3] === 'inspect') {
      if (/:nxcb-[0-9a-f]{32}$/.test(ref)) {
        if (!keyHit) return { exitCode: 1, stderr: 'ERROR: not found' };
        return {
          stdout: JSON.stringify({
            manifest: { digest: d('9') },
            image: { os: 'linux', architecture: 'arm64', config: { Labels: { [CONTENT_KEY_LABEL]: keyHit.key() } } },
          }),
        };
      }
      if (ref === BUSYBOX || ref === BASE_TAG) return { stdout: JSON.stringify({ digest: d('f') }) };
      if (argv.includes('--raw'))
        return { stdout: JSON.stringify({ mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {} }) };
      return { stdout: JSON.stringify({ manifest: { digest }, image: { os: 'linux', architecture: platform } }) };
    }
    return undefined;
  };
}

function workspace(dockerfile = `FROM ${BUSYBOX}\nCOPY app.txt /app.txt\n`) {
  const ctx = tmpContext();
  mkdirSync(join(ctx.root, 'apps/api'), { recursive: true });
  writeFileSync(join(ctx.root, 'apps/api/Dockerfile'), dockerfile);
  writeFileSync(join(ctx.root, 'apps/api/app.txt'), 'v1\n');
  return ctx;
}

const env = (platforms: string, dir = 'dist/nxcb-digests') => ({
  NX_COMPOSE_BUILDX_PLATFORMS: platforms,
  NX_COMPOSE_BUILDX_DIGESTS_DIR: dir,
});
const builds = (commands: string[]) => commands.filter((c) => c.startsWith('docker buildx build'));
const flag = (argv: string, name: string) => [...argv.matchAll(new RegExp(`${name} (\\S+)`, 'g'))].map((m) => m[1]);

beforeEach(() => resetBuilderCache());

describe('docker-push restricted to some platforms (a native runner)', () => {
  test('builds only the leg platform, pushes it under the leg tag on the docker driver, writes its digest file', async () => {
    const ctx = workspace();
    const { deps, commands, logs } = fakeDeps(engine(d('a')), { env: env('linux/arm64') });
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: true });
    const [build, ...more] = builds(commands());
    expect(more).toEqual([]);
    expect(flag(build!, '--platform')).toEqual(['linux/arm64']);
    expect(flag(build!, '-t')).toEqual([`${REPO}:nxcb-leg-arm64`]);
    expect(build).toContain('--push');
    // its own cache location per platform: two runners never overwrite each other's cache
    expect(flag(build!, '--cache-to')).toEqual(['type=registry,ref=127.0.0.1:5000/cache/api:buildcache-arm64,mode=max']);
    expect(flag(build!, '--cache-from')).toEqual(['type=registry,ref=127.0.0.1:5000/cache/api:buildcache-arm64']);
    expect(commands()).toContain(`docker buildx imagetools inspect --raw ${REPO}@${d('a')}`);
    expect(JSON.parse(readFileSync(join(ctx.root, 'dist/nxcb-digests/api/linux-arm64.json'), 'utf8'))).toEqual({
      project: 'api',
      service: 'api',
      platform: 'linux/arm64',
      repository: REPO,
      digest: d('a'),
      reused: false,
      tags: options.tags,
    });
    // no release tag is touched, and no push record claims one
    expect(commands().some((c) => c.includes('imagetools create'))).toBe(false);
    expect(existsSync(join(ctx.root, 'dist/docker/api/push-metadata.json'))).toBe(false);
    expect(logs.join('\n')).toMatch(/driver cannot push by digest/);
  });

  test('on a driver that can, pushes by digest with no tag at all', async () => {
    const ctx = workspace();
    const { deps, commands } = fakeDeps(engine(d('b'), CONTAINER_INSPECT), { env: env('linux/amd64') });
    expect(await dockerPush({ ...options, builder: 'multi' }, ctx, deps)).toEqual({ success: true });
    const build = builds(commands())[0]!;
    expect(flag(build, '-t')).toEqual([]);
    expect(build).not.toContain('--push');
    expect(flag(build, '--output')).toEqual([`type=image,name=${REPO},push-by-digest=true,name-canonical=true,push=true`]);
    expect(existsSync(join(ctx.root, 'dist/nxcb-digests/api/linux-amd64.json'))).toBe(true);
  });

  test('the option wins over the variable; two platforms on one runner are two builds', async () => {
    const ctx = workspace();
    const { deps, commands } = fakeDeps(engine(d('c')), { env: env('linux/s390x') });
    expect(await dockerPush({ ...options, onlyPlatforms: ['linux/amd64', 'linux/arm64'], digestsDir: 'out/d' }, ctx, deps)).toEqual({
      success: true,
    });
    expect(builds(commands()).map((b) => flag(b, '--platform')[0])).toEqual(['linux/amd64', 'linux/arm64']);
    expect(existsSync(join(ctx.root, 'out/d/api/linux-amd64.json'))).toBe(true);
    expect(existsSync(join(ctx.root, 'out/d/api/linux-arm64.json'))).toBe(true);
  });

  test.each([
    {
      name: 'declares none of them',
      platforms: ['linux/amd64'],
      message: /declares none of linux\/arm64 \(it declares linux\/amd64\): nothing to do/,
    },
    { name: 'declares no platform', platforms: [], message: /declares no platforms, so a run restricted to linux\/arm64 builds nothing/ },
  ])('a service that $name succeeds, says so, and runs nothing', async ({ platforms, message }) => {
    const ctx = workspace();
    const { deps, calls, logs } = fakeDeps(engine(d('a')), { env: env('linux/arm64') });
    expect(await dockerPush({ ...options, platforms }, ctx, deps)).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(logs.join('\n')).toMatch(message);
    expect(existsSync(join(ctx.root, 'dist/nxcb-digests'))).toBe(false);
  });

  test.each([
    { env: env('linux/arm64', '../elsewhere'), message: /digestsDir \.\.\/elsewhere lies outside the workspace/ },
    { env: env('linux/arm65'), message: /NX_COMPOSE_BUILDX_PLATFORMS=linux\/arm65: .*Did you mean "linux\/arm64"/ },
  ])('refuses $env before running anything', async ({ env, message }) => {
    const { deps, calls, logs } = fakeDeps(engine(d('a')), { env });
    expect(await dockerPush(options, workspace(), deps)).toEqual({ success: false });
    expect(calls).toEqual([]);
    expect(logs.join('\n')).toMatch(message);
  });

  test('a service built FROM another service of the workspace uses that service’s digest from this runner', async () => {
    const ctx = workspace(`FROM ${BASE_TAG}\nCOPY app.txt /app.txt\n`);
    const base = `127.0.0.1:5000/e2e/base@${d('e')}`;
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', {
      project: 'base',
      service: 'base',
      platform: 'linux/arm64',
      repository: '127.0.0.1:5000/e2e/base',
      digest: d('e'),
      reused: false,
      tags: [BASE_TAG],
    });
    // the other platform's record of the base must not be used for this runner's platform
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', {
      project: 'base',
      service: 'base',
      platform: 'linux/amd64',
      repository: '127.0.0.1:5000/e2e/base',
      digest: d('7'),
      reused: false,
      tags: [BASE_TAG],
    });
    const { deps, commands, logs } = fakeDeps(engine(d('a')), { env: env('linux/arm64') });
    expect(await dockerPush({ ...options, reuse: true }, ctx, deps)).toEqual({ success: true });
    const build = builds(commands())[0]!;
    expect(flag(build, '--build-context')).toEqual([`${BASE_TAG}=docker-image://${base}`]);
    expect(logs.join('\n')).toContain(`builds on ${BASE_TAG} as this runner pushed it: ${base}`);
    // the content key reads the pinned digest, never the base's (stale) tag
    const inspected = commands().filter((c) => c.includes('imagetools inspect'));
    expect(inspected.some((c) => c.endsWith(` ${BASE_TAG}`))).toBe(false);
    expect(inspected.some((c) => c.endsWith(` ${base}`))).toBe(true);
  });

  test('service: contexts are pinned too', async () => {
    const ctx = workspace();
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', {
      project: 'base',
      service: 'base',
      platform: 'linux/arm64',
      repository: '127.0.0.1:5000/e2e/base',
      digest: d('e'),
      reused: true,
      tags: [BASE_TAG],
    });
    const { deps, commands } = fakeDeps(engine(d('a')), { env: env('linux/arm64') });
    const r = await dockerPush(
      { ...options, additionalContexts: { shared: 'service:base' }, serviceImages: { base: BASE_TAG } },
      ctx,
      deps,
    );
    expect(r).toEqual({ success: true });
    expect(flag(builds(commands())[0]!, '--build-context')).toEqual([`shared=docker-image://127.0.0.1:5000/e2e/base@${d('e')}`]);
  });

  test('registry cache: a hit for this platform writes the digest file (reused) and builds nothing', async () => {
    const ctx = workspace();
    let key = '';
    const handler = engine(d('a'), DOCKER_INSPECT, { key: () => key });
    const { deps, commands } = fakeDeps(
      (argv, opts) => {
        const m = /:nxcb-([0-9a-f]{32})$/.exec(argv.at(-1)!);
        if (m) key = m[1]!;
        return handler(argv, opts);
      },
      { env: env('linux/arm64') },
    );
    expect(await dockerPush({ ...options, reuse: true }, ctx, deps)).toEqual({ success: true });
    expect(builds(commands())).toEqual([]);
    const record = JSON.parse(readFileSync(join(ctx.root, 'dist/nxcb-digests/api/linux-arm64.json'), 'utf8'));
    expect(record).toMatchObject({ platform: 'linux/arm64', digest: d('9'), reused: true, contentKey: key });
  });

  test('registry cache: a miss builds with the key label and also pushes the key tag', async () => {
    const ctx = workspace();
    const { deps, commands } = fakeDeps(engine(d('a')), { env: env('linux/arm64') });
    expect(await dockerPush({ ...options, reuse: true }, ctx, deps)).toEqual({ success: true });
    const build = builds(commands())[0]!;
    const tags = flag(build, '-t');
    expect(tags[0]).toBe(`${REPO}:nxcb-leg-arm64`);
    expect(tags[1]).toMatch(new RegExp(`^${REPO}:nxcb-[0-9a-f]{32}$`));
    expect(build).toContain(`${CONTENT_KEY_LABEL}=${tags[1]!.split(':nxcb-')[1]}`);
    expect(JSON.parse(readFileSync(join(ctx.root, 'dist/nxcb-digests/api/linux-arm64.json'), 'utf8'))).toMatchObject({
      reused: false,
      contentKey: tags[1]!.split(':nxcb-')[1],
    });
  });

  test('a pushed digest the registry does not serve as that platform fails, and writes no digest file', async () => {
    const ctx = workspace();
    const handler = engine(d('a'));
    const { deps, logs } = fakeDeps(
      (argv, opts) =>
        argv[2] === 'imagetools' && argv.at(-1) === `${REPO}@${d('a')}` && !argv.includes('--raw')
          ? { stdout: JSON.stringify({ manifest: { digest: d('a') }, image: { os: 'linux', architecture: 'amd64' } }) }
          : handler(argv, opts),
      { env: env('linux/arm64') },
    );
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: false });
    expect(logs.at(-1)).toMatch(/linux\/arm64: push not confirmed: .* is not one linux\/arm64 image \(has linux\/amd64\)/);
    expect(existsSync(join(ctx.root, 'dist/nxcb-digests/api/linux-arm64.json'))).toBe(false);
  });

  test('dry run prints the leg build and runs nothing but the builder check', async () => {
    const ctx = workspace();
    const { deps, commands, logs } = fakeDeps(engine(d('a')), { env: env('linux/arm64') });
    expect(await dockerPush({ ...options, dryRun: true }, ctx, deps)).toEqual({ success: true });
    expect(builds(commands())).toEqual([]);
    expect(logs.find((l) => l.startsWith('[dry-run] docker buildx build'))).toMatch(/--platform linux\/arm64 .*--push apps\/api$/);
    expect(existsSync(join(ctx.root, 'dist/nxcb-digests'))).toBe(false);
  });
});
