import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { resetBuilderCache } from '../shared/builder';
import { DOCKER_INSPECT, NOW, SHA, fakeDeps, tmpContext, type Handler } from '../shared/__fixtures__/fake-deps';
import type { BuildExecutorOptions } from '../shared/options';
import { dockerBuild } from './executor';

const d = (c: string) => `sha256:${c.repeat(64)}`;

const options: BuildExecutorOptions = {
  service: 'api',
  context: 'apps/api',
  dockerfile: 'apps/api/Dockerfile',
  platforms: ['linux/amd64'],
  args: { B: '2', A: '1' },
  tags: ['127.0.0.1:5000/api:1.0'],
  labels: {},
  cacheFrom: [],
  cacheTo: [],
  secrets: [{ id: 'npm', env: 'NPM_TOKEN' }],
  ssh: [],
  additionalContexts: {},
  extraHosts: [],
};

const OCI = [
  '--label',
  'org.opencontainers.image.created=2024-05-01T12:00:00Z',
  '--label',
  `org.opencontainers.image.revision=${SHA}`,
  '--label',
  'org.opencontainers.image.source=https://github.com/o/r',
];

/** Answers inspect with `inspect`, writes buildx's metadata file for builds. */
function engine(inspect: string, buildxMetadata: Record<string, unknown> | undefined, extra?: Handler): Handler {
  return (argv, opts) => {
    const more = extra?.(argv, opts);
    if (more) return more;
    if (argv[2] === 'inspect') return { stdout: inspect };
    if (argv[2] === 'build') {
      const i = argv.indexOf('--metadata-file');
      if (buildxMetadata && i > 0) writeFileSync(join(opts.cwd, argv[i + 1]!), JSON.stringify(buildxMetadata));
      return {};
    }
    return undefined;
  };
}

beforeEach(() => resetBuilderCache());

describe('docker-build executor', () => {
  test('single platform: exact argv, loads, metadata with the platform digest', async () => {
    const ctx = tmpContext();
    const { deps, calls, logs } = fakeDeps(
      engine(DOCKER_INSPECT, { 'containerimage.digest': d('1'), 'containerimage.config.digest': d('2') }),
    );
    expect(await dockerBuild(options, ctx, deps)).toEqual({ success: true });
    expect(calls.map((c) => c.argv)).toEqual([
      ['docker', 'buildx', 'inspect', '--bootstrap'],
      [
        'docker',
        'buildx',
        'build',
        '--progress=plain',
        '--platform',
        'linux/amd64',
        '-f',
        'apps/api/Dockerfile',
        '--build-arg',
        'A=1',
        '--build-arg',
        'B=2',
        ...OCI,
        '-t',
        '127.0.0.1:5000/api:1.0',
        '--secret',
        'id=npm,env=NPM_TOKEN',
        '--provenance=false',
        '--sbom=false',
        '--metadata-file',
        'dist/docker/api/.buildx-run1-metadata.json',
        '--load',
        'apps/api',
      ],
    ]);
    expect(calls[1]!.options).toMatchObject({ cwd: ctx.root, stream: true, prefix: '[api] ' });
    expect(JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/metadata.json'), 'utf8'))).toEqual({
      service: 'api',
      tags: ['127.0.0.1:5000/api:1.0'],
      platforms: { 'linux/amd64': { digest: d('1') } },
      manifestDigest: d('1'),
      pushed: false,
      loaded: true,
    });
    expect(existsSync(join(ctx.root, 'dist/docker/api/.buildx-run1-metadata.json'))).toBe(false);
    expect(logs[0]).toBe('[api] docker-build: linux/amd64 → 127.0.0.1:5000/api:1.0');
  });

  test('multi-platform on the docker driver: --load, per-platform digests from the local store', async () => {
    const ctx = tmpContext();
    const saved: string[] = [];
    const { deps, calls } = fakeDeps(
      engine(DOCKER_INSPECT, {
        'containerimage.descriptor': { mediaType: 'application/vnd.oci.image.index.v1+json', digest: d('9'), size: 1 },
        'containerimage.digest': d('9'),
      }),
      {
        localImageDigests: async (ref) => {
          saved.push(ref);
          return {
            manifestDigest: d('9'),
            platforms: [
              { platform: 'linux/amd64', digest: d('a') },
              { platform: 'linux/arm64', digest: d('b') },
            ],
          };
        },
      },
    );
    const r = await dockerBuild(
      {
        ...options,
        platforms: ['linux/amd64', 'linux/arm64/v8'],
        ociLabels: false,
        metadataFile: 'out/api.json',
        generatedTags: [{ type: 'sha' }, { type: 'latest' }],
      },
      ctx,
      deps,
    );
    expect(r.success).toBe(true);
    const build = calls[1]!.argv;
    expect(build).toContain('--load');
    expect(build.slice(build.indexOf('--platform'), build.indexOf('--platform') + 2)).toEqual(['--platform', 'linux/amd64,linux/arm64']);
    expect(build.filter((a, i) => build[i - 1] === '-t')).toEqual([
      '127.0.0.1:5000/api:1.0',
      '127.0.0.1:5000/api:sha-0123456',
      '127.0.0.1:5000/api:latest',
    ]);
    expect(build).not.toContain('--label');
    expect(saved).toEqual(['127.0.0.1:5000/api:1.0']);
    expect(JSON.parse(readFileSync(join(ctx.root, 'out/api.json'), 'utf8'))).toEqual({
      service: 'api',
      tags: ['127.0.0.1:5000/api:1.0', '127.0.0.1:5000/api:sha-0123456', '127.0.0.1:5000/api:latest'],
      platforms: { 'linux/amd64': { digest: d('a') }, 'linux/arm64': { digest: d('b') } },
      manifestDigest: d('9'),
      pushed: false,
      loaded: true,
    });
  });

  test('multi-platform on docker-container: stays in the builder cache', async () => {
    const ctx = tmpContext();
    const inspect = DOCKER_INSPECT.replace('Driver:        docker', 'Driver:        docker-container').replace(
      'Name:          default',
      'Name:          multi',
    );
    const { deps, calls } = fakeDeps(engine(inspect, {}), {
      localImageDigests: async () => {
        throw new Error('must not be called');
      },
    });
    const r = await dockerBuild({ ...options, platforms: ['linux/amd64', 'linux/arm64'], builder: 'multi' }, ctx, deps);
    expect(r.success).toBe(true);
    expect(calls[0]!.argv).toEqual(['docker', 'buildx', 'inspect', '--bootstrap', 'multi']);
    expect(calls[1]!.argv).not.toContain('--load');
    expect(calls[1]!.argv).not.toContain('--push');
    expect(calls[1]!.argv.slice(3, 5)).toEqual(['--builder', 'multi']);
    const meta = JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/metadata.json'), 'utf8'));
    expect(meta).toEqual({
      service: 'api',
      tags: ['127.0.0.1:5000/api:1.0'],
      platforms: { 'linux/amd64': {}, 'linux/arm64': {} },
      pushed: false,
      loaded: false,
    });
  });

  test('unsupported platforms fail before building, naming each and the fix', async () => {
    const ctx = tmpContext();
    const inspect = DOCKER_INSPECT.replace(/^Platforms:.*$/m, 'Platforms: linux/amd64, linux/386');
    const { deps, commands, logs } = fakeDeps(engine(inspect, {}), {
      readBinfmt: () => ({ status: 'enabled', 'qemu-aarch64': 'enabled\n', 'qemu-s390x': 'disabled\n' }),
    });
    const r = await dockerBuild({ ...options, platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/riscv64'] }, ctx, deps);
    expect(r).toEqual({ success: false });
    expect(commands()).toEqual(['docker buildx inspect --bootstrap']);
    const msg = logs.slice(1).join('\n'); // the lines after the header, each prefixed
    expect(logs.slice(1).every((l) => l.startsWith('[api] '))).toBe(true);
    expect(msg).toContain('Service "api"');
    expect(msg).toContain('linux/s390x');
    expect(msg).toContain('linux/riscv64');
    expect(msg).not.toContain('linux/arm64:');
    expect(msg).toContain('tonistiigi/binfmt --install s390x,riscv64');
  });

  test('a builder spec is created once, with nodes, then bootstrapped and reused', async () => {
    const ctx = tmpContext();
    let created = false;
    const { deps, commands } = fakeDeps(
      engine(DOCKER_INSPECT.replace('Driver:        docker', 'Driver:        docker-container'), {}, (argv) => {
        if (argv[2] === 'inspect' && !created) return { exitCode: 1, stderr: 'ERROR: no builder "multi" found' };
        if (argv[2] === 'create' && !argv.includes('--append')) created = true;
        return undefined;
      }),
    );
    const builder = {
      name: 'multi',
      driver: 'docker-container',
      driverOpts: { network: 'host' },
      platforms: ['linux/amd64'],
      nodes: [{ name: 'arm', endpoint: 'ssh://arm-host', platforms: ['linux/arm64'] }],
    };
    expect((await dockerBuild({ ...options, builder }, ctx, deps)).success).toBe(true);
    expect((await dockerBuild({ ...options, builder }, ctx, deps)).success).toBe(true);
    expect(commands().filter((c) => !c.includes('buildx build'))).toEqual([
      'docker buildx inspect --bootstrap multi',
      'docker buildx create --name multi --driver docker-container --driver-opt network=host --platform linux/amd64',
      'docker buildx create --append --name multi --node arm --platform linux/arm64 ssh://arm-host',
      'docker buildx inspect --bootstrap multi',
    ]);
  });

  test('a named builder that does not exist is a clear error', async () => {
    const { deps, logs } = fakeDeps(() => ({ exitCode: 1, stderr: 'ERROR: no builder "nope" found' }));
    expect(await dockerBuild({ ...options, builder: 'nope' }, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.join('\n')).toMatch(/Builder "nope" is not usable: ERROR: no builder "nope" found/);
  });

  test('dry run prints the exact commands and runs nothing', async () => {
    const ctx = tmpContext();
    const { deps, calls, logs } = fakeDeps(() => {
      throw new Error('nothing may run');
    });
    const r = await dockerBuild(
      { ...options, dryRun: true, dockerfile: undefined, dockerfileInline: 'FROM scratch', builder: { name: 'multi' } },
      ctx,
      deps,
    );
    expect(r).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(logs).toContain('[dry-run] docker buildx inspect --bootstrap multi');
    expect(logs).toContain('[dry-run] docker buildx create --name multi --driver docker-container');
    expect(logs.find((l) => l.startsWith('[dry-run] docker buildx build'))).toBe(
      `[dry-run] docker buildx build --builder multi --progress=plain --platform linux/amd64 -f - --build-arg A=1 --build-arg B=2 ` +
        `--label org.opencontainers.image.created=2024-05-01T12:00:00Z --label org.opencontainers.image.revision=${SHA} ` +
        `--label org.opencontainers.image.source=https://github.com/o/r ` +
        `-t 127.0.0.1:5000/api:1.0 --secret id=npm,env=NPM_TOKEN --provenance=false --sbom=false ` +
        `--metadata-file dist/docker/api/.buildx-run1-metadata.json --load apps/api  (inline Dockerfile on stdin)`,
    );
    expect(existsSync(join(ctx.root, 'dist'))).toBe(false);
  });

  test('inline Dockerfile goes to stdin; TTY without CI lets BuildKit pick progress', async () => {
    const ctx = tmpContext();
    const { deps, calls } = fakeDeps(engine(DOCKER_INSPECT, {}), { isTTY: true, env: {} });
    await dockerBuild({ ...options, dockerfile: undefined, dockerfileInline: 'FROM scratch\n' }, ctx, deps);
    expect(calls[1]!.argv).toContain('--progress=auto');
    expect(calls[1]!.options).toMatchObject({ stdin: 'FROM scratch\n', stream: true });
    expect(calls[1]!.options.prefix).toBeUndefined();
  });

  test('build failure fails the task', async () => {
    const { deps, logs } = fakeDeps(engine(DOCKER_INSPECT, {}, (argv) => (argv[2] === 'build' ? { exitCode: 1 } : undefined)));
    expect(await dockerBuild(options, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.at(-1)).toBe('[api] docker buildx build failed (exit 1)');
  });

  test('invalid platform fails with a suggestion', async () => {
    const { deps, calls, logs } = fakeDeps(() => undefined);
    expect(await dockerBuild({ ...options, platforms: ['linux/arm65'] }, tmpContext(), deps)).toEqual({ success: false });
    expect(calls).toEqual([]);
    expect(logs.at(-1)).toMatch(/Did you mean "linux\/arm64"/);
  });

  test('the run passes the environment and git to normalise: read-only cache, SOURCE_DATE_EPOCH from the commit', async () => {
    const { deps, calls } = fakeDeps(engine(DOCKER_INSPECT, {}), {
      env: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' },
      gitFacts: async () => ({ sha: SHA, defaultBranch: 'main', commitTime: '2024-04-30T10:00:00Z' }),
    });
    const withCache = { ...options, cacheFrom: ['type=registry,ref=r/c'], cacheTo: ['type=registry,ref=r/c,mode=max'] };
    expect(await dockerBuild(withCache, tmpContext(), deps)).toEqual({ success: true });
    const build = calls[1]!.argv;
    expect(build).not.toContain('--cache-to');
    expect(build).toContain('--cache-from');
    expect(build).toContain(`SOURCE_DATE_EPOCH=${Date.parse('2024-04-30T10:00:00Z') / 1000}`);
  });

  describe('content-stable (an epoch from the commit): the OCI layout is loaded as it is', () => {
    const gitFacts = async () => ({ sha: SHA, defaultBranch: 'main', commitTime: '2024-04-30T10:00:00Z' });
    const multi = { ...options, platforms: ['linux/amd64', 'linux/arm64'], metadataFile: 'out/api.json' };
    /** What buildx writes for the layout build: an index of two platforms, named by the tag. */
    const layout = (argv: string[], cwd: string) => {
      const dest = /(?:^|,)dest=([^,]+)/.exec(argv[argv.indexOf('--output') + 1]!)![1]!;
      const index = JSON.stringify({
        manifests: [
          { digest: d('a'), platform: { os: 'linux', architecture: 'amd64' } },
          { digest: d('b'), platform: { os: 'linux', architecture: 'arm64' } },
        ],
      });
      mkdirSync(join(cwd, dest, 'blobs', 'sha256'), { recursive: true });
      writeFileSync(join(cwd, dest, 'blobs', 'sha256', 'c'.repeat(64)), index);
      const entry = { mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', digest: d('c') };
      writeFileSync(join(cwd, dest, 'index.json'), JSON.stringify({ manifests: [entry] }));
      return {};
    };

    test('one build writes the layout under the tags, docker load takes it, the layout gives the digests (no republish, no docker save)', async () => {
      const ctx = tmpContext();
      const loaded: Array<readonly string[]> = [];
      const { deps, calls, logs } = fakeDeps(
        engine(DOCKER_INSPECT, undefined, (argv, o) => (argv[2] === 'build' ? layout(argv, o.cwd) : undefined)),
        {
          gitFacts,
          loadOciLayout: async (path, names) => {
            expect(readFileSync(join(path, 'index.json'), 'utf8')).toContain(d('c'));
            loaded.push(names);
            return undefined;
          },
          localImageDigests: async () => {
            throw new Error('docker save must not run');
          },
        },
      );
      expect(await dockerBuild(multi, ctx, deps)).toEqual({ success: true });
      const builds = calls.filter((c) => c.argv[2] === 'build').map((c) => c.argv);
      expect(builds).toHaveLength(1);
      const output = builds[0]![builds[0]!.indexOf('--output') + 1]!;
      expect(output).toBe('type=oci,dest=out/.oci-run1-api,tar=false,rewrite-timestamp=true,oci-mediatypes=false');
      expect(builds[0]!.slice(builds[0]!.indexOf('-t'), builds[0]!.indexOf('-t') + 2)).toEqual(['-t', '127.0.0.1:5000/api:1.0']);
      expect(builds[0]).not.toContain('--load');
      expect(loaded).toEqual([['127.0.0.1:5000/api:1.0']]);
      expect(JSON.parse(readFileSync(join(ctx.root, 'out/api.json'), 'utf8'))).toEqual({
        service: 'api',
        tags: ['127.0.0.1:5000/api:1.0'],
        platforms: { 'linux/amd64': { digest: d('a') }, 'linux/arm64': { digest: d('b') } },
        manifestDigest: d('c'),
        pushed: false,
        loaded: true,
      });
      expect(logs.join('\n')).toContain('[api] docker load < out/.oci-run1-api (as a tar)');
      expect(existsSync(join(ctx.root, 'out/.oci-run1-api'))).toBe(false); // the layout is removed
    });

    test('a docker load the engine refuses falls back to the republish with buildx', async () => {
      const ctx = tmpContext();
      const { deps, calls, logs } = fakeDeps(
        engine(DOCKER_INSPECT, { 'containerimage.digest': d('c') }, (argv, o) =>
          argv[2] === 'build' && argv.includes('--output') ? layout(argv, o.cwd) : undefined,
        ),
        {
          gitFacts,
          loadOciLayout: async () => 'docker load failed (exit 1): unsupported',
          localImageDigests: async () => ({ manifestDigest: d('c'), platforms: [{ platform: 'linux/amd64', digest: d('a') }] }),
        },
      );
      expect(await dockerBuild(multi, ctx, deps)).toEqual({ success: true });
      const republish = calls.filter((c) => c.argv[2] === 'build')[1]!.argv;
      expect(republish).toContain(`nxcb-image=oci-layout://${join(ctx.root, 'out/.oci-run1-api')}@${d('c')}`);
      expect(republish).toContain('--load');
      expect(logs.join('\n')).toContain('[api] docker load failed (exit 1): unsupported; loading it with buildx instead');
    });
  });

  test('generated values never reach options: the same options give the same argv apart from run-time labels', async () => {
    const { deps, calls } = fakeDeps(engine(DOCKER_INSPECT, {}), { now: () => new Date(NOW.getTime() + 1000) });
    await dockerBuild(options, tmpContext(), deps);
    expect(calls[1]!.argv).toContain('org.opencontainers.image.created=2024-05-01T12:00:01Z');
    expect(options.labels).toEqual({});
    expect(options.tags).toEqual(['127.0.0.1:5000/api:1.0']);
  });
});

describe('docker-build on a native runner (NX_COMPOSE_BUILDX_PLATFORMS): a pull request leg', () => {
  const env = { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm64' };
  const multi = { ...options, platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'], metadataFile: 'out/api.json' };

  test('builds only the declared platforms it is restricted to', async () => {
    const ctx = tmpContext();
    const { deps, calls } = fakeDeps(engine(DOCKER_INSPECT, { 'containerimage.digest': d('1') }), {
      env,
      localImageDigests: async () => ({ manifestDigest: d('9'), platforms: [{ platform: 'linux/arm64', digest: d('b') }] }),
    });
    expect((await dockerBuild(multi, ctx, deps)).success).toBe(true);
    const build = calls.find((c) => c.argv[2] === 'build')!.argv;
    expect(build[build.indexOf('--platform') + 1]).toBe('linux/arm64');
    expect(build).not.toContain('--push');
    expect(Object.keys(JSON.parse(readFileSync(join(ctx.root, 'out/api.json'), 'utf8')).platforms)).toEqual(['linux/arm64']);
  });

  test.each([
    { platforms: ['linux/amd64'], says: 'it declares linux/amd64' },
    { platforms: [], says: 'it declares no platforms' },
  ])('a service declaring $platforms builds nothing there, and says so', async ({ platforms, says }) => {
    const ctx = tmpContext();
    const { deps, calls, logs } = fakeDeps(engine(DOCKER_INSPECT, { 'containerimage.digest': d('1') }), { env });
    expect((await dockerBuild({ ...multi, platforms }, ctx, deps)).success).toBe(true);
    expect(calls).toEqual([]);
    expect(logs.join('\n')).toContain(`restricted to linux/arm64, ${says}: nothing to build on this runner`);
    expect(existsSync(join(ctx.root, 'out/api.json'))).toBe(false);
  });
});

describe('docker-build and secret-like build args', () => {
  const value = 'hunter2-arg-value-77';
  test.each([false, true])('dry run %s: the printed command masks the value; the command that runs keeps it', async (dryRun) => {
    resetBuilderCache();
    const { deps, calls, logs } = fakeDeps(engine(DOCKER_INSPECT, {}));
    expect(await dockerBuild({ ...options, dryRun, args: { NPM_TOKEN: value, A: '1' } }, tmpContext(), deps)).toEqual({ success: true });
    const printed = logs.find((l) => l.includes('docker buildx build'))!;
    expect(printed).toContain("--build-arg 'NPM_TOKEN=****' ");
    expect(printed).toContain('--build-arg A=1 ');
    expect(logs.join('\n')).not.toContain(value);
    if (!dryRun) expect(calls.find((c) => c.argv[2] === 'build')!.argv).toContain(`NPM_TOKEN=${value}`);
  });
});

describe('docker-build and the run layer', () => {
  test('docker missing from PATH: the task fails saying so', async () => {
    resetBuilderCache();
    const missing = '`docker` was not found on PATH (PATH=/usr/bin): install it or fix PATH';
    const { deps, logs } = fakeDeps(() => ({ exitCode: 1, failure: missing }));
    expect(await dockerBuild(options, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.at(-1)).toBe(`[api] docker-build: Cannot check the buildx builder: ${missing}`);
  });

  test('every command has a timeout: the build the long one, queries the short one; the option wins over the variable', async () => {
    resetBuilderCache();
    const { deps, calls } = fakeDeps(engine(DOCKER_INSPECT, {}), { env: { NX_COMPOSE_BUILDX_TIMEOUT: '7200' } });
    expect(await dockerBuild(options, tmpContext(), deps)).toEqual({ success: true });
    expect(calls.map((c) => [c.argv[2], c.options.timeoutMs])).toEqual([
      ['inspect', 600_000],
      ['build', 7_200_000],
    ]);
    resetBuilderCache();
    const again = fakeDeps(engine(DOCKER_INSPECT, {}), { env: { NX_COMPOSE_BUILDX_TIMEOUT: '7200' } });
    expect(await dockerBuild({ ...options, timeout: 90 }, tmpContext(), again.deps)).toEqual({ success: true });
    expect(again.calls.map((c) => c.options.timeoutMs)).toEqual([90_000, 90_000]);
  });

  test('a timeout that is not a number of seconds fails the task before anything runs', async () => {
    const { deps, calls, logs } = fakeDeps(() => undefined, { env: { NX_COMPOSE_BUILDX_TIMEOUT: 'never' } });
    expect(await dockerBuild(options, tmpContext(), deps)).toEqual({ success: false });
    expect(calls).toEqual([]);
    expect(logs.at(-1)).toMatch(/NX_COMPOSE_BUILDX_TIMEOUT must be a number of seconds/);
  });
});

describe('docker-build without the buildx plugin', () => {
  test('says how to install it', async () => {
    resetBuilderCache();
    const { deps, logs } = fakeDeps(() => ({ exitCode: 125, stderr: 'unknown flag: --bootstrap\n\nUsage:  docker [OPTIONS] COMMAND' }));
    expect(await dockerBuild(options, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.at(-1)).toMatch(/docker buildx plugin is not installed/);
  });
});
