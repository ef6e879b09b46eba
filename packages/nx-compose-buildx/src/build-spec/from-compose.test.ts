import { describe, expect, it } from 'vitest';
import { buildSpecsFromProject } from './from-compose';
import type { ComposeProject, ComposeService } from '../compose/types';

const WS = '/ws';
const existing = new Set(['/ws/app', '/ws/app/Dockerfile', '/ws/app/build/api.Dockerfile', '/ws/shared', '/ws/app/secret.txt', '/ws']);
const env = { workspaceRoot: WS, exists: (p: string) => existing.has(p) };

function project(services: Record<string, Partial<ComposeService>>): ComposeProject {
  return {
    name: 'shop',
    projectDir: '/ws/app',
    files: ['/ws/app/compose.yaml'],
    secrets: { token: { file: '/ws/app/secret.txt' }, npmrc: { environment: 'NPM_TOKEN' } },
    services: Object.fromEntries(
      Object.entries(services).map(([name, s]) => [
        name,
        { name, definition: {}, variables: [], sources: [{ file: '/ws/app/compose.yaml', line: 3 }], ...s } as ComposeService,
      ]),
    ),
  };
}

describe('buildSpecsFromProject', () => {
  it.each([
    {
      name: 'context and default Dockerfile become workspace-relative',
      service: { build: { context: '/ws/app' }, image: 'reg/app:1' },
      expected: { context: 'app', dockerfile: 'app/Dockerfile', tags: ['reg/app:1'], platforms: [] },
    },
    {
      name: 'Dockerfile resolves against the context; tags append after image',
      service: { build: { context: '/ws/app', dockerfile: 'build/api.Dockerfile', tags: ['reg/app:extra'] }, image: 'reg/app:1' },
      expected: { dockerfile: 'app/build/api.Dockerfile', tags: ['reg/app:1', 'reg/app:extra'] },
    },
    {
      name: 'no image: Compose names it <project>-<service>',
      service: { build: { context: '/ws/app' } },
      expected: { tags: ['shop-svc'] },
    },
    {
      name: 'platforms are normalised and deduplicated',
      service: { build: { context: '/ws/app', platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm64'] } },
      expected: { platforms: ['linux/amd64', 'linux/arm64'] },
    },
    {
      name: 'service-level platform is built when build.platforms is empty (compose applyPlatforms)',
      service: { build: { context: '/ws/app' }, platform: 'linux/arm64/v8' },
      expected: { platforms: ['linux/arm64'] },
    },
    {
      name: 'service-level platform inside build.platforms keeps build.platforms',
      service: { build: { context: '/ws/app', platforms: ['linux/amd64', 'linux/arm64'] }, platform: 'linux/arm64' },
      expected: { platforms: ['linux/amd64', 'linux/arm64'] },
    },
    {
      name: 'args drop unset values; every value is a string',
      service: { build: { context: '/ws/app', args: { B: 'x', A: null, N: '1' } } },
      expected: { args: { B: 'x', N: '1' } },
    },
    {
      name: 'remote and service contexts stay as written',
      service: { build: { context: 'https://github.com/o/r.git#main', additional_contexts: { api: 'service:api', lib: '/ws/shared' } } },
      expected: { context: 'https://github.com/o/r.git#main', additionalContexts: { api: 'service:api', lib: 'shared' } },
    },
    {
      name: 'secrets carry ids and sources, never values',
      service: { build: { context: '/ws/app', secrets: [{ source: 'token' }, { source: 'npmrc', target: 'npm' }] } },
      expected: {
        secrets: [
          { id: 'token', src: 'app/secret.txt' },
          { id: 'npm', env: 'NPM_TOKEN' },
        ],
      },
    },
    {
      name: 'extra hosts stay as compose normalised them (the --add-host flag rewrites host=ip once)',
      service: { build: { context: '/ws/app', extra_hosts: ['a=1.2.3.4', 'b=5.6.7.8'] } },
      expected: { extraHosts: ['a=1.2.3.4', 'b=5.6.7.8'] },
    },
    {
      name: 'ulimits become sorted --ulimit values',
      service: { build: { context: '/ws/app', ulimits: { nproc: 65535, nofile: { soft: 20000, hard: '40000' } } } },
      expected: { ulimits: ['nofile=20000:40000', 'nproc=65535'] },
    },
    {
      name: 'privileged adds security.insecure to the entitlements',
      service: { build: { context: '/ws/app', privileged: true, entitlements: ['network.host', 'security.insecure'] } },
      expected: { entitlements: ['security.insecure', 'network.host'] },
    },
    {
      name: 'isolation: default is what buildx does anyway',
      service: { build: { context: '/ws/app', isolation: 'default', privileged: false } },
      expected: { context: 'app' },
    },
    {
      name: 'shm_size, network, no_cache, pull, target',
      service: { build: { context: '/ws/app', shm_size: 1024, network: 'none', no_cache: true, pull: false, target: 'prod' } },
      expected: { shmSize: '1024', network: 'none', noCache: true, pull: false, target: 'prod' },
    },
    {
      name: 'verify command from the x-nx-buildx extension',
      service: { build: { context: '/ws/app' }, definition: { 'x-nx-buildx': { verify: '/app/run-tests.sh --quick' } } },
      expected: { verifyCommand: ['/app/run-tests.sh', '--quick'] },
    },
  ])('$name', ({ service, expected }) => {
    const result = buildSpecsFromProject(project({ svc: service as Partial<ComposeService> }), env);
    expect(result.errors).toEqual([]);
    expect(result.specs[0]).toMatchObject(expected);
  });

  it('sets no ulimits or entitlements when compose has none', () => {
    const [spec] = buildSpecsFromProject(project({ svc: { build: { context: '/ws/app', privileged: false } } }), env).specs;
    expect(spec).not.toHaveProperty('ulimits');
    expect(spec).not.toHaveProperty('entitlements');
  });

  it('skips image-only services', () => {
    expect(buildSpecsFromProject(project({ cache: { image: 'redis' } }), env).specs).toEqual([]);
  });

  it.each([
    { name: 'unknown build key', build: { context: '/ws/app', contxt: '.' }, message: /unknown key "contxt" under build/ },
    { name: 'invalid platform', build: { context: '/ws/app', platforms: ['linux/arm65'] }, message: /invalid platform "linux\/arm65"/ },
    { name: 'missing context', build: { context: '/ws/nope' }, message: /build context nope does not exist/ },
    {
      name: 'missing Dockerfile',
      build: { context: '/ws/app', dockerfile: 'x.Dockerfile' },
      message: /Dockerfile app\/x\.Dockerfile does not exist/,
    },
    {
      name: 'isolation buildx cannot honour',
      build: { context: '/ws/app', isolation: 'hyperv' },
      message: /build\.isolation "hyperv" is not supported: docker buildx has no --isolation/,
    },
    {
      name: 'ulimit that is not a number',
      build: { context: '/ws/app', ulimits: { nofile: 'lots' } },
      message: /build\.ulimits\.nofile must be a number or \{soft, hard\}/,
    },
    {
      name: 'entitlements not a list',
      build: { context: '/ws/app', entitlements: 'network.host' },
      message: /build\.entitlements must be a list of strings/,
    },
    {
      name: 'undefined secret',
      build: { context: '/ws/app', secrets: [{ source: 'nope' }] },
      message: /build secret "nope" is not defined/,
    },
    {
      name: 'service platform outside build.platforms',
      build: { context: '/ws/app', platforms: ['linux/amd64'] },
      platform: 'linux/s390x',
      message: /build\.platforms must include the service's platform "linux\/s390x"/,
    },
    {
      name: 'invalid service platform',
      build: { context: '/ws/app' },
      platform: 'linux/arm65',
      message: /invalid platform "linux\/arm65"/,
    },
  ])('error: $name names file, line and service', ({ build, message, ...rest }) => {
    const bad = { build, ...('platform' in rest ? { platform: rest.platform } : {}) } as Partial<ComposeService>;
    const result = buildSpecsFromProject(project({ bad, good: { build: { context: '/ws/app' } } }), env);
    expect(result.specs.map((s) => s.service)).toEqual(['good']);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].message).toMatch(message);
    expect(result.errors[0].message).toMatch(/^\/ws\/app\/compose\.yaml:3 \(service "bad"\)/);
  });
});

describe('x-nx-buildx where it has no effect: a warning with file, line and service; the service still builds', () => {
  const at = (line: number) => ({ file: '/ws/app/compose.yaml', line });
  it.each([
    {
      name: 'under build:',
      service: {
        build: { context: '/ws/app', 'x-nx-buildx': { verify: ['true'] } },
        locations: { build: at(4), 'build.x-nx-buildx': at(6) },
      },
      warning:
        /^\/ws\/app\/compose\.yaml:6 \(service "svc"\): build\.x-nx-buildx has no effect: x-nx-buildx is read at service level, beside build: \(services\.svc\.x-nx-buildx\); move it up one level$/,
    },
    {
      name: 'on a service without build:',
      service: { image: 'redis', definition: { image: 'redis', 'x-nx-buildx': { verify: ['true'] } }, locations: { 'x-nx-buildx': at(9) } },
      warning: /^\/ws\/app\/compose\.yaml:9 \(service "svc"\): x-nx-buildx has no effect: the service has no build: section/,
    },
    {
      name: 'a misspelt key, on its own line',
      service: {
        build: { context: '/ws/app' },
        definition: { 'x-nx-buildx': { platformArg: {} } },
        locations: { 'x-nx-buildx': at(7), 'x-nx-buildx.platformArg': at(8) },
      },
      warning:
        /^\/ws\/app\/compose\.yaml:8 \(service "svc"\): unknown key "platformArg" under x-nx-buildx has no effect; did you mean "platformArgs"\?/,
    },
    {
      name: 'a misspelt nested key, on its parent line',
      service: {
        build: { context: '/ws/app' },
        definition: { 'x-nx-buildx': { platformConfig: { base: 'Dockerfile', overlay: {} } } },
        locations: { 'x-nx-buildx': at(7), 'x-nx-buildx.platformConfig': at(8) },
      },
      warning:
        /^\/ws\/app\/compose\.yaml:8 \(service "svc"\): unknown key "overlay" under x-nx-buildx\.platformConfig has no effect; did you mean "overlays"\?/,
    },
  ])('$name', ({ service, warning }) => {
    const result = buildSpecsFromProject(project({ svc: service as Partial<ComposeService> }), env);
    expect(result.errors).toEqual([]);
    expect(result.specs.map((s) => s.service)).toEqual('build' in service ? ['svc'] : []);
    expect(result.warnings.map((w) => w.message)).toEqual([expect.stringMatching(warning)]);
  });

  it('no warning where x-nx-buildx is in its place', () => {
    const result = buildSpecsFromProject(
      project({ svc: { build: { context: '/ws/app' }, definition: { 'x-nx-buildx': { verify: ['true'] } } } }),
      env,
    );
    expect(result.warnings).toEqual([]);
  });
});
