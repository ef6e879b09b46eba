import { createProjectGraphAsync, logger, readNxJson, type Tree } from '@nx/devkit';
import { normalizePluginOptions, type ComposeBuildxPluginOptions } from '../../plugin-options';
import { PLUGIN_NAME } from '../init/generator';
import type { CiGeneratorSchema } from './schema';
import { DEFAULT_DIGESTS_DIR, DIGESTS_DIR_ENV, PLATFORMS_ENV } from '../../native-leg';
import { DEFAULT_RUNNERS, nativeLegs, platformsInUse, type NativeLeg, type RunnerArch } from './native-legs';

/** The env var the registry cache reads: on pull requests, import the cache but never export it. */
import { CACHE_READONLY_ENV } from '../../executors/shared/build-plan';
export { CACHE_READONLY_ENV };
export const GITHUB_WORKFLOW_PATH = '.github/workflows/docker.yml';
export const GITLAB_CI_PATH = '.gitlab-ci.yml';

/** Where each leg writes its digest files, and where the merge job gathers every leg's (the executors' default). */
const DIGESTS_DIR = DEFAULT_DIGESTS_DIR;

export interface CiContext {
  defaultBranch: string;
  registry?: string;
  nodeVersion: string;
  targets: { build: string; push: string; merge: string };
  builder?: string;
  /** `--runners=native`: one leg per platform on its own runner, then a merge job. */
  native?: { legs: NativeLeg[]; runners: Record<RunnerArch, string> };
}

const RUNNER_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Resolves the options against nx.json. `platforms` are the ones in use in the workspace, needed for
 * `--runners=native` only (the generator reads them from the project graph unless `--platforms` names them).
 */
export function ciContext(tree: Tree, options: CiGeneratorSchema, platforms: readonly string[] = []): CiContext {
  if (options.provider !== 'github' && options.provider !== 'gitlab') {
    throw new Error(`Unknown provider "${options.provider}": choose github or gitlab.`);
  }
  const nxJson = readNxJson(tree) ?? {};
  const reg = (nxJson.plugins ?? []).find((p) => (typeof p === 'string' ? p : p.plugin) === PLUGIN_NAME);
  const pluginOptions = reg && typeof reg !== 'string' ? (reg.options as ComposeBuildxPluginOptions | undefined) : undefined;
  const normalized = normalizePluginOptions(pluginOptions);
  const builder = typeof normalized.builder === 'string' ? normalized.builder : normalized.builder?.name;
  const defaultBranch = options.defaultBranch ?? nxJson.defaultBase ?? 'main';
  if (!/^[A-Za-z0-9._/-]+$/.test(defaultBranch)) throw new Error(`Invalid default branch "${defaultBranch}".`);
  const registry = options.registry?.replace(/\/+$/, '');
  if (registry !== undefined && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/.test(registry)) {
    throw new Error(`Invalid registry "${options.registry}": write host[:port][/namespace], e.g. ghcr.io/acme.`);
  }
  const runners = options.runners ?? 'qemu';
  if (runners !== 'qemu' && runners !== 'native') throw new Error(`Unknown runners "${runners}": choose qemu or native.`);
  let native: CiContext['native'];
  if (runners === 'native') {
    const hosted = DEFAULT_RUNNERS[options.provider];
    const named = { amd64: options.amd64Runner ?? hosted.amd64, arm64: options.arm64Runner ?? hosted.arm64 };
    for (const [arch, name] of Object.entries(named)) {
      if (!RUNNER_NAME.test(name))
        throw new Error(`Invalid ${arch} runner "${name}": write a runner label or tag of letters, digits, ., _ and -.`);
    }
    native = { legs: nativeLegs(platforms), runners: named };
  }
  return {
    defaultBranch,
    ...(registry ? { registry } : {}),
    nodeVersion: options.nodeVersion ?? '20',
    targets: { build: normalized.targetNames.build, push: normalized.targetNames.push, merge: normalized.targetNames.merge },
    ...(builder ? { builder } : {}),
    ...(native ? { native } : {}),
  };
}

/** `--platforms` (comma-separated or a list), else the platforms the project graph's services build for. */
async function platformsFor(options: CiGeneratorSchema): Promise<string[]> {
  if (options.platforms !== undefined) {
    const list = Array.isArray(options.platforms) ? options.platforms : options.platforms.split(',');
    return list.map((p) => p.trim()).filter(Boolean);
  }
  const { platforms, undeclared } = platformsInUse(await createProjectGraphAsync());
  if (undeclared.length) {
    logger.warn(
      `nx-compose-buildx:ci --runners=native: ${undeclared.join(', ')} declare${undeclared.length === 1 ? 's' : ''} no build.platforms, ` +
        'so no platform leg builds them and their merge fails: declare build.platforms in the compose file.',
    );
  }
  if (platforms.length === 0) {
    throw new Error(
      '--runners=native found no compose service that declares build.platforms: add one first, or pass --platforms=linux/amd64,linux/arm64.',
    );
  }
  return platforms;
}

const registryHost = (registry: string) => registry.split('/')[0]!;

/** Lines of one GitHub job's steps, from the checkout to the login (indented for `steps:`). */
function githubSetupSteps(c: CiContext, qemu: 'all' | 'matrix' | 'none'): string[] {
  const registry = c.registry ?? 'ghcr.io/${{ github.repository_owner }}';
  const host = registryHost(registry);
  const ghcr = host === 'ghcr.io';
  return [
    '      - uses: actions/checkout@v4',
    '        with:',
    '          fetch-depth: 0 # full history: nx affected compares with the base SHA',
    '      - uses: actions/setup-node@v4',
    '        with:',
    `          node-version: '${c.nodeVersion}'`,
    '          cache: npm',
    '      - run: npm ci',
    '      - name: Set the base and head SHAs for nx affected',
    '        uses: nrwl/nx-set-shas@v4',
    '        with:',
    `          main-branch-name: ${c.defaultBranch}`,
    ...(qemu === 'all' ? ['      - name: Set up QEMU (foreign platforms run emulated)', '        uses: docker/setup-qemu-action@v3'] : []),
    ...(qemu === 'matrix'
      ? [
          '      - name: Set up QEMU (this platform has no native runner)',
          "        if: matrix.emulate != ''",
          '        uses: docker/setup-qemu-action@v3',
          '        with:',
          '          platforms: ${{ matrix.emulate }}',
        ]
      : []),
    '      - name: Set up Docker Buildx',
    '        uses: docker/setup-buildx-action@v3',
    ...(c.builder ? ['        with:', `          name: ${c.builder}`] : []),
    '      - name: Log in to the registry',
    "        if: github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository",
    '        uses: docker/login-action@v3',
    '        with:',
    `          registry: ${host}`,
    ...(ghcr
      ? ['          username: ${{ github.actor }}', '          password: ${{ secrets.GITHUB_TOKEN }}']
      : ['          username: ${{ secrets.REGISTRY_USERNAME }}', '          password: ${{ secrets.REGISTRY_PASSWORD }}']),
  ];
}

/** `nx sync:check`, the pull-request build with a read-only cache, and the push (a leg's, with `pushEnv`). */
function githubAffectedSteps(c: CiContext, pushEnv: string[] = []): string[] {
  return [
    '      - name: Check that nx sync output is committed',
    '        run: npx nx sync:check',
    '      - name: Build affected images (pull request, registry cache read-only)',
    "        if: github.event_name == 'pull_request'",
    '        env:',
    `          ${CACHE_READONLY_ENV}: 'true'`,
    `        run: npx nx affected -t ${c.targets.build}`,
    '      - name: Build and push affected images',
    "        if: github.event_name == 'push'",
    ...(pushEnv.length ? ['        env:', ...pushEnv.map((line) => `          ${line}`)] : []),
    `        run: npx nx affected -t ${c.targets.push}`,
  ];
}

function githubHeader(c: CiContext, summary: string[]): string[] {
  const registry = c.registry ?? 'ghcr.io/${{ github.repository_owner }}';
  const b = c.defaultBranch;
  return [
    ...summary.map((line) => `# ${line}`),
    '# Tag and cache rules come from the nx-compose-buildx options in nx.json.',
    'name: docker',
    '',
    'on:',
    '  push:',
    `    branches: [${b}]`,
    "    tags: ['*']",
    '  pull_request:',
    `    branches: [${b}]`,
    '',
    'permissions:',
    '  contents: read',
    '  packages: write',
    '',
    'concurrency:',
    '  group: docker-${{ github.ref }}',
    "  cancel-in-progress: ${{ github.event_name == 'pull_request' }}",
    '',
    'env:',
    '  # compose files interpolate ${REGISTRY} in image names (nx-compose-buildx:service writes them so)',
    `  REGISTRY: ${registry}`,
    "  NX_NO_CLOUD: 'true'",
    '',
    'jobs:',
  ];
}

export function githubWorkflow(c: CiContext): string {
  if (c.native) return githubNativeWorkflow(c, c.native);
  return [
    ...githubHeader(c, [
      'Generated by nx-compose-buildx:ci. Builds the compose services that changed, for every',
      'platform in their build.platforms; pushes them from the default branch and tags.',
    ]),
    '  docker:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    ...githubSetupSteps(c, 'all'),
    ...githubAffectedSteps(c),
    '',
  ].join('\n');
}

/**
 * One job per platform on a runner of that CPU (matrix), pushing by digest, then one merge job that
 * assembles each affected service's manifest list from every leg's digest files. Pull requests
 * build on every leg with the cache read-only and merge nothing.
 */
function githubNativeWorkflow(c: CiContext, native: NonNullable<CiContext['native']>): string {
  const matrix = native.legs.flatMap((leg) => [
    `          - platform: ${leg.platform}`,
    `            slug: ${leg.slug}`,
    `            runner: ${native.runners[leg.runner]}`,
    `            emulate: '${leg.emulate ?? ''}'`,
  ]);
  return [
    ...githubHeader(c, [
      'Generated by nx-compose-buildx:ci --runners=native. Each platform is built on its own runner',
      '(QEMU only where no runner of that CPU exists) for the compose services that changed, and',
      'pushed by digest; the merge job then assembles each manifest list under every tag.',
      'Pull requests build on every leg with the registry cache read-only, and merge nothing.',
    ]),
    '  platform:',
    '    name: ${{ matrix.platform }}',
    '    runs-on: ${{ matrix.runner }}',
    '    strategy:',
    '      fail-fast: false',
    '      matrix:',
    '        include:',
    ...matrix,
    '    env:',
    `      ${PLATFORMS_ENV}: \${{ matrix.platform }} # builds only this platform of each service`,
    '    steps:',
    ...githubSetupSteps(c, 'matrix'),
    ...githubAffectedSteps(c, [`${DIGESTS_DIR_ENV}: ${DIGESTS_DIR}`]),
    '      - name: Hand the digests to the merge job',
    "        if: github.event_name == 'push'",
    '        uses: actions/upload-artifact@v4',
    '        with:',
    '          name: digests-${{ matrix.slug }}',
    `          path: ${DIGESTS_DIR}`,
    '          if-no-files-found: ignore # nothing affected on this platform',
    '          retention-days: 1',
    '',
    `  ${c.targets.merge}:`,
    '    needs: platform',
    "    if: github.event_name == 'push'",
    `    runs-on: ${native.runners.amd64}`,
    '    steps:',
    ...githubSetupSteps(c, 'none'),
    "      - name: Gather every platform's digests",
    '        uses: actions/download-artifact@v4',
    '        with:',
    '          pattern: digests-*',
    '          merge-multiple: true',
    `          path: ${DIGESTS_DIR}`,
    '      - name: Assemble the manifest lists of the affected images',
    '        env:',
    `          ${DIGESTS_DIR_ENV}: ${DIGESTS_DIR}`,
    `        run: npx nx affected -t ${c.targets.merge}`,
    '',
  ].join('\n');
}

/** Every GitLab job's environment: Docker-in-Docker, buildx, the login, `npm ci`, `nx sync:check`. */
function gitlabDockerTemplate(c: CiContext, stages: string[], emulation: string[]): string[] {
  const registry = c.registry ?? '$CI_REGISTRY_IMAGE';
  const login =
    c.registry === undefined
      ? 'echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"'
      : // A merge request's pipeline gets no protected variables (and none from a fork): it builds without the login.
        `if [ -n "$REGISTRY_USERNAME" ] || [ "$CI_PIPELINE_SOURCE" != merge_request_event ]; then echo "$REGISTRY_PASSWORD" | docker login -u "$REGISTRY_USERNAME" --password-stdin ${registryHost(registry)}; fi`;
  return [
    `stages: [${stages.join(', ')}]`,
    '',
    'variables:',
    '  # compose files interpolate ${REGISTRY} in image names',
    `  REGISTRY: ${registry}`,
    "  GIT_DEPTH: '0' # full history: nx affected compares with the base SHA",
    '  DOCKER_HOST: tcp://docker:2376',
    '  DOCKER_TLS_CERTDIR: /certs',
    "  DOCKER_TLS_VERIFY: '1'",
    '  DOCKER_CERT_PATH: /certs/client',
    "  NX_NO_CLOUD: 'true'",
    '',
    '.docker:',
    `  stage: ${stages[0]}`,
    '  image: docker:27',
    '  services:',
    '    - docker:27-dind',
    '  before_script:',
    '    - apk add --no-cache nodejs npm git',
    ...emulation,
    `    - docker buildx create --use --name ${c.builder ?? 'nx-compose-buildx'}`,
    `    - ${login}`,
    '    - npm ci',
    '    - npx nx sync:check',
    '',
  ];
}

/** The pull-request job (read-only cache) and the push job's rules and base SHA, as `extends`-able lines. */
function gitlabJobs(c: CiContext, extendsFrom: string, pushExtra: string[] = []): string[] {
  return [
    `${c.targets.build}:`,
    `  extends: ${extendsFrom}`,
    '  rules:',
    '    - if: $CI_PIPELINE_SOURCE == "merge_request_event"',
    '  variables:',
    `    ${CACHE_READONLY_ENV}: 'true' # registry cache read-only`,
    '    NX_BASE: $CI_MERGE_REQUEST_DIFF_BASE_SHA',
    '  script:',
    `    - npx nx affected -t ${c.targets.build} --base="$NX_BASE" --head="$CI_COMMIT_SHA"`,
    '',
    `${c.targets.push}:`,
    `  extends: ${extendsFrom}`,
    ...gitlabPushRules(c),
    ...pushExtra,
    '  script:',
    ...gitlabBaseSha(),
    `    - npx nx affected -t ${c.targets.push} --base="$NX_BASE" --head="$CI_COMMIT_SHA"`,
    '',
  ];
}

function gitlabPushRules(c: CiContext): string[] {
  return ['  rules:', `    - if: $CI_COMMIT_BRANCH == "${c.defaultBranch}" && $CI_PIPELINE_SOURCE == "push"`, '    - if: $CI_COMMIT_TAG'];
}

function gitlabBaseSha(): string[] {
  return [
    '    # the previous pushed commit; a new branch or a tag has none (all zeros): use the parent',
    '    - NX_BASE="$CI_COMMIT_BEFORE_SHA"',
    '    - if [ -z "$NX_BASE" ] || [ "$NX_BASE" = "0000000000000000000000000000000000000000" ]; then NX_BASE="$(git rev-parse HEAD~1)"; fi',
  ];
}

export function gitlabCi(c: CiContext): string {
  if (c.native) return gitlabNativeCi(c, c.native);
  return [
    '# Generated by nx-compose-buildx:ci. Builds the compose services that changed, for every',
    '# platform in their build.platforms; pushes them from the default branch and tags.',
    '# Tag and cache rules come from the nx-compose-buildx options in nx.json.',
    ...gitlabDockerTemplate(
      c,
      ['docker'],
      [
        '    # QEMU binfmt handlers, so foreign platforms run emulated; then a buildx builder',
        '    - docker run --privileged --rm tonistiigi/binfmt --install all',
      ],
    ),
    ...gitlabJobs(c, '.docker'),
  ].join('\n');
}

/**
 * `parallel: matrix`, one job per platform on a runner of that CPU (by tag), pushing by digest and
 * keeping the digest files as artifacts; the merge job `needs` every leg, so it gets all of them.
 */
function gitlabNativeCi(c: CiContext, native: NonNullable<CiContext['native']>): string {
  const matrix = native.legs.flatMap((leg) => [
    `      - ${PLATFORMS_ENV}: ${leg.platform}`,
    `        RUNNER_TAG: ${native.runners[leg.runner]}`,
    ...(leg.emulate ? [`        EMULATE_ARCH: ${leg.emulate}`] : []),
  ]);
  return [
    '# Generated by nx-compose-buildx:ci --runners=native. Each platform is built on its own runner',
    '# (QEMU only where no runner of that CPU exists) for the compose services that changed, and',
    '# pushed by digest; the merge job then assembles each manifest list under every tag.',
    '# Merge requests build on every leg with the registry cache read-only, and merge nothing.',
    '# Tag and cache rules come from the nx-compose-buildx options in nx.json.',
    ...gitlabDockerTemplate(
      c,
      ['docker', 'merge'],
      [
        '    # QEMU binfmt handlers only on the legs whose platform no runner runs natively',
        '    - if [ -n "$EMULATE_ARCH" ]; then docker run --privileged --rm tonistiigi/binfmt --install "$EMULATE_ARCH"; fi',
      ],
    ),
    '.platforms:',
    '  parallel:',
    '    matrix:',
    ...matrix,
    '  tags: [$RUNNER_TAG]',
    '',
    ...gitlabJobs(c, '[.docker, .platforms]', [
      '  variables:',
      `    ${DIGESTS_DIR_ENV}: ${DIGESTS_DIR}`,
      '  artifacts:',
      `    paths: [${DIGESTS_DIR}/]`,
      '    expire_in: 1 day',
    ]),
    `${c.targets.merge}:`,
    '  extends: .docker',
    '  stage: merge',
    `  needs: [${c.targets.push}] # every leg, with its digest files`,
    ...gitlabPushRules(c),
    '  variables:',
    `    ${DIGESTS_DIR_ENV}: ${DIGESTS_DIR}`,
    '  script:',
    ...gitlabBaseSha(),
    `    - npx nx affected -t ${c.targets.merge} --base="$NX_BASE" --head="$CI_COMMIT_SHA"`,
    '',
  ].join('\n');
}

export async function ciGenerator(tree: Tree, options: CiGeneratorSchema): Promise<void> {
  const c = ciContext(tree, options, options.runners === 'native' ? await platformsFor(options) : []);
  const [path, content] = options.provider === 'github' ? [GITHUB_WORKFLOW_PATH, githubWorkflow(c)] : [GITLAB_CI_PATH, gitlabCi(c)];
  if (tree.exists(path) && !options.overwrite && tree.read(path, 'utf-8') !== content) {
    throw new Error(`${path} already exists; pass --overwrite to replace it.`);
  }
  tree.write(path, content);
}

export default ciGenerator;
