/**
 * docker-push of a content-stable build on the `docker` driver: the OCI layout goes to the registry
 * through its API and into the engine's image store by `docker load`, at once, with no republish;
 * when either fails, the republish through the engine's exporter does both.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { beforeEach, describe, expect, test } from 'vitest';
import { MEDIA_TYPES } from '../../../buildx/manifest';
import type { Manifest, RegistryClient } from '../../../run/registry-http';
import { resetBuilderCache } from '../shared/builder';
import { DOCKER_INSPECT, fakeDeps, SHA, tmpContext, type Handler } from '../shared/__fixtures__/fake-deps';
import type { BuildExecutorOptions } from '../shared/options';
import { dockerPush } from './executor';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const options: BuildExecutorOptions = {
  service: 'api',
  context: 'apps/api',
  dockerfile: 'apps/api/Dockerfile',
  platforms: ['linux/amd64', 'linux/arm64'],
  tags: ['127.0.0.1:5000/api:1.0', '127.0.0.1:5000/api:latest'],
  ociLabels: false,
  reuse: false,
  metadataFile: 'dist/docker/api/push-metadata.json',
};

/**
 * What buildx's OCI exporter writes: blobs, a manifest per `--platform` (amd64 and arm64 without
 * one), their list when there are several, and index.json with one entry naming the `-t` tags
 * joined by commas.
 */
function writeLayout(argv: string[], cwd: string): string {
  const dest = join(cwd, /(?:^|,)dest=([^,]+)/.exec(argv[argv.indexOf('--output') + 1]!)![1]!);
  mkdirSync(join(dest, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer) => (writeFileSync(join(dest, 'blobs/sha256', sha(b).slice(7)), b), { digest: sha(b), size: b.length });
  const Labels = Object.fromEntries(argv.flatMap((a, i) => (argv[i - 1] === '--label' ? [a.split(/=(.*)/s).slice(0, 2)] : [])));
  const platforms = argv.includes('--platform') ? argv[argv.indexOf('--platform') + 1]!.split(',') : ['linux/amd64', 'linux/arm64'];
  const entries = platforms.map((platform) => {
    const architecture = platform.split('/')[1]!;
    const config = put(Buffer.from(JSON.stringify({ architecture, os: 'linux', config: { Labels } })));
    const layer = put(Buffer.from(`layer ${architecture}`));
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config, layers: [layer] }));
    return { mediaType: MEDIA_TYPES.dockerManifest, ...put(m), platform: { os: 'linux', architecture } };
  });
  const top =
    entries.length === 1
      ? entries[0]!
      : {
          mediaType: MEDIA_TYPES.dockerList,
          ...put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerList, manifests: entries }))),
        };
  const names = argv.flatMap((a, i) => (argv[i - 1] === '-t' ? [a] : []));
  const entry = { ...top, ...(names.length ? { annotations: { 'org.opencontainers.image.ref.name': names.join(',') } } : {}) };
  writeFileSync(join(dest, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
  return top.digest;
}

/** A registry in memory that takes uploads, serving BASE; `reads` lists every manifest read. */
function memoryRegistry() {
  const manifests = new Map<string, Manifest>();
  const blobs = new Map<string, Buffer>();
  const reads: string[] = [];
  const repo = (ref: string) => ref.replace(/[@:][^/@:]*$/, '');
  const store = (ref: string, m: Pick<Manifest, 'bytes' | 'mediaType'>) => {
    const digest = sha(m.bytes);
    manifests.set(ref, { ...m, digest });
    manifests.set(`${repo(ref)}@${digest}`, { ...m, digest });
    return digest;
  };
  store(BASE, { bytes: Buffer.from('{"schemaVersion":2}'), mediaType: MEDIA_TYPES.ociManifest });
  const client: RegistryClient = {
    getManifest: async (ref) => (reads.push(ref), manifests.get(ref)),
    getBlob: async (_ref, digest) => blobs.get(digest) ?? Buffer.from('{}'),
    putManifest: async (ref, m) => store(ref, m),
    hasBlob: async (_ref, digest) => blobs.has(digest),
    putBlob: async (_ref, digest, _size, open: () => Readable) => {
      const chunks: Buffer[] = [];
      for await (const c of open()) chunks.push(c as Buffer);
      blobs.set(digest, Buffer.concat(chunks));
    },
    withTimeout: () => client,
  };
  return { client, manifests, reads, store };
}

const BASE = '127.0.0.1:5000/base:1';

/** buildx's engine: its builder, its OCI exporter, and (given the registry) `imagetools create` of one manifest, which it wraps in a list. */
function engine(layoutDigest: { value?: string }, registry?: ReturnType<typeof memoryRegistry>): Handler {
  return (argv, o) => {
    if (argv[2] === 'inspect') return { stdout: DOCKER_INSPECT };
    if (registry && argv[2] === 'imagetools' && argv[3] === 'create') {
      const m = registry.manifests.get(argv.at(-1)!)!;
      const entry = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, platform: { os: 'linux', architecture: 'amd64' } };
      const list = {
        bytes: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerList, manifests: [entry] })),
        mediaType: MEDIA_TYPES.dockerList,
      };
      for (const t of argv.flatMap((a, i) => (argv[i - 1] === '-t' ? [a] : []))) registry.store(t, list);
      return {};
    }
    if (argv[2] === 'build' && argv.some((a) => a.startsWith('type=oci,'))) {
      layoutDigest.value = writeLayout(argv, o.cwd);
      return {};
    }
    return undefined;
  };
}

const gitFacts = async () => ({ sha: SHA, defaultBranch: 'main', commitTime: '2024-04-30T10:00:00Z' });

beforeEach(() => resetBuilderCache());

describe('docker-push on the docker driver, content-stable', () => {
  test('one build: the layout is pushed through the registry API and loaded into the engine, no republish', async () => {
    const ctx = tmpContext();
    const reg = memoryRegistry();
    const layout = { value: undefined as string | undefined };
    const loaded: Array<readonly string[] | undefined> = [];
    const { deps, calls, logs } = fakeDeps(engine(layout), {
      gitFacts,
      registry: reg.client,
      loadOciLayout: async (_path, names) => {
        loaded.push(names);
        return undefined;
      },
    });
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: true });
    const builds = calls.filter((c) => c.argv[2] === 'build');
    expect(builds).toHaveLength(1);
    expect(builds[0]!.argv).not.toContain('--push');
    // The layout is loaded under every tag, so docker load tags the image in the engine's store.
    expect(loaded).toEqual([options.tags]);
    for (const t of options.tags!) expect(reg.manifests.get(t)?.digest).toBe(layout.value);
    const record = JSON.parse(readFileSync(join(ctx.root, options.metadataFile!), 'utf8'));
    expect(record).toMatchObject({ manifestDigest: layout.value, pushed: true });
    expect(logs.join('\n')).toContain(
      "[api] docker load < dist/docker/api/.oci-run1-push-metadata (as a tar, for this engine's image store)",
    );
  });

  test('a docker load the engine refuses: the republish through the exporter pushes and stores it', async () => {
    const ctx = tmpContext();
    const reg = memoryRegistry();
    const layout = { value: undefined as string | undefined };
    const republished = (argv: string[], o: { cwd: string }) => {
      if (argv[2] !== 'build' || !argv.includes('--push')) return undefined;
      writeFileSync(join(o.cwd, argv[argv.indexOf('--metadata-file') + 1]!), JSON.stringify({ 'containerimage.digest': layout.value }));
      return {};
    };
    const base = engine(layout);
    const { deps, calls, logs } = fakeDeps((argv, o) => republished(argv, o) ?? base(argv, o), {
      gitFacts,
      registry: reg.client,
      loadOciLayout: async () => 'docker load failed (exit 1): unsupported',
    });
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: true });
    const builds = calls.filter((c) => c.argv[2] === 'build').map((c) => c.argv);
    expect(builds).toHaveLength(2);
    expect(builds[1]).toContain('--push');
    expect(logs.join('\n')).toContain('[api] docker load failed (exit 1): unsupported; pushing it with buildx instead');
  });
});

describe('docker-push with the registry cache, a miss on the docker driver', () => {
  const workspace = () => {
    const ctx = tmpContext();
    mkdirSync(join(ctx.root, 'apps/api'), { recursive: true });
    writeFileSync(join(ctx.root, 'apps/api/Dockerfile'), `FROM ${BASE}\nCOPY app.txt /app.txt\n`);
    writeFileSync(join(ctx.root, 'apps/api/app.txt'), 'v1\n');
    return ctx;
  };
  const keyTagOf = (names: readonly string[] | undefined) => names?.find((n) => /:nxcb-[0-9a-f]{32}$/.test(n));

  test.each<[string, string[], (own: string[], key: string) => string[]]>([
    ['several platforms: built and loaded under its tags and the key tag', ['linux/amd64', 'linux/arm64'], (own, key) => [...own, key]],
    // Published from the key tag afterwards (registry-reuse), so built under it alone; the engine's
    // store still gets the service's own tags, or `docker run` and a dependent's FROM of them miss it.
    ['one platform: built under the key tag alone, loaded under its own tags too', ['linux/amd64'], (own, key) => [key, ...own]],
  ])('%s; it builds on the base the key names (--pull)', async (_, platforms, loadedAs) => {
    const ctx = workspace();
    const reg = memoryRegistry();
    const layout = { value: undefined as string | undefined };
    const loaded: Array<readonly string[] | undefined> = [];
    const { deps, calls } = fakeDeps(engine(layout, reg), {
      gitFacts,
      registry: reg.client,
      loadOciLayout: async (_path, names) => (loaded.push(names), undefined),
    });
    expect(await dockerPush({ ...options, platforms, reuse: true }, ctx, deps)).toEqual({ success: true });
    const build = calls.find((c) => c.argv[2] === 'build')!.argv;
    expect(build).toContain('--pull');
    const key = keyTagOf(loaded[0])!;
    expect(key).toBeDefined();
    expect(loaded).toEqual([loadedAs(options.tags!, key)]);
    for (const t of options.tags!) expect(reg.manifests.has(t)).toBe(true);
  });

  test('without the registry cache, or in a docker-build, the engine resolves FROM as compose does (no --pull)', async () => {
    const ctx = workspace();
    const layout = { value: undefined as string | undefined };
    const off = fakeDeps(engine(layout), { gitFacts, registry: memoryRegistry().client, loadOciLayout: async () => undefined });
    expect(await dockerPush({ ...options, reuse: false }, ctx, off.deps)).toEqual({ success: true });
    expect(off.calls.find((c) => c.argv[2] === 'build')!.argv).not.toContain('--pull');
  });
});

describe('docker-push reusing an image through the registry API', () => {
  test('a fresh runner: the key tag hit is put under the tags with the bytes the lookup read, nothing read back; sizes recorded', async () => {
    const ctx = tmpContext();
    mkdirSync(join(ctx.root, 'apps/api'), { recursive: true });
    writeFileSync(join(ctx.root, 'apps/api/Dockerfile'), `FROM ${BASE}\nCOPY app.txt /app.txt\n`);
    writeFileSync(join(ctx.root, 'apps/api/app.txt'), 'v1\n');
    const reg = memoryRegistry();
    const layout = { value: undefined as string | undefined };
    const first = fakeDeps(engine(layout), { gitFacts, registry: reg.client });
    expect(await dockerPush({ ...options, reuse: true }, ctx, first.deps)).toEqual({ success: true });
    expect(first.calls.filter((c) => c.argv[2] === 'build')).toHaveLength(1);

    resetBuilderCache();
    reg.reads.length = 0;
    const again = fakeDeps(engine(layout), { gitFacts, registry: reg.client });
    expect(await dockerPush({ ...options, reuse: true }, ctx, again.deps)).toEqual({ success: true });
    expect(again.calls.filter((c) => c.argv[2] === 'build')).toEqual([]);
    expect(again.logs.join('\n')).toContain('registry cache hit');
    // Read: the base, the key tag, its two platform manifests. Not the index again, not the tags after the PUT.
    expect(reg.reads.filter((r) => options.tags!.includes(r))).toEqual([]);
    expect(reg.reads.filter((r) => r.includes(`@${layout.value}`))).toEqual([]);
    const record = JSON.parse(readFileSync(join(ctx.root, options.metadataFile!), 'utf8'));
    expect(record).toMatchObject({ manifestDigest: layout.value, pushed: true, reused: true });
    for (const p of ['linux/amd64', 'linux/arm64'])
      expect(record.platforms[p]).toEqual({ digest: expect.stringMatching(/^sha256:/), bytes: 11 });
  });
});
