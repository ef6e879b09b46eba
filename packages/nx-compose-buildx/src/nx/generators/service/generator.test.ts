import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeEntry, normalizeServiceOptions, serviceGenerator } from './generator';
import type { ServiceGeneratorSchema } from './schema';

const gen = async (opts: Partial<ServiceGeneratorSchema> & { name: string }, files: Record<string, string> = {}) => {
  const tree = createTreeWithEmptyWorkspace();
  for (const [p, c] of Object.entries(files)) tree.write(p, c);
  await serviceGenerator(tree, { language: 'static', skipFormat: true, ...opts });
  return tree;
};

describe('service generator: options', () => {
  it.each([
    { name: 'api', compose: undefined, directory: undefined, dir: 'services/api', context: './services/api' },
    { name: 'api', compose: 'deploy/compose.yaml', directory: undefined, dir: 'deploy/services/api', context: './services/api' },
    { name: 'api', compose: 'deploy/compose.yaml', directory: 'apps/api', dir: 'apps/api', context: '../apps/api' },
    { name: 'api', compose: './compose.yml', directory: 'apps/api/', dir: 'apps/api', context: './apps/api' },
  ])('compose=$compose directory=$directory → $dir ($context)', ({ name, compose, directory, dir, context }) => {
    const o = normalizeServiceOptions({ name, language: 'go', compose, directory });
    expect(o.directory).toBe(dir);
    expect(o.context).toBe(context);
  });

  it.each([
    { opts: { name: '-api' }, error: /Invalid service name "-api"/ },
    { opts: { name: 'my api' }, error: /Invalid service name/ },
    { opts: { name: 'api', platforms: 'linux/amd64,linux/arm65' }, error: /Invalid platform "linux\/arm65"/ },
    { opts: { name: 'api', platforms: 'linux/aarch64/v9x' }, error: /Invalid platform/ },
    { opts: { name: 'api', platforms: 'windows/amd64' }, error: /Linux images only/ },
    { opts: { name: 'api', platforms: ' , ' }, error: /No platform given/ },
    { opts: { name: 'api', compose: '../x/compose.yaml' }, error: /inside the workspace/ },
    { opts: { name: 'api', language: 'cobol' }, error: /Unknown language "cobol"/ },
    { opts: { name: 'api', buildImage: 'x' }, error: /--buildImage does not apply to the static template/ },
  ])('rejects $opts', ({ opts, error }) => {
    expect(() => normalizeServiceOptions({ language: 'static', ...opts } as ServiceGeneratorSchema)).toThrow(error);
  });

  it('normalises platforms and maps base images to build args', () => {
    const o = normalizeServiceOptions({
      name: 'api',
      language: 'go',
      platforms: 'linux/amd64, linux/arm64/v8,linux/arm,linux/amd64',
      buildImage: 'mirror/golang:1.22',
      baseImage: 'mirror/static',
    });
    expect(o.platforms).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
    expect(composeEntry(o)).toEqual({
      image: '${REGISTRY:-localhost:5000}/api:${TAG:-latest}',
      build: {
        context: './services/api',
        args: { GO_IMAGE: 'mirror/golang:1.22', RUNTIME_IMAGE: 'mirror/static' },
        platforms: o.platforms,
      },
      'x-nx-buildx': { verify: ['/app', '--self-test'] },
    });
  });
});

describe('service generator: files', () => {
  it.each([
    { language: 'go', files: ['Dockerfile', '.dockerignore', 'go.mod', 'main.go', 'uname_linux.go', 'uname_other.go'] },
    { language: 'rust', files: ['Dockerfile', '.dockerignore', 'Cargo.toml', 'src/main.rs'] },
    { language: 'node', files: ['Dockerfile', '.dockerignore', 'package.json', 'index.js'] },
    { language: 'python', files: ['Dockerfile', '.dockerignore', 'main.py', 'requirements.txt'] },
    { language: 'static', files: ['Dockerfile', '.dockerignore', 'main.sh'] },
  ] as const)('$language: writes $files', async ({ language, files }) => {
    const tree = await gen({ name: 'svc', language });
    for (const f of files) expect(tree.exists(`services/svc/${f}`), f).toBe(true);
    const dockerfile = tree.read('services/svc/Dockerfile', 'utf-8')!;
    expect(dockerfile).toMatch(/^ARG [A-Z_]+_IMAGE=\S+$/m); // base images as build args
    expect(dockerfile).toMatch(/^USER 65532:65532$/m); // non-root, numeric: no passwd entry needed in any base image
    expect(dockerfile).not.toContain('<%');
    expect(tree.children('services/svc').some((f) => f.includes('__'))).toBe(false);
  });

  it.each([
    {
      language: 'go',
      patterns: [
        /^FROM --platform=\$BUILDPLATFORM \$\{GO_IMAGE\} AS build$/m,
        /GOARCH="\$TARGETARCH"/,
        /GOARM="\$\{TARGETVARIANT#v\}"/,
        /CGO_ENABLED=0/,
        /^FROM \$\{RUNTIME_IMAGE\}$/m,
      ],
    },
    {
      language: 'rust',
      patterns: [
        /^FROM --platform=\$BUILDPLATFORM \$\{RUST_IMAGE\} AS build$/m,
        // rustup images: the musl target, linked by rust-lld; Debian's rustc: the multiarch glibc std and the cross gcc
        /linux\/arm64\) musl=aarch64-unknown-linux-musl gnu=aarch64-unknown-linux-gnu cc=aarch64-linux-gnu-gcc ;;/,
        /linux\/arm\/v7\) musl=armv7-unknown-linux-musleabihf gnu=armv7-unknown-linux-gnueabihf cc=arm-linux-gnueabihf-gcc ;;/,
        /rustup target add "\$musl" && echo "target=\$musl linker=rust-lld"/,
        /echo "target=\$gnu linker=\$cc"/,
        /-C linker=\$linker -C target-feature=\+crt-static/,
        /cargo build --release --target "\$target"/,
      ],
    },
    {
      language: 'node',
      patterns: [
        /^FROM \$\{NODE_IMAGE\} AS deps$/m,
        /NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false/,
        /npm ci --omit=dev/,
        /mkdir -p node_modules/,
      ],
    },
    {
      language: 'python',
      patterns: [/^FROM \$\{PYTHON_IMAGE\} AS build$/m, /^RUN python3 -m venv \/venv$/m, /COPY --from=build \/venv \/venv/],
    },
    { language: 'static', patterns: [/^ARG BASE_IMAGE=busybox:latest$/m, /^FROM \$\{BASE_IMAGE\}$/m, /uname -m/] },
  ] as const)('$language Dockerfile follows the multi-arch pattern', async ({ language, patterns }) => {
    const tree = await gen({ name: 'svc', language });
    const text = tree.read('services/svc/Dockerfile', 'utf-8')! + (tree.read('services/svc/main.sh', 'utf-8') ?? '');
    for (const p of patterns) expect(text).toMatch(p);
  });

  it('creates the compose file when missing', async () => {
    const tree = await gen({ name: 'api', language: 'go', platforms: 'linux/amd64,linux/arm64,linux/arm/v7' });
    expect(tree.read('compose.yaml', 'utf-8')).toBe(
      [
        'services:',
        '  api:',
        '    image: ${REGISTRY:-localhost:5000}/api:${TAG:-latest}',
        '    build:',
        '      context: ./services/api',
        '      platforms: [ linux/amd64, linux/arm64, linux/arm/v7 ]',
        '    x-nx-buildx:',
        '      verify: [ /app, --self-test ]',
        '',
      ].join('\n'),
    );
  });

  it('adds to an existing compose file keeping comments, anchors and other services', async () => {
    const before = [
      '# The shop project',
      'name: shop',
      '',
      'x-defaults: &defaults',
      '  network: none # no bridge on the build machines',
      '',
      'services:',
      '  # the database',
      '  db:',
      '    image: postgres:16',
      '  web:',
      '    build:',
      '      <<: *defaults',
      '      context: ./web',
      '',
    ].join('\n');
    const tree = await gen({ name: 'worker', baseImage: 'mirror/busybox:1', platforms: 'linux/arm64' }, { 'compose.yaml': before });
    const after = tree.read('compose.yaml', 'utf-8')!;
    expect(after.startsWith(before.trimEnd())).toBe(true);
    expect(after).toContain('# no bridge on the build machines');
    const parsed = parse(after, { merge: true });
    expect(Object.keys(parsed.services)).toEqual(['db', 'web', 'worker']);
    expect(parsed.services.worker).toEqual({
      image: '${REGISTRY:-localhost:5000}/worker:${TAG:-latest}',
      build: { context: './services/worker', args: { BASE_IMAGE: 'mirror/busybox:1' }, platforms: ['linux/arm64'] },
    });
    expect(parsed.services.web.build.network).toBe('none');
  });

  it.each([
    {
      title: 'existing service',
      files: { 'compose.yaml': 'services:\n  api:\n    image: x\n' },
      error: /compose.yaml already has a service named "api"/,
    },
    { title: 'existing Dockerfile', files: { 'services/api/Dockerfile': 'FROM x\n' }, error: /services\/api\/Dockerfile already exists/ },
    { title: 'broken compose YAML', files: { 'compose.yaml': 'services: [\n' }, error: /compose.yaml is not valid YAML/ },
    { title: 'services not a mapping', files: { 'compose.yaml': 'services: [a]\n' }, error: /"services" is not a mapping/ },
  ])('rejects $title and writes nothing', async ({ files, error }) => {
    const tree = createTreeWithEmptyWorkspace();
    for (const [p, c] of Object.entries(files)) tree.write(p, c);
    const changesBefore = tree.listChanges().length;
    await expect(serviceGenerator(tree, { name: 'api', language: 'static', skipFormat: true })).rejects.toThrow(error);
    expect(tree.listChanges().length).toBe(changesBefore);
  });

  it('handles an empty compose file and a null services key', async () => {
    for (const text of ['', '# only a comment\n', 'services:\n']) {
      const tree = await gen({ name: 'api' }, { 'compose.yaml': text });
      expect(Object.keys(parse(tree.read('compose.yaml', 'utf-8')!).services)).toEqual(['api']);
    }
  });

  it('writes the new service in block style under an empty flow map (`services: {}`)', async () => {
    const tree = await gen({ name: 'api' }, { 'compose.yaml': 'name: shop\nservices: {}\n' });
    const text = tree.read('compose.yaml', 'utf-8')!;
    expect(text).toMatch(/^services:\n {2}api:\n {4}image: /m);
    expect(Object.keys(parse(text).services)).toEqual(['api']);
  });

  it('writes the compose file given by --compose and a context relative to it', async () => {
    const tree = await gen({ name: 'api', compose: 'deploy/compose.yaml', directory: 'apps/api' });
    expect(tree.exists('apps/api/Dockerfile')).toBe(true);
    expect(parse(tree.read('deploy/compose.yaml', 'utf-8')!).services.api.build.context).toBe('../apps/api');
  });
});
