import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { validateWorkflow } from '@action-validator/core';
import Ajv from 'ajv';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { ciGenerator } from './generator';
import type { CiGeneratorSchema } from './schema';

/** A GitHub Actions step, as far as these tests read it. */
interface WorkflowStep {
  uses?: string;
  run?: string;
  if?: string;
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
