/** Per-platform builds: the x-nx-buildx extension, lock entries, targets and inputs. */
import { describe, expect, it } from 'vitest';
import { readServiceExtension } from '../build-spec/extension';
import { buildSpecsFromProject } from '../build-spec/from-compose';
import type { ServiceBuildSpec } from '../build-spec/types';
import { platformFromName, platformSlug, platformTagSuffix } from '../buildx/platform';
import type { ComposeProject, ComposeService } from '../compose/types';
import { assembleNodes } from './assemble';
import { normalizePluginOptions } from './plugin-options';
import { parseServiceLock, renderServiceLock, serviceDefinitionHashes, stableHash } from './service-lock';
import { platformTag } from './targets';
import { definitionHashesFromGraph } from './definition-hash-metadata';
import type { ProjectConfiguration, ProjectGraph } from '@nx/devkit';

describe('platform names', () => {
  it.each([
    ['linux/arm64', 'linux/arm64', 'linux-arm64', 'arm64'],
    ['aarch64', 'linux/arm64', 'linux-arm64', 'arm64'],
    ['arm64', 'linux/arm64', 'linux-arm64', 'arm64'],
    ['x86_64', 'linux/amd64', 'linux-amd64', 'amd64'],
    ['amd64', 'linux/amd64', 'linux-amd64', 'amd64'],
    ['armv7l', 'linux/arm/v7', 'linux-arm-v7', 'armv7'],
    ['arm/v7', 'linux/arm/v7', 'linux-arm-v7', 'armv7'],
    ['linux/arm64/v8', 'linux/arm64', 'linux-arm64', 'arm64'],
    ['windows/amd64', 'windows/amd64', 'windows-amd64', 'windows-amd64'],
  ])('%s → %s, slug %s, tag suffix %s', (name, platform, slug, suffix) => {
    expect(platformFromName(name)).toBe(platform);
    expect(platformSlug(platform)).toBe(slug);
    expect(platformTagSuffix(platform)).toBe(suffix);
  });

  it.each([
    ['reg/app:1.0', 'linux/amd64', 'reg/app:1.0-amd64'],
    ['127.0.0.1:5000/app', 'linux/arm64', '127.0.0.1:5000/app:latest-arm64'],
    ['127.0.0.1:5000/app:v2', 'linux/arm/v7', '127.0.0.1:5000/app:v2-armv7'],
  ])('platform tag of %s for %s is %s', (tag, platform, expected) => expect(platformTag(tag, platform)).toBe(expected));
});

describe('x-nx-buildx platformArgs / platformConfig', () => {
  const ext = (value: unknown) => readServiceExtension({ 'x-nx-buildx': value });
  it.each([
    {
      name: 'platform keys in every spelling are normalised; values become strings',
      value: { platformArgs: { aarch64: { EXTRA_FEATURES: 'neon' }, 'linux/amd64': { EXTRA_FEATURES: 'simd', LEVEL: 3 }, 'arm/v7': {} } },
      expected: {
        platformArgs: {
          'linux/arm64': { EXTRA_FEATURES: 'neon' },
          'linux/amd64': { EXTRA_FEATURES: 'simd', LEVEL: '3' },
          'linux/arm/v7': {},
        },
      },
    },
    {
      name: 'platformConfig with default name',
      value: { platformConfig: { base: 'config/base.yaml', overlays: { x86_64: 'config/amd64.json' } } },
      expected: { platformConfig: { base: 'config/base.yaml', overlays: { 'linux/amd64': 'config/amd64.json' }, name: 'config.json' } },
    },
    {
      name: 'platformConfig with a name and no overlays',
      value: { platformConfig: { base: 'base.json', name: 'app.yaml' } },
      expected: { platformConfig: { base: 'base.json', overlays: {}, name: 'app.yaml' } },
    },
  ])('$name', ({ value, expected }) => {
    expect(ext(value)).toEqual({ value: expected, problems: [], warnings: [] });
  });

  it.each([
    { name: 'not a mapping', value: { platformArgs: ['a'] }, problem: /platformArgs must be a mapping of platform to build args/ },
    { name: 'unknown platform', value: { platformArgs: { sparc: {} } }, problem: /"sparc" is not a platform/ },
    { name: 'same platform twice', value: { platformArgs: { arm64: {}, aarch64: {} } }, problem: /"aarch64" names linux\/arm64 twice/ },
    { name: 'args not a mapping', value: { platformArgs: { arm64: 'neon' } }, problem: /platformArgs\.arm64 must be a mapping/ },
    { name: 'arg value is a list', value: { platformArgs: { arm64: { A: [1] } } }, problem: /platformArgs\.arm64\.A must be a string/ },
    { name: 'config without base', value: { platformConfig: { overlays: {} } }, problem: /platformConfig\.base must be a file path/ },
    {
      name: 'config name with a folder',
      value: { platformConfig: { base: 'b.json', name: 'etc/c.json' } },
      problem: /name must be a plain file name/,
    },
    {
      name: 'overlay not a path',
      value: { platformConfig: { base: 'b.json', overlays: { arm64: 1 } } },
      problem: /overlays\.arm64 must be a file path/,
    },
  ])('problem: $name', ({ value, problem }) => {
    const { problems } = ext(value);
    expect(problems.join('\n')).toMatch(problem);
  });

  // Compose accepts anything under an x- key: a key with no effect is a warning naming the right key or place.
  it.each([
    {
      name: 'misspelt key',
      value: { platformArg: { arm64: {} } },
      key: 'x-nx-buildx.platformArg',
      warning:
        /unknown key "platformArg" under x-nx-buildx has no effect; did you mean "platformArgs"\? \(known: verify, platformArgs, platformConfig\)/,
    },
    {
      name: 'key in the wrong case',
      value: { Verify: ['true'] },
      key: 'x-nx-buildx.Verify',
      warning: /unknown key "Verify" under x-nx-buildx has no effect; did you mean "verify"\?/,
    },
    {
      name: 'key far from every known key',
      value: { cacheScope: 'x' },
      key: 'x-nx-buildx.cacheScope',
      warning: /unknown key "cacheScope" under x-nx-buildx has no effect \(known: verify, platformArgs, platformConfig\)$/,
    },
    {
      name: 'a compose build key',
      value: { platforms: ['linux/arm64'] },
      key: 'x-nx-buildx.platforms',
      warning: /^x-nx-buildx\.platforms has no effect: platforms is a compose build key, write it under build: \(build\.platforms\)$/,
    },
    {
      name: 'misspelt platformConfig key',
      value: { platformConfig: { base: 'b.json', overlay: {} } },
      key: 'x-nx-buildx.platformConfig.overlay',
      warning:
        /unknown key "overlay" under x-nx-buildx\.platformConfig has no effect; did you mean "overlays"\? \(known: base, overlays, name\)/,
    },
  ])('warning: $name', ({ value, key, warning }) => {
    const { problems, warnings } = ext(value);
    expect(problems).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.key).toBe(key);
    expect(warnings[0]!.message).toMatch(warning);
  });

  it('a misspelt platformConfig key leaves the rest of platformConfig in effect', () => {
    expect(ext({ platformConfig: { base: 'b.json', overlay: {} } }).value).toEqual({
      platformConfig: { base: 'b.json', overlays: {}, name: 'config.json' },
    });
  });
});

const WS = '/ws';
const existing = new Set([
  '/ws/app',
  '/ws/app/Dockerfile',
  '/ws/app/config/base.json',
  '/ws/app/config/arm64.json',
  '/ws/app/config/amd64.json',
]);
const env = { workspaceRoot: WS, exists: (p: string) => existing.has(p) };
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

function composeProject(extension: unknown, platforms = PLATFORMS): ComposeProject {
  const definition = { build: { context: '.', platforms }, 'x-nx-buildx': extension };
  const service = {
    name: 'api',
    definition,
    variables: [],
    build: { context: '/ws/app', platforms },
    image: 'reg/api:1.0',
    sources: [{ file: '/ws/app/compose.yaml', line: 3 }],
  } as unknown as ComposeService;
  return { name: 'shop', projectDir: '/ws/app', files: ['/ws/app/compose.yaml'], secrets: {}, services: { api: service } };
}

const EXTENSION = {
  platformArgs: { arm64: { EXTRA_FEATURES: 'neon' }, x86_64: { EXTRA_FEATURES: 'simd' } },
  platformConfig: { base: 'config/base.json', overlays: { arm64: 'config/arm64.json', amd64: 'config/amd64.json' } },
};

describe('build spec with platform parts', () => {
  it('normalises platforms and resolves config paths against the compose folder', () => {
    const { specs, errors } = buildSpecsFromProject(composeProject(EXTENSION), env);
    expect(errors).toEqual([]);
    expect(specs[0]).toMatchObject({
      platformArgs: { 'linux/arm64': { EXTRA_FEATURES: 'neon' }, 'linux/amd64': { EXTRA_FEATURES: 'simd' } },
      platformConfig: {
        base: 'app/config/base.json',
        overlays: { 'linux/arm64': 'app/config/arm64.json', 'linux/amd64': 'app/config/amd64.json' },
        name: 'config.json',
      },
    });
  });

  it.each([
    {
      name: 'platform not built',
      extension: { platformArgs: { 'linux/arm/v7': {} } },
      message: /names linux\/arm\/v7, which is not in build\.platforms/,
    },
    {
      name: 'missing overlay file',
      extension: { platformConfig: { base: 'config/base.json', overlays: { arm64: 'config/nope.json' } } },
      message: /file app\/config\/nope\.json does not exist/,
    },
    { name: 'bad key', extension: { platformArgs: { sparc: {} } }, message: /"sparc" is not a platform/ },
  ])('error: $name, with file, line and service', ({ extension, message }) => {
    const { errors } = buildSpecsFromProject(composeProject(extension), env);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(message);
    expect(errors[0].message).toMatch(/^\/ws\/app\/compose\.yaml:3 \(service "api"\)/);
  });
});

describe('lock entries per platform', () => {
  const hashes = (extension: unknown) =>
    serviceDefinitionHashes('api', 'api', { build: { context: '.' }, 'x-nx-buildx': extension }, PLATFORMS, '/ws');
  const base = hashes(EXTENSION);

  it('has the service entry and one entry per platform', () => {
    expect(Object.keys(base).sort()).toEqual(['api', 'api@linux-amd64', 'api@linux-arm64']);
  });

  it.each([
    {
      name: 'arm64 args',
      extension: { ...EXTENSION, platformArgs: { ...EXTENSION.platformArgs, arm64: { EXTRA_FEATURES: 'sve' } } },
      changed: ['api@linux-arm64'],
    },
    {
      name: 'amd64 overlay path',
      extension: {
        ...EXTENSION,
        platformConfig: { ...EXTENSION.platformConfig, overlays: { arm64: 'config/arm64.json', amd64: 'config/x.json' } },
      },
      changed: ['api@linux-amd64'],
    },
    {
      name: 'the base config',
      extension: { ...EXTENSION, platformConfig: { ...EXTENSION.platformConfig, base: 'config/b.json' } },
      changed: ['api'],
    },
    {
      name: 'key spelling only',
      extension: { ...EXTENSION, platformArgs: { 'linux/arm64': { EXTRA_FEATURES: 'neon' }, x86_64: { EXTRA_FEATURES: 'simd' } } },
      changed: [],
    },
  ])('changing $name changes $changed', ({ extension, changed }) => {
    const next = hashes(extension);
    expect(Object.keys(next).filter((k) => next[k] !== base[k])).toEqual(changed);
  });

  it('a service not built per platform keeps its single entry, as before', () => {
    const definition = { build: { context: '.' } };
    const entries = serviceDefinitionHashes('web', 'web', definition, [], '/ws');
    // as before: one entry, the hash of service name and definition (stableHash), nothing per platform
    expect(entries).toEqual({ web: stableHash({ service: 'web', definition }) });
    expect(serviceDefinitionHashes('web', 'web', { build: { context: './other' } }, [], '/ws').web).not.toBe(entries.web);
  });
});

function assemble(spec: ServiceBuildSpec, lockText?: string, pluginOptions: Parameters<typeof normalizePluginOptions>[0] = {}) {
  const hashes = serviceDefinitionHashes(spec.project, spec.service, { 'x-nx-buildx': EXTENSION }, spec.platforms, '/ws');
  const set = { configFile: 'app/compose.yaml', composeDir: 'app', composeProjectName: 'shop', watchedFiles: ['app/compose.yaml'] };
  const out = assembleNodes({
    options: normalizePluginOptions(pluginOptions),
    sets: [set],
    services: [{ set, spec, definition: { 'x-nx-buildx': EXTENSION } }],
    serviceErrors: [],
    facts: new Map(),
    lock: parseServiceLock(lockText ?? renderServiceLock(hashes)),
    definitionHashes: new Map(Object.entries(hashes)),
    isProjectFolder: () => false,
  });
  const project = Object.values((out.results[0]![1] as { projects: Record<string, ProjectConfiguration> }).projects)[0]!;
  return { project, staleLock: out.staleLock, hashes };
}

describe('per-platform targets', () => {
  const spec = buildSpecsFromProject(composeProject(EXTENSION), env).specs[0]!;
  const { project, hashes } = assemble(spec);
  const t = project.targets!;
  const lockField = (name: string) => ({ json: '{workspaceRoot}/nx-compose-buildx.lock.json', fields: [`services.${name}`] });

  it('adds config, build and push targets per platform', () => {
    expect(Object.keys(t).sort()).toEqual([
      'docker-build',
      'docker-build--linux-amd64',
      'docker-build--linux-arm64',
      'docker-config--linux-amd64',
      'docker-config--linux-arm64',
      'docker-merge',
      'docker-push',
      'docker-push--linux-amd64',
      'docker-push--linux-arm64',
      'docker-verify',
    ]);
  });

  it.each([
    ['linux/amd64', 'linux-amd64', 'simd', 'reg/api:1.0-amd64', 'app/config/amd64.json'],
    ['linux/arm64', 'linux-arm64', 'neon', 'reg/api:1.0-arm64', 'app/config/arm64.json'],
  ])('%s: own args, tag, config context and inputs', (platform, slug, feature, tag, overlay) => {
    for (const kind of ['build', 'push']) {
      const target = t[`docker-${kind}--${slug}`]!;
      expect(target.options).toMatchObject({
        platforms: [platform],
        args: { EXTRA_FEATURES: feature },
        tags: [tag],
        additionalContexts: { config: `dist/docker-config/api/${slug}` },
      });
      expect(target.inputs).toEqual([
        'docker-image',
        '^docker-image',
        lockField(`api@${slug}`),
        '{workspaceRoot}/app/config/base.json',
        `{workspaceRoot}/${overlay}`,
        // a platform-restricted build or push (native runner) is never a cache hit of an unrestricted one
        { env: 'NX_COMPOSE_BUILDX_PLATFORMS' },
      ]);
      expect(target.dependsOn).toEqual([`^docker-${kind}`, `docker-config--${slug}`]);
    }
    expect(t[`docker-config--${slug}`]).toMatchObject({
      executor: 'nx-compose-buildx:docker-config',
      options: { base: 'app/config/base.json', overlay, name: 'config.json', outputPath: `dist/docker-config/api/${slug}` },
      inputs: ['{workspaceRoot}/app/config/base.json', `{workspaceRoot}/${overlay}`],
      outputs: [`{workspaceRoot}/dist/docker-config/api/${slug}`],
      cache: true,
    });
  });

  it('the shared inputs watch the service entry, not the platform entries', () => {
    expect(project.namedInputs!['docker-image']).toContainEqual(lockField('api'));
    expect(JSON.stringify(project.namedInputs!['docker-image'])).not.toMatch(/@linux|config\/a/);
  });

  it('docker-push assembles from the platform pushes; docker-build runs the platform builds', () => {
    expect(t['docker-push']).toMatchObject({
      executor: 'nx-compose-buildx:docker-manifest',
      options: {
        service: 'api',
        tags: ['reg/api:1.0'],
        platformImages: { 'linux/amd64': 'reg/api:1.0-amd64', 'linux/arm64': 'reg/api:1.0-arm64' },
      },
      dependsOn: ['^docker-push', 'docker-push--linux-amd64', 'docker-push--linux-arm64'],
      cache: false, // the registry is the cache: a deleted image is pushed again, never trusted from Nx's cache
    });
    expect(t['docker-push--linux-arm64']).toMatchObject({ executor: 'nx-compose-buildx:docker-push', cache: false });
    expect(t['docker-push--linux-arm64']!.options.reuse).toBeUndefined();
    expect(t['docker-build']).toMatchObject({
      executor: 'nx:noop',
      dependsOn: [
        { target: 'docker-build--linux-amd64', params: 'forward' },
        { target: 'docker-build--linux-arm64', params: 'forward' },
      ],
    });
  });

  it('groups the targets for nx show project: the service, then each platform', () => {
    expect(project.metadata?.targetGroups).toEqual({
      Docker: ['docker-build', 'docker-push', 'docker-verify', 'docker-merge'],
      'Docker linux/amd64': ['docker-config--linux-amd64', 'docker-build--linux-amd64', 'docker-push--linux-amd64'],
      'Docker linux/arm64': ['docker-config--linux-arm64', 'docker-build--linux-arm64', 'docker-push--linux-arm64'],
    });
    const grouped = Object.values(project.metadata!.targetGroups as Record<string, string[]>).flat();
    expect(grouped.sort()).toEqual(Object.keys(t).sort());
  });

  it.each([
    ['docker-build', { args: ['--dryRun'] }],
    ['docker-build--linux-arm64', { options: { dryRun: true } }],
    ['docker-push', { options: { dryRun: true } }],
    ['docker-push--linux-amd64', { options: { dryRun: true } }],
    ['docker-config--linux-arm64', { options: { name: 'config.json' } }],
    ['docker-verify', { options: { platforms: ['linux/arm64'] }, args: ['--exclude-task-dependencies'] }],
  ])("%s's help shows its own options and example", (target, example) => {
    expect(t[target]!.metadata?.help).toEqual({ command: `npx nx run api:${target} --help`, example });
  });

  it('with reuse: false the pushes are Nx-cacheable again and the executors are told', () => {
    const off = assemble(spec, undefined, { reuse: false }).project.targets!;
    for (const name of ['docker-push', 'docker-push--linux-amd64', 'docker-push--linux-arm64']) expect(off[name]!.cache, name).toBe(true);
    expect(off['docker-push--linux-amd64']!.options.reuse).toBe(false);
  });

  it('project metadata carries every lock entry for nx sync', () => {
    const graph = { nodes: { api: { name: 'api', type: 'app', data: project } }, dependencies: {} } as unknown as ProjectGraph;
    expect(definitionHashesFromGraph(graph)).toEqual(hashes);
  });

  it('a stale platform entry watches the compose files for that platform only', () => {
    const stale = assemble(spec, renderServiceLock({ ...hashes, 'api@linux-arm64': 'old' }));
    expect(stale.staleLock).toEqual(['api@linux-arm64']);
    expect(stale.project.targets!['docker-push--linux-arm64']!.inputs).toContain('{workspaceRoot}/app/compose.yaml');
    expect(stale.project.targets!['docker-push--linux-amd64']!.inputs).toContainEqual(lockField('api@linux-amd64'));
  });

  it('services without platform parts keep the single build and push', () => {
    const plain = assemble({ ...spec, platformArgs: undefined, platformConfig: undefined });
    expect(Object.keys(plain.project.targets!).sort()).toEqual(['docker-build', 'docker-merge', 'docker-push', 'docker-verify']);
    expect(plain.project.targets!['docker-push']!.executor).toBe('nx-compose-buildx:docker-push');
  });
});

describe('targets of a service built in one task', () => {
  const spec = buildSpecsFromProject(composeProject({}), env).specs[0]!;
  const t = assemble(spec).project;

  it('are grouped as one Docker group', () => {
    expect(t.metadata?.targetGroups).toEqual({ Docker: ['docker-build', 'docker-push', 'docker-verify', 'docker-merge'] });
  });

  it("docker-verify has the image's inputs: Nx's default ({projectRoot}/**/*) cannot be hashed on a virtual root", () => {
    expect(t.targets!['docker-verify']!.inputs).toEqual(['docker-image', '^docker-image']);
  });

  it.each([
    ['docker-build', { options: { dryRun: true } }],
    ['docker-push', { options: { dryRun: true } }],
    ['docker-verify', { options: { platforms: ['linux/arm64'] }, args: ['--exclude-task-dependencies'] }],
    ['docker-merge', { options: { dryRun: true } }],
  ])("%s's help names its own target", (target, example) => {
    expect(t.targets![target]!.metadata?.help).toEqual({ command: `npx nx run api:${target} --help`, example });
  });

  it('docker-merge: the push inputs, no dependsOn (the legs ran elsewhere), never cached, writes the push record', () => {
    const merge = t.targets!['docker-merge']!;
    expect(merge).toMatchObject({
      executor: 'nx-compose-buildx:docker-merge',
      options: { service: 'api', tags: spec.tags, platforms: spec.platforms, metadataFile: 'dist/docker/api/push-metadata.json' },
      inputs: ['docker-image', '^docker-image'],
      cache: false,
    });
    expect(merge.dependsOn).toBeUndefined();
    expect(t.targets!['docker-verify']!.options.pushMetadataFile).toBe(merge.options.metadataFile);
    expect(t.targets!['docker-push']!.inputs).toContainEqual({ env: 'NX_COMPOSE_BUILDX_PLATFORMS' });
    expect(t.targets!['docker-build']!.inputs).toContainEqual({ env: 'NX_COMPOSE_BUILDX_PLATFORMS' }); // a pull request's leg
  });

  it('mergeTargetName renames it', () => {
    const renamed = assemble(spec, undefined, { mergeTargetName: 'merge-images' }).project;
    expect(renamed.targets!['merge-images']!.executor).toBe('nx-compose-buildx:docker-merge');
    expect(renamed.targets!['docker-merge']).toBeUndefined();
  });
});
