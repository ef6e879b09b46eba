import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import type { BuildOptions } from '../build-spec/types';
import {
  buildArgv,
  builderAppendArgv,
  builderCreateArgv,
  builderInspectArgv,
  imagetoolsInspectArgv,
  progressFor,
  republishArgv,
  runArgv,
  type BuildArgvSettings,
  type BuildMode,
} from './argv';

const base: BuildOptions = {
  context: 'apps/api',
  dockerfile: 'apps/api/Dockerfile',
  platforms: ['linux/amd64'],
  args: {},
  tags: ['127.0.0.1:5000/api:1.0'],
  labels: {},
  cacheFrom: [],
  cacheTo: [],
  secrets: [],
  ssh: [],
  additionalContexts: {},
  extraHosts: [],
};
const D = ['docker', 'buildx', 'build'];
const TAIL = ['--provenance=false', '--sbom=false'];

const cases: Array<[string, Partial<BuildOptions>, BuildMode, BuildArgvSettings, string[]]> = [
  [
    'single platform build loads',
    {},
    'build',
    {},
    [
      ...D,
      '--progress=auto',
      '--platform',
      'linux/amd64',
      '-f',
      'apps/api/Dockerfile',
      '-t',
      '127.0.0.1:5000/api:1.0',
      ...TAIL,
      '--load',
      'apps/api',
    ],
  ],
  [
    'multi-platform build loads by default (docker driver + containerd store)',
    { platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'] },
    'build',
    {},
    [
      ...D,
      '--progress=auto',
      '--platform',
      'linux/amd64,linux/arm64,linux/arm/v7',
      '-f',
      'apps/api/Dockerfile',
      '-t',
      '127.0.0.1:5000/api:1.0',
      ...TAIL,
      '--load',
      'apps/api',
    ],
  ],
  [
    'multi-platform build on a driver that cannot load stays in the builder cache',
    { platforms: ['linux/amd64', 'linux/arm64'] },
    'build',
    { loadMultiPlatform: false },
    [
      ...D,
      '--progress=auto',
      '--platform',
      'linux/amd64,linux/arm64',
      '-f',
      'apps/api/Dockerfile',
      '-t',
      '127.0.0.1:5000/api:1.0',
      ...TAIL,
      'apps/api',
    ],
  ],
  [
    'single platform still loads when loadMultiPlatform is false',
    {},
    'build',
    { loadMultiPlatform: false },
    [
      ...D,
      '--progress=auto',
      '--platform',
      'linux/amd64',
      '-f',
      'apps/api/Dockerfile',
      '-t',
      '127.0.0.1:5000/api:1.0',
      ...TAIL,
      '--load',
      'apps/api',
    ],
  ],
  [
    'push with two tags',
    { platforms: ['linux/amd64', 'linux/arm64'], tags: ['r/api:1', 'r/api:latest'] },
    'push',
    {},
    [
      ...D,
      '--progress=auto',
      '--platform',
      'linux/amd64,linux/arm64',
      '-f',
      'apps/api/Dockerfile',
      '-t',
      'r/api:1',
      '-t',
      'r/api:latest',
      ...TAIL,
      '--push',
      'apps/api',
    ],
  ],
  [
    'no platforms: no --platform flag',
    { platforms: [], tags: [] },
    'build',
    {},
    [...D, '--progress=auto', '-f', 'apps/api/Dockerfile', ...TAIL, '--load', 'apps/api'],
  ],
  [
    'inline dockerfile reads stdin',
    { dockerfile: undefined, dockerfileInline: 'FROM scratch\n', tags: [] },
    'build',
    {},
    [...D, '--progress=auto', '--platform', 'linux/amd64', '-f', '-', ...TAIL, '--load', 'apps/api'],
  ],
  [
    'every option, sorted args and labels, secrets by reference only',
    {
      target: 'prod',
      args: { ZED: 'z', ALPHA: 'a b', EMPTY: '' },
      labels: { 'org.b': '2', 'org.a': '1' },
      cacheFrom: ['type=registry,ref=r/api:cache'],
      cacheTo: ['type=registry,ref=r/api:cache,mode=max'],
      secrets: [{ id: 'npm', src: 'secrets/npmrc' }, { id: 'token', env: 'API_TOKEN' }, { id: 'bare' }],
      ssh: ['default'],
      additionalContexts: { shared: 'libs/shared', base: 'service:base', img: 'docker-image://alpine:3' },
      network: 'none',
      shmSize: '2g',
      extraHosts: ['db:10.0.0.2', 'cache=10.0.0.3'],
      noCache: true,
      pull: true,
    },
    'build',
    {
      serviceImages: { base: '127.0.0.1:5000/base:1' },
      builder: 'multi',
      progress: 'plain',
      metadataFile: 'dist/docker/api/.buildx-metadata.json',
      provenance: 'mode=max',
      sbom: true,
    },
    [
      ...D,
      '--builder',
      'multi',
      '--progress=plain',
      '--platform',
      'linux/amd64',
      '-f',
      'apps/api/Dockerfile',
      '--target',
      'prod',
      '--build-arg',
      'ALPHA=a b',
      '--build-arg',
      'EMPTY=',
      '--build-arg',
      'ZED=z',
      '--label',
      'org.a=1',
      '--label',
      'org.b=2',
      '-t',
      '127.0.0.1:5000/api:1.0',
      '--cache-from',
      'type=registry,ref=r/api:cache',
      '--cache-to',
      'type=registry,ref=r/api:cache,mode=max',
      '--secret',
      'id=npm,src=secrets/npmrc',
      '--secret',
      'id=token,env=API_TOKEN',
      '--secret',
      'id=bare',
      '--ssh',
      'default',
      '--build-context',
      'base=docker-image://127.0.0.1:5000/base:1',
      '--build-context',
      'img=docker-image://alpine:3',
      '--build-context',
      'shared=libs/shared',
      '--network',
      'none',
      '--shm-size',
      '2g',
      '--add-host',
      'db:10.0.0.2',
      '--add-host',
      'cache:10.0.0.3',
      '--no-cache',
      '--pull',
      '--provenance=mode=max',
      '--sbom=true',
      '--metadata-file',
      'dist/docker/api/.buildx-metadata.json',
      '--load',
      'apps/api',
    ],
  ],
  [
    'ulimits and entitlements come after the other build fields',
    { tags: [], ulimits: ['nofile=1024:2048', 'nproc=512'], entitlements: ['network.host', 'security.insecure'] },
    'build',
    {},
    [
      ...D,
      '--progress=auto',
      '--platform',
      'linux/amd64',
      '-f',
      'apps/api/Dockerfile',
      '--ulimit',
      'nofile=1024:2048',
      '--ulimit',
      'nproc=512',
      '--allow',
      'network.host',
      '--allow',
      'security.insecure',
      ...TAIL,
      '--load',
      'apps/api',
    ],
  ],
  [
    'a bake-style target: context resolves like service:',
    { tags: [], additionalContexts: { base: 'target:base' } },
    'build',
    { serviceImages: { base: 'r/base:1' } },
    [
      ...D,
      '--progress=auto',
      '--platform',
      'linux/amd64',
      '-f',
      'apps/api/Dockerfile',
      '--build-context',
      'base=docker-image://r/base:1',
      ...TAIL,
      '--load',
      'apps/api',
    ],
  ],
  [
    'secret path with a comma is CSV-quoted',
    { secrets: [{ id: 'k', src: 'a,b/key' }], tags: [] },
    'build',
    {},
    [
      ...D,
      '--progress=auto',
      '--platform',
      'linux/amd64',
      '-f',
      'apps/api/Dockerfile',
      '--secret',
      'id=k,"src=a,b/key"',
      ...TAIL,
      '--load',
      'apps/api',
    ],
  ],
  [
    'remote context without dockerfile',
    { context: 'https://github.com/o/r.git#main:app', dockerfile: undefined, tags: [] },
    'build',
    {},
    [...D, '--progress=auto', '--platform', 'linux/amd64', ...TAIL, '--load', 'https://github.com/o/r.git#main:app'],
  ],
];

describe('buildArgv', () => {
  test.each(cases)('%s', (_name, overrides, mode, settings, expected) => {
    expect(buildArgv({ ...base, ...overrides }, mode, settings)).toEqual(expected);
  });

  test('service: context without a known image is a clear error', () => {
    expect(() => buildArgv({ ...base, additionalContexts: { b: 'service:base' } }, 'build', {})).toThrow(
      /names service "base", but no image is known/,
    );
  });

  test('invalid platform is rejected before anything runs', () => {
    expect(() => buildArgv({ ...base, platforms: ['linux/arm65'] }, 'build')).toThrow(/Did you mean "linux\/arm64"/);
  });

  test('no secret value can appear: only ids, paths and variable names', () => {
    // Real secret values where a leaking implementation would find them: the variable set in the
    // environment, the file on disk. Neither value may reach the argv.
    const value = 'hunter2-secret-value-4f1c';
    const dir = mkdtempSync(join(tmpdir(), 'nxcb-secret-'));
    const file = join(dir, 'npmrc');
    writeFileSync(file, value);
    vi.stubEnv('API_TOKEN', value);
    try {
      const argv = buildArgv(
        {
          ...base,
          secrets: [
            { id: 'token', env: 'API_TOKEN' },
            { id: 'npmrc', src: file },
          ],
        },
        'push',
      );
      expect(argv.join(' ')).not.toContain(value);
      expect(argv.join(' ')).not.toMatch(/--build-arg token/i);
      expect(argv).toContain('id=token,env=API_TOKEN');
      expect(argv).toContain(`id=npmrc,src=${file}`);
    } finally {
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('progressFor', () => {
  test.each([
    [true, {}, 'auto'],
    [false, {}, 'plain'],
    [true, { CI: 'true' }, 'plain'],
    [true, { CI: '1' }, 'plain'],
    [true, { CI: 'false' }, 'auto'],
    [true, { CI: '' }, 'auto'],
  ] as const)('tty=%s env=%j → %s', (tty, env, expected) => {
    expect(progressFor(tty, env)).toBe(expected);
  });
});

describe('other argv builders', () => {
  test.each([
    [
      'content-stable build: an OCI layout with rewrite-timestamp instead of --push/--load',
      buildArgv({ ...base, platforms: [], dockerfile: undefined, tags: [] } as unknown as BuildOptions, 'push', {
        ociLayout: 'dist/a,b/.oci-1',
      }),
      [
        'docker',
        'buildx',
        'build',
        '--progress=auto',
        '--provenance=false',
        '--sbom=false',
        '--output',
        'type=oci,"dest=dist/a,b/.oci-1",tar=false,rewrite-timestamp=true,oci-mediatypes=false',
        'apps/api',
      ],
    ],
    [
      'republish a layout: push',
      republishArgv(
        {
          source: 'oci-layout:///ws/d/.oci-1@sha256:ab',
          platforms: ['linux/arm64', 'linux/amd64'],
          tags: ['r/a:1'],
          sourceDateEpoch: '17',
        },
        'push',
        'd/.oci-1',
        { builder: 'b', progress: 'plain', metadataFile: 'd/.buildx-1-m.json' },
      ),
      [
        'docker',
        'buildx',
        'build',
        '--builder',
        'b',
        '--progress=plain',
        '-f',
        '-',
        '--platform',
        'linux/arm64,linux/amd64',
        '--build-arg',
        'SOURCE_DATE_EPOCH=17',
        '--build-context',
        'nxcb-image=oci-layout:///ws/d/.oci-1@sha256:ab',
        '-t',
        'r/a:1',
        '--provenance=false',
        '--sbom=false',
        '--metadata-file',
        'd/.buildx-1-m.json',
        '--push',
        'd/.oci-1',
      ],
    ],
    [
      'republish a registry image: load',
      republishArgv({ source: 'docker-image://r/a@sha256:ab', platforms: [], tags: ['-t'], sourceDateEpoch: '17' }, 'build', 'd'),
      [
        'docker',
        'buildx',
        'build',
        '--progress=auto',
        '-f',
        '-',
        '--build-arg',
        'SOURCE_DATE_EPOCH=17',
        '--build-context',
        'nxcb-image=docker-image://r/a@sha256:ab',
        '-t',
        '-t',
        '--provenance=false',
        '--sbom=false',
        '--load',
        'd',
      ],
    ],
    ['imagetools raw', imagetoolsInspectArgv('r/api:1'), ['docker', 'buildx', 'imagetools', 'inspect', '--raw', 'r/api:1']],
    [
      'imagetools format',
      imagetoolsInspectArgv('r/api:1', { raw: false, format: '{{json .Image}}', builder: 'b' }),
      ['docker', 'buildx', 'imagetools', 'inspect', '--builder', 'b', '--format', '{{json .Image}}', 'r/api:1'],
    ],
    [
      'run default network none',
      runArgv('linux/arm64', 'r/api:1', ['uname', '-m']),
      ['docker', 'run', '--rm', '--network', 'none', '--platform', 'linux/arm64', 'r/api:1', 'uname', '-m'],
    ],
    [
      'run with network and pull',
      runArgv('linux/s390x', 'r/api:1', ['sh', '-c', 'echo ok'], { network: 'host', pull: 'always' }),
      ['docker', 'run', '--rm', '--network', 'host', '--platform', 'linux/s390x', '--pull', 'always', 'r/api:1', 'sh', '-c', 'echo ok'],
    ],
    [
      'create builder, made current only when asked (use: true)',
      builderCreateArgv({
        name: 'multi',
        driver: 'docker-container',
        driverOpts: { network: 'host', image: 'moby/buildkit:v0.13.2' },
        platforms: ['linux/amd64', 'linux/arm64/v8'],
        use: true,
      }),
      [
        'docker',
        'buildx',
        'create',
        '--name',
        'multi',
        '--driver',
        'docker-container',
        '--driver-opt',
        'image=moby/buildkit:v0.13.2',
        '--driver-opt',
        'network=host',
        '--platform',
        'linux/amd64,linux/arm64',
        '--use',
      ],
    ],
    [
      "create builder minimal: the user's current builder stays",
      builderCreateArgv({ name: 'b' }),
      ['docker', 'buildx', 'create', '--name', 'b', '--driver', 'docker-container'],
    ],
    [
      'append node',
      builderAppendArgv('multi', { name: 'arm', endpoint: 'ssh://me@arm-host', platforms: ['linux/arm64'], driverOpts: { env: 'x' } }),
      [
        'docker',
        'buildx',
        'create',
        '--append',
        '--name',
        'multi',
        '--node',
        'arm',
        '--driver-opt',
        'env=x',
        '--platform',
        'linux/arm64',
        'ssh://me@arm-host',
      ],
    ],
    ['inspect bootstrap', builderInspectArgv('multi'), ['docker', 'buildx', 'inspect', '--bootstrap', 'multi']],
    ['inspect current', builderInspectArgv(undefined, { bootstrap: false }), ['docker', 'buildx', 'inspect']],
  ])('%s', (_name, actual, expected) => {
    expect(actual).toEqual(expected);
  });
});
