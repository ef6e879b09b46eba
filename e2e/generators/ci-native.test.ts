import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSeq, parse, parseDocument } from 'yaml';
import { BASE_IMAGE, ensureStack } from '../support/stack';
import { indexDigests, listTags } from '../support/registry';
import { createWorkspace, nxEnv, REPO_ROOT, run, type NxResult, type TempWorkspace } from '../support/workspace';

/**
 * The GitLab pipeline `nx g nx-compose-buildx:ci --provider=gitlab --runners=native` writes, run by
 * gitlab-ci-local against the real stack: its shell executor with --shell-isolation gives every job
 * its own copy of the checkout (git history included, ignored files left out) and carries the
 * declared artifacts from the legs to the merge job, as GitLab does between runners.
 *
 * What the local run changes, and only that: the `.docker` template's runner environment. There is no
 * Docker-in-Docker service and no Alpine image here (the shell runs on this machine, against the
 * stack's engine), no `apk add`, no `docker buildx create` (the stack's default builder does
 * multi-platform builds), and `npm ci` becomes a link to this repo's node_modules (no registry).
 * The rules, matrix, variables, scripts, artifacts and needs are the generated ones, run as written.
 */
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const NS = `127.0.0.1:5000/e2e-cinative/${RUN_ID}`;
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const GITLAB_CI_LOCAL = join(REPO_ROOT, 'node_modules/gitlab-ci-local/src/index.js');
const LOCAL_CI_FILE = '.gitlab-ci.local.yml';

const service = (name: string) =>
  [
    `  ${name}:`,
    `    image: ${NS}/${name}:latest`,
    '    build:',
    `      context: ./${name}`,
    '      network: none',
    `      platforms: [${PLATFORMS.join(', ')}]`,
  ].join('\n');
const DOCKERFILE = [`FROM ${BASE_IMAGE}`, 'COPY msg.txt /msg.txt', 'RUN uname -m > /built-on', ''].join('\n');

/** The generated pipeline with the runner environment of this machine in place of GitLab's (see above). */
function localPipeline(generated: string): string {
  const doc = parseDocument(generated);
  for (const key of ['DOCKER_HOST', 'DOCKER_TLS_CERTDIR', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) {
    if (!doc.hasIn(['variables', key])) throw new Error(`the generated pipeline no longer sets variables.${key}`);
    doc.deleteIn(['variables', key]);
  }
  doc.deleteIn(['.docker', 'image']);
  doc.deleteIn(['.docker', 'services']);
  const before = doc.getIn(['.docker', 'before_script']);
  if (!isSeq(before)) throw new Error('the generated .docker template has no before_script list');
  const lines = before.toJSON() as string[];
  const replaced = ['apk add --no-cache nodejs npm git', 'docker buildx create --use --name nx-compose-buildx', 'npm ci'];
  for (const line of replaced) if (!lines.includes(line)) throw new Error(`before_script no longer has "${line}"`);
  const local = lines
    .filter((l) => l !== replaced[0] && l !== replaced[1])
    .map((l) => (l === 'npm ci' ? `ln -s ${JSON.stringify(join(REPO_ROOT, 'node_modules'))} node_modules` : l));
  doc.setIn(['.docker', 'before_script'], local);
  return doc.toString({ lineWidth: 0 });
}

describe('ci generator --runners=native: the GitLab pipeline run by gitlab-ci-local', () => {
  let ws: TempWorkspace;
  let home: string;
  let stackEnv: NodeJS.ProcessEnv;
  const out = (r: NxResult) => `${r.stdout}\n${r.stderr}`;

  /** gitlab-ci-local in the workspace: every job its rules select, each in its own copy of the checkout. */
  const pipeline = (variables: Record<string, string>) =>
    run(
      process.execPath,
      [
        GITLAB_CI_LOCAL,
        '--file',
        LOCAL_CI_FILE,
        '--home',
        home,
        '--shell-isolation',
        // one job at a time: the legs share this machine's one engine, where CI gives each its own
        '--concurrency=1',
        '--max-job-name-padding=0',
        ...Object.entries(variables).flatMap(([k, v]) => ['--variable', `${k}=${v}`]),
      ],
      // The jobs' docker logs in to the local registry: its credentials go to a config of their own.
      { cwd: ws.root, env: nxEnv({ ...stackEnv, DOCKER_CONFIG: join(home, 'docker'), CI: 'true' }) },
    );
  /** Files under a job's artifacts folder, workspace-relative to the job's checkout. */
  const artifactFiles = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
          .sort()
      : [];

  beforeAll(async () => {
    const stack = await ensureStack();
    stackEnv = stack.env;
    const rsync = await run('rsync', ['--version'], { cwd: tmpdir() });
    if (rsync.status !== 0) throw new Error('gitlab-ci-local needs rsync on PATH: `bash scripts/local-stack.sh up` installs it.');
    home = mkdtempSync(join(tmpdir(), 'nxcb-gcl-home-'));
    ws = await createWorkspace({
      env: stack.env,
      files: {
        'compose.yaml': ['name: cinative', 'services:', service('app'), service('still'), ''].join('\n'),
        'app/Dockerfile': DOCKERFILE,
        'app/msg.txt': 'app v1\n',
        'still/Dockerfile': DOCKERFILE,
        'still/msg.txt': 'still v1\n',
        // gitlab-ci-local's state (job checkouts, artifacts) stays out of the checkouts it copies.
        '.gitignore': 'node_modules\n.nx\ndist\n.gitlab-ci-local\n',
      },
    });
  });
  afterAll(() => {
    ws?.dispose();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('generates one leg per platform the services declare (read from the graph), and a merge job', async () => {
    await ws.nx(['g', 'nx-compose-buildx:ci', '--provider=gitlab', '--runners=native', `--registry=${NS}`]);
    const ci = parse(ws.read('.gitlab-ci.yml'));
    expect(ci['.platforms'].parallel.matrix).toEqual([
      { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/amd64', RUNNER_TAG: 'saas-linux-small-amd64' },
      { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm64', RUNNER_TAG: 'saas-linux-small-arm64' },
    ]);
    expect(ci['docker-merge'].needs).toEqual(['docker-push']);
    ws.write(LOCAL_CI_FILE, localPipeline(ws.read('.gitlab-ci.yml')));
    // The pushed commit: app changes, still does not.
    ws.write('app/msg.txt', 'app v2\n');
    await ws.commit('CI pipeline; app v2');
  });

  it('merge-request pipeline: each leg builds its own platform of the affected service, read-only; nothing is pushed or merged', async () => {
    const base = (await ws.git(['rev-parse', 'HEAD~1'])).trim();
    const r = await pipeline({ CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_DIFF_BASE_SHA: base });
    const text = out(r);
    expect(r.status, text).toBe(0);
    expect(text.match(/^docker-build: \[[^\]]*\] starting shell/gm)).toHaveLength(2);
    expect(text).not.toMatch(/^docker-(push|merge)\b.* starting/m);
    const builds = join(ws.root, '.gitlab-ci-local/builds');
    const built = readdirSync(builds)
      .filter((d) => d.startsWith('docker-build'))
      .map((leg) => {
        expect(existsSync(join(builds, leg, 'dist/docker/still')), `${leg} built still`).toBe(false);
        const metadata = JSON.parse(readFileSync(join(builds, leg, 'dist/docker/app/metadata.json'), 'utf-8'));
        return Object.keys(metadata.platforms);
      });
    expect(built.sort()).toEqual(PLATFORMS.map((p) => [p]));
    expect(await listTags(`${NS}/app`)).toEqual([]);
  });

  it('push pipeline: each leg pushes its platform of the affected service by digest, the merge job assembles the manifest list', async () => {
    const r = await pipeline({ REGISTRY_USERNAME: 'e2e', REGISTRY_PASSWORD: 'e2e' });
    const text = out(r);
    expect(r.status, text).toBe(0);
    // The merge-request job is left out by its rules; the two legs and the merge ran.
    expect(text).not.toMatch(/docker-build\b.*starting/);
    expect(text).toMatch(/docker-merge.*starting shell/);

    // Each leg handed on its own platform's digest file, for the affected service alone.
    const artifacts = join(ws.root, '.gitlab-ci-local/artifacts');
    const legs = readdirSync(artifacts).filter((d) => d.startsWith('docker-push'));
    expect(legs).toHaveLength(2);
    const handed = legs.flatMap((leg) => artifactFiles(join(artifacts, leg))).sort();
    expect(handed).toEqual(['dist/nxcb-digests/app/linux-amd64.json', 'dist/nxcb-digests/app/linux-arm64.json']);
    // The merge job's checkout received both (its own checkout, not the legs').
    const mergeCheckout = join(ws.root, '.gitlab-ci-local/builds/docker-merge');
    expect(artifactFiles(join(mergeCheckout, 'dist/nxcb-digests'))).toEqual(['app/linux-amd64.json', 'app/linux-arm64.json']);

    // The registry serves one manifest list with both platforms, each the digest its leg wrote.
    const digests = await indexDigests(`${NS}/app:latest`);
    expect(Object.keys(digests).sort()).toEqual(PLATFORMS);
    for (const platform of PLATFORMS) {
      const file = ws.read(`.gitlab-ci-local/builds/docker-merge/dist/nxcb-digests/app/${platform.replace('/', '-')}.json`);
      expect(file, platform).toContain(digests[platform]!);
    }
    // The unchanged service was built by no leg and merged by nobody.
    expect(await listTags(`${NS}/still`)).toEqual([]);
  });
});
