import { createProjectGraphAsync, logger, readNxJson, updateNxJson, type ProjectGraph, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { validateWorkflow } from '@action-validator/core';
import Ajv from 'ajv';
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { ciGenerator } from './generator';
import { nativeLeg, nativeLegs, platformsInUse } from './native-legs';
import type { CiGeneratorSchema } from './schema';

// --runners=native reads the platforms in use from the project graph; the tests hand it one.
vi.mock('@nx/devkit', async (importOriginal) => ({
  ...(await importOriginal<Record<string, unknown>>()),
  createProjectGraphAsync: vi.fn(),
}));

/** A GitHub Actions step, as far as these tests read it. */
interface WorkflowStep {
  uses?: string;
  run?: string;
  if?: string;
  name?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

// GitLab's own .gitlab-ci.yml JSON schema, as shipped inside the gitlab-ci-local package.
const gitlabSchema = createRequire(__filename)('gitlab-ci-local/src/schema/schema.json');
const validateGitlab = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(gitlabSchema);

function run(opts: CiGeneratorSchema, setup?: (tree: Tree) => void) {
  const tree = createTreeWithEmptyWorkspace();
  setup?.(tree);
  return ciGenerator(tree, opts).then(() => tree);
}

function expectValidGithub(text: string) {
  expect(parseDocument(text).errors).toEqual([]);
  const result = validateWorkflow(text);
  expect(result.errors, JSON.stringify(result.errors, null, 2)).toEqual([]);
}

function expectValidGitlab(text: string) {
  expect(parseDocument(text).errors).toEqual([]);
  const ok = validateGitlab(parse(text));
  expect(ok, JSON.stringify(validateGitlab.errors, null, 2)).toBe(true);
}

describe('ci generator: the validators catch mistakes', () => {
  it('action-validator rejects a broken workflow', () => {
    expect(validateWorkflow('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n').errors.length).toBeGreaterThan(0);
  });
  it('the GitLab schema rejects a broken job', () => {
    expect(validateGitlab(parse('build:\n  scriptz: [echo]\n  when: sometimes\n'))).toBe(false);
  });
});

describe('ci generator: github', () => {
  it.each([
    { title: 'defaults', opts: {} },
    { title: 'ghcr registry', opts: { registry: 'ghcr.io/acme' } },
    { title: 'other registry', opts: { registry: 'registry.example.com:5000/team/', defaultBranch: 'trunk', nodeVersion: '22' } },
  ])('$title: valid workflow', async ({ opts }) => {
    const tree = await run({ provider: 'github', ...opts });
    expectValidGithub(tree.read('.github/workflows/docker.yml', 'utf-8')!);
  });

  it('has the required steps', async () => {
    const tree = await run({ provider: 'github', registry: 'ghcr.io/acme' });
    const wf = parse(tree.read('.github/workflows/docker.yml', 'utf-8')!);
    expect(wf.on).toEqual({ push: { branches: ['main'], tags: ['*'] }, pull_request: { branches: ['main'] } });
    expect(wf.env.REGISTRY).toBe('ghcr.io/acme');
    const steps = wf.jobs.docker.steps as WorkflowStep[];
    const uses = steps.map((s) => s.uses).filter(Boolean);
    expect(uses).toEqual([
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'nrwl/nx-set-shas@v4',
      'docker/setup-qemu-action@v3',
      'docker/setup-buildx-action@v3',
      'docker/login-action@v3',
    ]);
    expect(steps[0]!.with?.['fetch-depth']).toBe(0);
    const login = steps.find((s) => s.uses === 'docker/login-action@v3')!;
    expect(login.with).toEqual({ registry: 'ghcr.io', username: '${{ github.actor }}', password: '${{ secrets.GITHUB_TOKEN }}' });
    const runs = steps.filter((s) => s.run).map((s) => [s.if, s.run, s.env]);
    expect(runs).toEqual([
      [undefined, 'npm ci', undefined],
      [undefined, 'npx nx sync:check', undefined],
      ["github.event_name == 'pull_request'", 'npx nx affected -t docker-build', { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' }],
      ["github.event_name == 'push'", 'npx nx affected -t docker-push', undefined],
    ]);
  });

  it('uses target names and builder from nx.json, and registry secrets for other registries', async () => {
    const tree = await run({ provider: 'github', registry: 'quay.io/acme' }, (t) =>
      updateNxJson(t, {
        ...readNxJson(t),
        defaultBase: 'develop',
        plugins: [{ plugin: 'nx-compose-buildx', options: { buildTargetName: 'image', pushTargetName: 'publish', builder: 'multi' } }],
      }),
    );
    const text = tree.read('.github/workflows/docker.yml', 'utf-8')!;
    expectValidGithub(text);
    const wf = parse(text);
    expect(wf.on.push.branches).toEqual(['develop']);
    expect(text).toContain('npx nx affected -t image\n');
    expect(text).toContain('npx nx affected -t publish\n');
    const steps = wf.jobs.docker.steps as WorkflowStep[];
    expect(steps.find((s) => s.uses === 'docker/setup-buildx-action@v3')!.with).toEqual({ name: 'multi' });
    expect(steps.find((s) => s.uses === 'docker/login-action@v3')!.with).toEqual({
      registry: 'quay.io',
      username: '${{ secrets.REGISTRY_USERNAME }}',
      password: '${{ secrets.REGISTRY_PASSWORD }}',
    });
  });
});

describe('ci generator: gitlab', () => {
  it.each([
    { title: 'defaults (GitLab registry)', opts: {} },
    { title: 'other registry', opts: { registry: 'ghcr.io/acme', defaultBranch: 'trunk' } },
  ])('$title: valid .gitlab-ci.yml', async ({ opts }) => {
    const tree = await run({ provider: 'gitlab', ...opts });
    expectValidGitlab(tree.read('.gitlab-ci.yml', 'utf-8')!);
  });

  it('sets up binfmt, buildx, login, base SHAs and read-only cache', async () => {
    const tree = await run({ provider: 'gitlab' });
    const ci = parse(tree.read('.gitlab-ci.yml', 'utf-8')!);
    expect(ci.variables).toMatchObject({ GIT_DEPTH: '0', REGISTRY: '$CI_REGISTRY_IMAGE' });
    expect(ci['.docker'].services).toEqual(['docker:27-dind']);
    expect(ci['.docker'].before_script).toEqual(
      expect.arrayContaining([
        'docker run --privileged --rm tonistiigi/binfmt --install all',
        'docker buildx create --use --name nx-compose-buildx',
        'echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"',
        'npx nx sync:check',
      ]),
    );
    expect(ci['docker-build'].variables).toEqual({ NX_COMPOSE_BUILDX_CACHE_READONLY: 'true', NX_BASE: '$CI_MERGE_REQUEST_DIFF_BASE_SHA' });
    expect(ci['docker-build'].rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
    expect(ci['docker-push'].rules).toEqual([
      { if: '$CI_COMMIT_BRANCH == "main" && $CI_PIPELINE_SOURCE == "push"' },
      { if: '$CI_COMMIT_TAG' },
    ]);
    expect(ci['docker-push'].script.join('\n')).toContain('$CI_COMMIT_BEFORE_SHA');
    expect(ci['docker-push'].script.at(-1)).toBe('npx nx affected -t docker-push --base="$NX_BASE" --head="$CI_COMMIT_SHA"');
  });
});

describe('ci generator: gitlab login to another registry', () => {
  it.each(['qemu', 'native'] as const)('--runners=%s: skipped on a merge request without credentials, never on a push', async (runners) => {
    const tree = await run({ provider: 'gitlab', registry: 'quay.io/acme', runners, platforms: 'linux/amd64' });
    const text = tree.read('.gitlab-ci.yml', 'utf-8')!;
    expectValidGitlab(text);
    expect(parse(text)['.docker'].before_script).toContain(
      'if [ -n "$REGISTRY_USERNAME" ] || [ "$CI_PIPELINE_SOURCE" != merge_request_event ]; then echo "$REGISTRY_PASSWORD" | docker login -u "$REGISTRY_USERNAME" --password-stdin quay.io; fi',
    );
  });
});

describe('ci generator: errors', () => {
  it.each([
    { opts: { provider: 'jenkins' }, error: /Unknown provider "jenkins"/ },
    { opts: { provider: 'github', registry: 'https://ghcr.io' }, error: /Invalid registry/ },
    { opts: { provider: 'github', defaultBranch: 'main; rm -rf /' }, error: /Invalid default branch/ },
  ])('rejects $opts', async ({ opts, error }) => {
    await expect(run(opts as CiGeneratorSchema)).rejects.toThrow(error);
  });

  it('does not overwrite an edited workflow without --overwrite', async () => {
    const setup = (t: Tree) => t.write('.github/workflows/docker.yml', 'name: mine\n');
    await expect(run({ provider: 'github' }, setup)).rejects.toThrow(/already exists; pass --overwrite/);
    const tree = await run({ provider: 'github', overwrite: true }, setup);
    expect(tree.read('.github/workflows/docker.yml', 'utf-8')).toContain('name: docker');
  });
});

/** A project graph holding services whose docker-verify targets list these platforms. */
function graphOf(services: Record<string, string[]>): ProjectGraph {
  const nodes: ProjectGraph['nodes'] = {};
  for (const [name, platforms] of Object.entries(services)) {
    nodes[name] = {
      name,
      type: 'app',
      data: {
        root: `services/${name}`,
        targets: {
          'docker-build': { executor: 'nx-compose-buildx:docker-build', options: { platforms: ['linux/mips64le'] } },
          'docker-verify': { executor: 'nx-compose-buildx:docker-verify', options: { platforms } },
        },
      },
    };
  }
  nodes['not-docker'] = { name: 'not-docker', type: 'lib', data: { root: 'libs/x', targets: { build: { executor: 'nx:noop' } } } };
  return { nodes, dependencies: {} };
}

describe('ci generator --runners=native: platform legs', () => {
  it.each([
    { platform: 'linux/amd64', runner: 'amd64', emulate: undefined, slug: 'linux-amd64' },
    { platform: 'linux/arm64/v8', runner: 'arm64', emulate: undefined, slug: 'linux-arm64' },
    { platform: 'linux/arm/v7', runner: 'arm64', emulate: 'arm', slug: 'linux-arm-v7' },
    { platform: 'linux/arm/v6', runner: 'arm64', emulate: 'arm', slug: 'linux-arm-v6' },
    { platform: 'linux/386', runner: 'amd64', emulate: undefined, slug: 'linux-386' },
    { platform: 'linux/ppc64le', runner: 'amd64', emulate: 'ppc64le', slug: 'linux-ppc64le' },
    { platform: 'linux/s390x', runner: 'amd64', emulate: 's390x', slug: 'linux-s390x' },
    { platform: 'linux/riscv64', runner: 'amd64', emulate: 'riscv64', slug: 'linux-riscv64' },
    { platform: 'windows/amd64', runner: 'amd64', emulate: undefined, slug: 'windows-amd64' },
  ])('$platform: $runner runner, QEMU for $emulate', ({ platform, runner, emulate, slug }) => {
    const leg = nativeLeg(platform);
    expect(leg).toEqual({ platform: leg.platform, slug, runner, ...(emulate ? { emulate } : {}) });
    expect(leg.platform).toBe(platform.replace('/v8', ''));
  });

  it('one leg per platform, duplicates and aliases folded, amd64 first', () => {
    expect(nativeLegs(['linux/s390x', 'linux/arm64', 'linux/arm64/v8', 'linux/amd64']).map((l) => l.platform)).toEqual([
      'linux/amd64',
      'linux/arm64',
      'linux/s390x',
    ]);
    expect(() => nativeLegs([])).toThrow(/No platform to build/);
    expect(() => nativeLegs(['linux/arm65'])).toThrow(/Invalid platform "linux\/arm65"/);
  });

  it('reads the platforms in use from the docker-verify targets, and names the services that declare none', () => {
    const { platforms, undeclared } = platformsInUse(
      graphOf({ api: ['linux/amd64', 'linux/arm64'], web: ['linux/arm/v7', 'linux/arm64'], bare: [] }),
    );
    expect(platforms.sort()).toEqual(['linux/amd64', 'linux/arm/v7', 'linux/arm64']);
    expect(undeclared).toEqual(['bare']);
    expect(platformsInUse(graphOf({ solo: ['linux/s390x'] }))).toEqual({ platforms: ['linux/s390x'], undeclared: [] });
    expect(platformsInUse({ nodes: {} })).toEqual({ platforms: [], undeclared: [] });
  });
});

function legsOf(wf: { jobs: Record<string, { strategy: { matrix: { include: unknown[] } } }> }) {
  return wf.jobs.platform!.strategy.matrix.include;
}

describe('ci generator --runners=native: github', () => {
  const native = { provider: 'github', runners: 'native' } as const;

  it('a matrix over the platforms the graph finds, a leg per platform, a merge job after them', async () => {
    vi.mocked(createProjectGraphAsync).mockResolvedValueOnce(graphOf({ api: ['linux/arm64', 'linux/amd64'], db: ['linux/ppc64le'] }));
    const tree = await run(native);
    const text = tree.read('.github/workflows/docker.yml', 'utf-8')!;
    expectValidGithub(text);
    const wf = parse(text);
    expect(wf.on).toEqual({ push: { branches: ['main'], tags: ['*'] }, pull_request: { branches: ['main'] } });
    expect(Object.keys(wf.jobs)).toEqual(['platform', 'docker-merge']);
    expect(legsOf(wf)).toEqual([
      { platform: 'linux/amd64', slug: 'linux-amd64', runner: 'ubuntu-24.04', emulate: '' },
      { platform: 'linux/arm64', slug: 'linux-arm64', runner: 'ubuntu-24.04-arm', emulate: '' },
      { platform: 'linux/ppc64le', slug: 'linux-ppc64le', runner: 'ubuntu-24.04', emulate: 'ppc64le' },
    ]);
    const leg = wf.jobs.platform;
    expect(leg['runs-on']).toBe('${{ matrix.runner }}');
    expect(leg.env).toEqual({ NX_COMPOSE_BUILDX_PLATFORMS: '${{ matrix.platform }}' });
    const steps = leg.steps as WorkflowStep[];
    expect(steps.map((s) => s.uses).filter(Boolean)).toEqual([
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'nrwl/nx-set-shas@v4',
      'docker/setup-qemu-action@v3',
      'docker/setup-buildx-action@v3',
      'docker/login-action@v3',
      'actions/upload-artifact@v4',
    ]);
    const qemu = steps.find((s) => s.uses === 'docker/setup-qemu-action@v3')!;
    expect([qemu.if, qemu.with]).toEqual(["matrix.emulate != ''", { platforms: '${{ matrix.emulate }}' }]);
    expect(steps.filter((s) => s.run).map((s) => [s.if, s.run, s.env])).toEqual([
      [undefined, 'npm ci', undefined],
      [undefined, 'npx nx sync:check', undefined],
      ["github.event_name == 'pull_request'", 'npx nx affected -t docker-build', { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' }],
      ["github.event_name == 'push'", 'npx nx affected -t docker-push', { NX_COMPOSE_BUILDX_DIGESTS_DIR: 'dist/nxcb-digests' }],
    ]);
    const upload = steps.find((s) => s.uses === 'actions/upload-artifact@v4')!;
    expect([upload.if, upload.with]).toEqual([
      "github.event_name == 'push'",
      { name: 'digests-${{ matrix.slug }}', path: 'dist/nxcb-digests', 'if-no-files-found': 'ignore', 'retention-days': 1 },
    ]);

    const merge = wf.jobs['docker-merge'];
    expect([merge.needs, merge.if, merge['runs-on']]).toEqual(['platform', "github.event_name == 'push'", 'ubuntu-24.04']);
    const mergeSteps = merge.steps as WorkflowStep[];
    expect(mergeSteps.map((s) => s.uses).filter(Boolean)).toEqual([
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'nrwl/nx-set-shas@v4',
      'docker/setup-buildx-action@v3',
      'docker/login-action@v3',
      'actions/download-artifact@v4',
    ]);
    expect(mergeSteps.find((s) => s.uses === 'actions/download-artifact@v4')!.with).toEqual({
      pattern: 'digests-*',
      'merge-multiple': true,
      path: 'dist/nxcb-digests',
    });
    expect(mergeSteps.at(-1)).toMatchObject({
      run: 'npx nx affected -t docker-merge',
      env: { NX_COMPOSE_BUILDX_DIGESTS_DIR: 'dist/nxcb-digests' },
    });
  });

  it('--platforms, runner labels, target names and builder from nx.json; the login as in the QEMU pipeline', async () => {
    vi.mocked(createProjectGraphAsync).mockClear();
    const tree = await run(
      {
        ...native,
        platforms: 'linux/arm/v7, linux/arm64',
        amd64Runner: 'x64-large',
        arm64Runner: 'self-hosted-arm',
        registry: 'quay.io/acme',
      },
      (t) =>
        updateNxJson(t, {
          ...readNxJson(t),
          plugins: [{ plugin: 'nx-compose-buildx', options: { pushTargetName: 'publish', mergeTargetName: 'assemble', builder: 'multi' } }],
        }),
    );
    expect(createProjectGraphAsync).not.toHaveBeenCalled();
    const text = tree.read('.github/workflows/docker.yml', 'utf-8')!;
    expectValidGithub(text);
    const wf = parse(text);
    expect(legsOf(wf)).toEqual([
      { platform: 'linux/arm/v7', slug: 'linux-arm-v7', runner: 'self-hosted-arm', emulate: 'arm' },
      { platform: 'linux/arm64', slug: 'linux-arm64', runner: 'self-hosted-arm', emulate: '' },
    ]);
    expect(Object.keys(wf.jobs)).toEqual(['platform', 'assemble']);
    expect(wf.jobs.assemble['runs-on']).toBe('x64-large');
    expect(text).toContain('npx nx affected -t publish\n');
    expect(text).toContain('npx nx affected -t assemble\n');
    for (const job of ['platform', 'assemble']) {
      const steps = wf.jobs[job].steps as WorkflowStep[];
      expect(steps.find((s) => s.uses === 'docker/setup-buildx-action@v3')!.with).toEqual({ name: 'multi' });
      expect(steps.find((s) => s.uses === 'docker/login-action@v3')!.with).toEqual({
        registry: 'quay.io',
        username: '${{ secrets.REGISTRY_USERNAME }}',
        password: '${{ secrets.REGISTRY_PASSWORD }}',
      });
    }
  });
});

describe('ci generator --runners=native: gitlab', () => {
  it('parallel: matrix with runner tags, digests as artifacts, a merge job that needs every leg', async () => {
    vi.mocked(createProjectGraphAsync).mockResolvedValueOnce(graphOf({ api: ['linux/amd64', 'linux/arm64', 'linux/s390x'] }));
    const tree = await run({ provider: 'gitlab', runners: 'native' });
    const text = tree.read('.gitlab-ci.yml', 'utf-8')!;
    expectValidGitlab(text);
    const ci = parse(text);
    expect(ci.stages).toEqual(['docker', 'merge']);
    expect(ci['.platforms']).toEqual({
      parallel: {
        matrix: [
          { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/amd64', RUNNER_TAG: 'saas-linux-small-amd64' },
          { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm64', RUNNER_TAG: 'saas-linux-small-arm64' },
          { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/s390x', RUNNER_TAG: 'saas-linux-small-amd64', EMULATE_ARCH: 's390x' },
        ],
      },
      tags: ['$RUNNER_TAG'],
    });
    expect(ci['.docker'].before_script).toEqual(
      expect.arrayContaining([
        'if [ -n "$EMULATE_ARCH" ]; then docker run --privileged --rm tonistiigi/binfmt --install "$EMULATE_ARCH"; fi',
        'docker buildx create --use --name nx-compose-buildx',
        'echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"',
        'npx nx sync:check',
      ]),
    );
    expect(ci['.docker'].before_script).not.toContain('docker run --privileged --rm tonistiigi/binfmt --install all');
    expect(ci['docker-build']).toMatchObject({
      extends: ['.docker', '.platforms'],
      rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }],
      variables: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' },
    });
    const pushRules = [{ if: '$CI_COMMIT_BRANCH == "main" && $CI_PIPELINE_SOURCE == "push"' }, { if: '$CI_COMMIT_TAG' }];
    expect(ci['docker-push']).toMatchObject({
      extends: ['.docker', '.platforms'],
      rules: pushRules,
      variables: { NX_COMPOSE_BUILDX_DIGESTS_DIR: 'dist/nxcb-digests' },
      artifacts: { paths: ['dist/nxcb-digests/'], expire_in: '1 day' },
    });
    expect(ci['docker-merge']).toMatchObject({
      extends: '.docker',
      stage: 'merge',
      needs: ['docker-push'],
      rules: pushRules,
      variables: { NX_COMPOSE_BUILDX_DIGESTS_DIR: 'dist/nxcb-digests' },
    });
    expect(ci['docker-merge'].script.at(-1)).toBe('npx nx affected -t docker-merge --base="$NX_BASE" --head="$CI_COMMIT_SHA"');
    expect(ci['docker-merge'].script.slice(0, -1)).toEqual(ci['docker-push'].script.slice(0, -1));
  });

  it('runner tags from the options', async () => {
    const tree = await run({
      provider: 'gitlab',
      runners: 'native',
      platforms: ['linux/arm64', 'linux/amd64'],
      arm64Runner: 'arm',
      amd64Runner: 'x86',
    });
    const text = tree.read('.gitlab-ci.yml', 'utf-8')!;
    expectValidGitlab(text);
    expect(parse(text)['.platforms'].parallel.matrix.map((m: { RUNNER_TAG: string }) => m.RUNNER_TAG)).toEqual(['x86', 'arm']);
  });
});

describe('ci generator --runners=native: errors', () => {
  it.each([
    { opts: { provider: 'github', runners: 'fast' }, error: /Unknown runners "fast": choose qemu or native/ },
    { opts: { provider: 'github', runners: 'native', platforms: 'linux/arm65' }, error: /Invalid platform "linux\/arm65"/ },
    {
      opts: { provider: 'gitlab', runners: 'native', platforms: 'linux/arm64', arm64Runner: '-x y' },
      error: /Invalid arm64 runner "-x y"/,
    },
    { opts: { provider: 'github', runners: 'native', platforms: ' , ' }, error: /No platform to build/ },
  ])('rejects $opts', async ({ opts, error }) => {
    await expect(run(opts as CiGeneratorSchema)).rejects.toThrow(error);
  });

  it('says what to do when no compose service declares platforms, and warns about those that do not', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.mocked(createProjectGraphAsync).mockResolvedValueOnce({ nodes: {}, dependencies: {} });
    await expect(run({ provider: 'github', runners: 'native' })).rejects.toThrow(
      /found no compose service that declares build.platforms.*--platforms=/,
    );
    vi.mocked(createProjectGraphAsync).mockResolvedValueOnce(graphOf({ bare: [] }));
    await expect(run({ provider: 'github', runners: 'native' })).rejects.toThrow(/found no compose service that declares build.platforms/);
    vi.mocked(createProjectGraphAsync).mockResolvedValueOnce(graphOf({ api: ['linux/arm64'], bare: [], old: [] }));
    const tree = await run({ provider: 'gitlab', runners: 'native' });
    expect(parse(tree.read('.gitlab-ci.yml', 'utf-8')!)['.platforms'].parallel.matrix).toEqual([
      { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm64', RUNNER_TAG: 'saas-linux-small-arm64' },
    ]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/bare, old declare no build.platforms, so no platform leg builds them/));
    warn.mockRestore();
  });
});
