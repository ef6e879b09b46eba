import { describe, expect, test } from 'vitest';
import { parseBuildxInspect } from '../../../buildx/builder-support';
import type { GitFacts } from '../../../buildx/tags';
import { DOCKER_INSPECT } from './__fixtures__/fake-deps';
import {
  buildInvocation,
  ociLayoutDirFor,
  buildxMetadataFileFor,
  headerLine,
  isCacheReadOnly,
  planBuild,
  platformProblem,
  sourceDateEpochOf,
  type BuildPlan,
} from './build-plan';
import { normalizeBuildOptions, type BuildExecutorOptions } from './options';
import { shouldRetry } from './run-build';

const NOW = new Date('2024-05-01T12:00:00Z');
const FACTS: GitFacts = {
  sha: '0123456789abcdef0123456789abcdef01234567',
  branch: 'main',
  defaultBranch: 'main',
  commitTime: '2024-04-30T10:00:00Z',
};
const COMMIT_EPOCH = String(Date.parse('2024-04-30T10:00:00Z') / 1000);

const base: BuildExecutorOptions = {
  service: 'api',
  context: 'apps/api',
  platforms: ['linux/amd64', 'linux/arm64'],
  tags: ['reg/api:1'],
  args: { A: '1' },
  cacheFrom: ['type=registry,ref=reg/cache/api'],
  cacheTo: ['type=registry,ref=reg/cache/api,mode=max'],
  ociLabels: false,
};

function plan(
  options: Partial<BuildExecutorOptions> = {},
  inputs: { facts?: GitFacts; env?: Record<string, string>; cacheReadOnly?: boolean } = {},
  mode: 'build' | 'push' = 'build',
): BuildPlan {
  const o = normalizeBuildOptions({ ...base, ...options }, mode);
  const r = planBuild(mode, o, {
    facts: inputs.facts,
    env: inputs.env ?? {},
    now: NOW,
    ...(inputs.cacheReadOnly !== undefined ? { cacheReadOnly: inputs.cacheReadOnly } : {}),
  });
  if ('error' in r) throw new Error(r.error);
  return r.plan;
}

describe('normalise: read-only cache', () => {
  test.each<[string, { env?: Record<string, string>; cacheReadOnly?: boolean }, string[]]>([
    ['writes the cache by default', {}, ['type=registry,ref=reg/cache/api,mode=max']],
    ['NX_COMPOSE_BUILDX_CACHE_READONLY=true drops every --cache-to', { env: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' } }, []],
    ['NX_COMPOSE_BUILDX_CACHE_READONLY=1 drops every --cache-to', { env: { NX_COMPOSE_BUILDX_CACHE_READONLY: '1' } }, []],
    ['the executor option drops every --cache-to', { cacheReadOnly: true }, []],
    [
      'the executor option false wins over the variable',
      { env: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' }, cacheReadOnly: false },
      ['type=registry,ref=reg/cache/api,mode=max'],
    ],
    [
      'NX_COMPOSE_BUILDX_CACHE_READONLY=false writes',
      { env: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'false' } },
      ['type=registry,ref=reg/cache/api,mode=max'],
    ],
  ])('%s', (_, inputs, cacheTo) => {
    const p = plan({}, inputs);
    expect(p.build.cacheTo).toEqual(cacheTo);
    expect(p.build.cacheFrom).toEqual(['type=registry,ref=reg/cache/api']); // reading stays
  });

  test('read-only reaches the argv: no --cache-to at all', () => {
    const p = plan({ cacheTo: ['type=inline', 'type=local,dest=/tmp/c'] }, { env: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' } });
    const { argv } = buildInvocation(p, {}, { root: '/ws', isTTY: false, env: {}, runId: 'r' });
    expect(argv).not.toContain('--cache-to');
    expect(argv).toContain('--cache-from');
  });

  test('isCacheReadOnly', () => {
    expect(isCacheReadOnly(undefined, { NX_COMPOSE_BUILDX_CACHE_READONLY: 'yes' })).toBe(true);
    expect(isCacheReadOnly(undefined, {})).toBe(false);
  });
});

describe('normalise: SOURCE_DATE_EPOCH', () => {
  test.each<[string, { facts?: GitFacts; env?: Record<string, string> }, Partial<BuildExecutorOptions>, string | undefined]>([
    ["HEAD's commit time", { facts: FACTS }, {}, COMMIT_EPOCH],
    ['the variable wins over the commit time', { facts: FACTS, env: { SOURCE_DATE_EPOCH: '1700000000' } }, {}, '1700000000'],
    ['the variable outside git', { env: { SOURCE_DATE_EPOCH: '1700000000' } }, {}, '1700000000'],
    ["the service's own build arg wins", { facts: FACTS }, { args: { A: '1', SOURCE_DATE_EPOCH: '42' } }, '42'],
    ['none outside git without the variable', {}, {}, undefined],
    ['a malformed variable falls back to the commit', { facts: FACTS, env: { SOURCE_DATE_EPOCH: 'soon' } }, {}, COMMIT_EPOCH],
  ])('%s', (_, inputs, options, expected) => {
    const p = plan(options, inputs);
    expect(p.build.args.SOURCE_DATE_EPOCH).toBe(expected);
    expect(p.build.args.A).toBe('1');
    const { argv } = buildInvocation(p, {}, { root: '/ws', isTTY: false, env: {}, runId: 'r' });
    if (expected === undefined) expect(argv.some((a) => a.startsWith('SOURCE_DATE_EPOCH='))).toBe(false);
    else expect(argv).toContain(`SOURCE_DATE_EPOCH=${expected}`);
  });

  test('sourceDateEpochOf', () => {
    expect(sourceDateEpochOf(FACTS, {})).toBe(COMMIT_EPOCH);
    expect(sourceDateEpochOf(undefined, {})).toBeUndefined();
  });
});

describe('normalise: tags', () => {
  test('generated tags follow the declared ones', () => {
    expect(plan({ generatedTags: [{ type: 'sha' }] }, { facts: FACTS }).build.tags).toEqual(['reg/api:1', 'reg/api:sha-0123456']);
  });

  test('a push whose rules give no tag is refused', () => {
    const o = normalizeBuildOptions({ ...base, tags: [], generatedTags: [{ type: 'sha' }] }, 'push');
    expect(planBuild('push', o, { facts: undefined, env: {}, now: NOW })).toEqual({
      error: '[api] docker-push needs at least one tag (compose image: or build.tags).',
    });
  });

  test('header', () => {
    expect(headerLine(plan())).toBe('[api] docker-build: linux/amd64, linux/arm64 → reg/api:1');
    expect(headerLine(plan({ platforms: [], tags: [], dryRun: true }))).toBe(
      '[api] docker-build: builder default platform → (untagged) (dry run)',
    );
  });
});

describe('preflight: platforms', () => {
  const info = parseBuildxInspect(DOCKER_INSPECT.replace(/^Platforms:.*$/m, 'Platforms: linux/amd64, linux/386'));
  const noBinfmt = () => ({});
  test.each<[string, Partial<BuildExecutorOptions>, RegExp | undefined]>([
    ['a platform neither the builder nor QEMU runs', {}, /linux\/arm64/],
    ['only what the builder runs', { platforms: ['linux/amd64'] }, undefined],
    ['the check turned off', { checkPlatforms: false }, undefined],
    ['a dry run checks nothing', { dryRun: true }, undefined],
  ])('%s', (_, options, problem) => {
    const r = platformProblem(plan(options), { name: 'b', info }, noBinfmt, 'amd64');
    if (problem) expect(r).toMatch(problem);
    else expect(r).toBeUndefined();
  });

  test('QEMU registered for the arch makes it buildable', () => {
    expect(
      platformProblem(
        plan(),
        { info },
        () => ({ 'qemu-aarch64': 'enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\n' }),
        'amd64',
      ),
    ).toBeUndefined();
  });

  test('a builder that lists no platforms is left to buildx', () => {
    expect(
      platformProblem(
        plan(),
        {},
        () => {
          throw new Error('binfmt not read');
        },
        'amd64',
      ),
    ).toBeUndefined();
  });
});

describe('invocation', () => {
  test('per-run buildx metadata file next to ours', () => {
    expect(buildxMetadataFileFor('dist/docker/api/metadata.json', '12-3')).toBe('dist/docker/api/.buildx-12-3-metadata.json');
    const a = buildInvocation(plan(), {}, { root: '/ws', isTTY: false, env: {}, runId: '1' });
    const b = buildInvocation(plan(), {}, { root: '/ws', isTTY: false, env: {}, runId: '2' });
    expect(a.buildxMetadataPath).not.toBe(b.buildxMetadataPath);
    expect(a.metadataPath).toBe('/ws/dist/docker/api/metadata.json');
  });

  test.each<[string, boolean, Record<string, string>, string, string | undefined]>([
    ['not a terminal: plain, prefixed', false, {}, '--progress=plain', '[api] '],
    ['CI on a terminal: plain, prefixed', true, { CI: 'true' }, '--progress=plain', '[api] '],
    ['a terminal: BuildKit picks, not prefixed', true, {}, '--progress=auto', undefined],
  ])('%s', (_, isTTY, env, progress, prefix) => {
    const inv = buildInvocation(plan(), {}, { root: '/ws', isTTY, env, runId: 'r' });
    expect(inv.argv).toContain(progress);
    expect(inv.runOptions.prefix).toBe(prefix);
    expect(inv.runOptions.cwd).toBe('/ws');
  });

  test.each<[string, string | undefined, 'build' | 'push', string | undefined, boolean, boolean]>([
    ['docker-container: a push may send its layout through the registry API', 'docker-container', 'push', undefined, true, false],
    [
      "docker: the same, and loads it, as the engine's exporter keeps the engine's image store current",
      'docker',
      'push',
      undefined,
      true,
      true,
    ],
    ['unknown driver: as the docker driver', undefined, 'push', undefined, true, true],
    ['a push by digest (a native leg): through the exporter', 'docker-container', 'push', '127.0.0.1:5000/api', false, false],
    ['a build: never', 'docker', 'build', undefined, false, false],
  ])('pushTags, %s', (_, driver, mode, pushByDigest, pushed, loaded) => {
    const info = driver ? { ...parseBuildxInspect(DOCKER_INSPECT), driver } : undefined;
    const host = { root: '/ws', isTTY: false, env: {}, runId: 'r', ...(pushByDigest ? { pushByDigest } : {}) };
    const inv = buildInvocation(plan({}, { facts: FACTS }, mode), info ? { info } : {}, host);
    expect(inv.pushTags !== undefined).toBe(pushed);
    expect(inv.loadPushedAs).toEqual(loaded ? inv.pushTags : undefined);
    // A layout that is loaded names the tags (docker load tags the image from them); one only pushed names none.
    if (mode === 'push' && inv.stable) expect(inv.argv.includes('-t')).toBe(loaded);
  });

  test("the engine's store gets the service's own tags too when the build pushes fewer (published from its key tag)", () => {
    const info = { ...parseBuildxInspect(DOCKER_INSPECT), driver: 'docker' };
    const keyed = plan({}, { facts: FACTS }, 'push');
    const own = keyed.build.tags;
    const inv = buildInvocation(
      { ...keyed, build: { ...keyed.build, tags: ['r/api:nxcb-k'] } },
      { info },
      {
        root: '/ws',
        isTTY: false,
        env: {},
        runId: 'r',
        ownTags: [...own, 'r/api:nxcb-k'],
      },
    );
    expect(inv.pushTags).toEqual(['r/api:nxcb-k']);
    expect(inv.loadPushedAs).toEqual(['r/api:nxcb-k', ...own]);
  });

  test.each<[string, string | undefined, Partial<BuildExecutorOptions>, 'build' | 'push', boolean]>([
    ['docker driver loads several platforms', 'docker', {}, 'build', true],
    ['docker-container keeps them in the builder', 'docker-container', {}, 'build', false],
    ['unknown driver: load', undefined, {}, 'build', true],
    ['the option wins', 'docker', { loadMultiPlatform: false }, 'build', false],
    ['a push never loads', 'docker', {}, 'push', false],
  ])('%s', (_, driver, options, mode, loaded) => {
    const info = driver ? { ...parseBuildxInspect(DOCKER_INSPECT), driver } : undefined;
    const inv = buildInvocation(plan(options, {}, mode), info ? { info } : {}, { root: '/ws', isTTY: false, env: {}, runId: 'r' });
    expect(inv.loaded).toBe(loaded);
  });
});

describe('invocation: content-stable (rewrite-timestamp)', () => {
  const host = { root: '/ws', isTTY: false, env: {}, runId: 'r' };
  test.each<[string, Partial<BuildExecutorOptions>, { facts?: GitFacts }, 'build' | 'push', boolean]>([
    ['a push with an epoch', {}, { facts: FACTS }, 'push', true],
    ['a loaded build with an epoch', {}, { facts: FACTS }, 'build', true],
    ['no epoch (not git, no SOURCE_DATE_EPOCH)', {}, {}, 'push', false],
    ['turned off', { rewriteTimestamp: false }, { facts: FACTS }, 'push', false],
    ['with provenance', { provenance: 'mode=max' }, { facts: FACTS }, 'push', false],
    ['a build that is neither loaded nor pushed', { loadMultiPlatform: false }, { facts: FACTS }, 'build', false],
  ])('%s: %s', (_, options, inputs, mode, stable) => {
    const inv = buildInvocation(plan(options, inputs, mode), {}, host);
    expect(inv.stable !== undefined).toBe(stable);
    expect(inv.argv.some((a) => a.includes('rewrite-timestamp=true'))).toBe(stable);
  });

  test('the build writes a layout, untagged; the republish pushes it under the tags, with the epoch', () => {
    const inv = buildInvocation(
      plan({}, { facts: FACTS }, 'push'),
      { info: { ...parseBuildxInspect(DOCKER_INSPECT), driver: 'docker-container' } },
      host,
    );
    expect(inv.argv).not.toContain('--push');
    expect(inv.argv).not.toContain('-t');
    expect(inv.argv).not.toContain('--metadata-file');
    expect(inv.stable!.layoutDir).toBe(ociLayoutDirFor('dist/docker/api/push-metadata.json', 'r'));
    expect(inv.stable!.layoutDir).toBe('dist/docker/api/.oci-r-push-metadata');
    const again = inv.republish(`oci-layout://${inv.stable!.layoutPath}@sha256:ab`, COMMIT_EPOCH);
    expect(again).toContain(`nxcb-image=oci-layout:///ws/dist/docker/api/.oci-r-push-metadata@sha256:ab`);
    expect(again).toContain(`SOURCE_DATE_EPOCH=${COMMIT_EPOCH}`);
    expect(again.slice(again.indexOf('-t'), again.indexOf('-t') + 2)).toEqual(['-t', 'reg/api:1']);
    expect(again).toContain(inv.buildxMetadataFile);
    expect(again.slice(-2)).toEqual(['--push', 'dist/docker/api']);
    expect(inv.republishStdin).toBe('FROM nxcb-image\n');
  });
  test('a loaded build writes its layout under the tags (docker load names the image from them)', () => {
    const inv = buildInvocation(plan({}, { facts: FACTS }, 'build'), {}, host);
    expect(inv.argv.slice(inv.argv.indexOf('-t'), inv.argv.indexOf('-t') + 2)).toEqual(['-t', 'reg/api:1']);
    expect(inv.argv).not.toContain('--load');
    expect(inv.argv[inv.argv.indexOf('--output') + 1]).toContain('oci-mediatypes=false');
  });
});

describe('retry', () => {
  const r = (exitCode: number, stderr = '') => ({ exitCode, stderr, stdout: '', command: 'docker buildx build' });
  const e500 = 'unexpected status from PUT request to http://127.0.0.1:5000/v2/api/manifests/1: 500 Internal Server Error';
  test.each<[string, 'build' | 'push', ReturnType<typeof r>, number, boolean]>([
    ['a push refused with a 5xx', 'push', r(1, e500), 1, true],
    ['502 Bad Gateway', 'push', r(1, 'failed to push: 502 Bad Gateway'), 2, true],
    ['not after the last attempt', 'push', r(1, e500), 3, false],
    ['a build never (nothing was pushed)', 'build', r(1, e500), 1, false],
    ['success', 'push', r(0, e500), 1, false],
    ['a refused connection is not transient', 'push', r(1, 'dial tcp 127.0.0.1:5000: connect: connection refused'), 1, false],
    ['a Dockerfile error', 'push', r(1, 'failed to solve: dockerfile parse error'), 1, false],
  ])('%s', (_, mode, result, attempt, expected) => {
    expect(shouldRetry(mode, result, attempt)).toBe(expected);
  });
});
