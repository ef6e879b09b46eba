import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { imagetoolsCreateArgv } from '../../../buildx/argv';
import { resetBuilderCache } from '../shared/builder';
import { DOCKER_INSPECT, fakeDeps, tmpContext, type Handler } from '../shared/__fixtures__/fake-deps';
import { SINGLE_MANIFEST_FORMAT } from '../shared/registry';
import { dockerManifest } from './executor';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const REG = '127.0.0.1:5000/e2e/api';

const single = (digest: string, architecture: string) => ({
  raw: JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { digest: d('f') },
    layers: [],
  }),
  formatted: JSON.stringify({ manifest: { digest }, image: { os: 'linux', architecture } }),
});

const index = (entries: Array<[string, string]>) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: entries.map(([architecture, digest]) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: 1,
      platform: { os: 'linux', architecture },
    })),
  });

function registry(images: Record<string, { raw: string; formatted?: string }>, onCreate?: () => void): Handler {
  return (argv) => {
    if (argv[2] === 'inspect') return { stdout: DOCKER_INSPECT };
    if (argv[2] === 'imagetools' && argv[3] === 'create') {
      onCreate?.();
      return {};
    }
    if (argv[2] === 'imagetools') {
      const image = images[argv.at(-1)!];
      if (!image) return { exitCode: 1, stderr: 'ERROR: not found' };
      return { stdout: argv.includes(SINGLE_MANIFEST_FORMAT) ? image.formatted : image.raw };
    }
    return undefined;
  };
}

const options = {
  service: 'api',
  tags: [`${REG}:1.0`, `${REG}:latest`],
  platformImages: { 'linux/amd64': `${REG}:1.0-amd64`, 'linux/arm64': `${REG}:1.0-arm64` },
  metadataFile: 'dist/docker/api/push-metadata.json',
};

beforeEach(() => resetBuilderCache());

describe('imagetools create argv', () => {
  it.each([
    { tags: ['r/a:1'], sources: ['r/a@sha256:1'], builder: undefined, expected: 'docker buildx imagetools create -t r/a:1 r/a@sha256:1' },
    {
      tags: ['r/a:1', 'r/a:latest'],
      sources: ['r/a@sha256:1', 'r/a@sha256:2'],
      builder: 'multi',
      expected: 'docker buildx imagetools create --builder multi -t r/a:1 -t r/a:latest r/a@sha256:1 r/a@sha256:2',
    },
  ])('$expected', ({ tags, sources, builder, expected }) => {
    expect(imagetoolsCreateArgv(tags, sources, builder ? { builder } : {}).join(' ')).toBe(expected);
  });
});

describe('docker-manifest executor', () => {
  it('assembles from the platform digests, confirms every tag, writes metadata', async () => {
    const ctx = tmpContext();
    const list = index([
      ['amd64', d('a')],
      ['arm64', d('b')],
    ]);
    const images: Record<string, { raw: string; formatted?: string }> = {
      [`${REG}:1.0-amd64`]: single(d('a'), 'amd64'),
      [`${REG}:1.0-arm64`]: single(d('b'), 'arm64'),
    };
    // The list tags exist only once imagetools create has run.
    const { deps, commands } = fakeDeps(
      registry(images, () => Object.assign(images, { [`${REG}:1.0`]: { raw: list }, [`${REG}:latest`]: { raw: list } })),
    );
    expect(await dockerManifest(options, ctx, deps)).toMatchObject({ success: true });
    expect(commands()).toContain(`docker buildx imagetools create -t ${REG}:1.0 -t ${REG}:latest ${REG}@${d('a')} ${REG}@${d('b')}`);
    expect(JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/push-metadata.json'), 'utf8'))).toEqual({
      service: 'api',
      tags: options.tags,
      platforms: { 'linux/amd64': { digest: d('a') }, 'linux/arm64': { digest: d('b') } },
      // the list's digest, as the registry computes it: the hash of its bytes
      manifestDigest: `sha256:${createHash('sha256').update(list).digest('hex')}`,
      pushed: true,
      loaded: false,
    });
  });

  it('adds run-time generated tags to the manifest list, not to the platform images', async () => {
    const list = index([
      ['amd64', d('a')],
      ['arm64', d('b')],
    ]);
    const images: Record<string, { raw: string; formatted?: string }> = {
      [`${REG}:1.0-amd64`]: single(d('a'), 'amd64'),
      [`${REG}:1.0-arm64`]: single(d('b'), 'arm64'),
    };
    const listed = () =>
      Object.assign(images, { [`${REG}:1.0`]: { raw: list }, [`${REG}:latest`]: { raw: list }, [`${REG}:edge`]: { raw: list } });
    const { deps, commands } = fakeDeps(registry(images, listed));
    const r = await dockerManifest({ ...options, generatedTags: [{ type: 'raw', value: 'edge' }] }, tmpContext(), deps);
    expect(r).toMatchObject({ success: true, metadata: { tags: [`${REG}:1.0`, `${REG}:latest`, `${REG}:edge`] } });
    expect(commands()).toContain(
      `docker buildx imagetools create -t ${REG}:1.0 -t ${REG}:latest -t ${REG}:edge ${REG}@${d('a')} ${REG}@${d('b')}`,
    );
  });

  it.each([
    {
      name: 'a platform image is missing',
      images: { [`${REG}:1.0-amd64`]: single(d('a'), 'amd64') },
      message: /Cannot read 127\.0\.0\.1:5000\/e2e\/api:1\.0-arm64/,
    },
    {
      name: 'the list points elsewhere',
      images: {
        [`${REG}:1.0-amd64`]: single(d('a'), 'amd64'),
        [`${REG}:1.0-arm64`]: single(d('b'), 'arm64'),
        [`${REG}:1.0`]: {
          raw: index([
            ['amd64', d('a')],
            ['arm64', d('c')],
          ]),
        },
        [`${REG}:latest`]: {
          raw: index([
            ['amd64', d('a')],
            ['arm64', d('c')],
          ]),
        },
      },
      message: /does not point at the pushed images for linux\/arm64/,
    },
  ])('fails when $name', async ({ images, message }) => {
    const { deps, logs } = fakeDeps(registry(images));
    expect(await dockerManifest(options, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.join('\n')).toMatch(message);
  });

  it('on a platform-restricted run (a native runner) assembles nothing: docker-merge does', async () => {
    const { deps, calls, logs } = fakeDeps(registry({}), { env: { NX_COMPOSE_BUILDX_PLATFORMS: 'linux/arm64' } });
    expect(await dockerManifest(options, tmpContext(), deps)).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(logs.join('\n')).toMatch(/restricted to linux\/arm64 pushes platform images only; docker-merge assembles the manifest list/);
  });

  it('dry run prints the commands and runs none: no builder inspect, no registry read', async () => {
    const { deps, logs, calls } = fakeDeps(() => {
      throw new Error('nothing may run');
    });
    expect(await dockerManifest({ ...options, dryRun: true }, tmpContext(), deps)).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(logs.filter((l) => l.startsWith('[dry-run]'))).toEqual([
      '[dry-run] docker buildx inspect --bootstrap',
      ...Object.values(options.platformImages).map((ref) => `[dry-run] docker buildx imagetools inspect --raw ${ref}`),
      expect.stringMatching(/^\[dry-run\] docker buildx imagetools create -t .*:1\.0 -t .*:latest .*@'?<digest of /),
    ]);
  });

  it('dry run after a real run in the same process (a batch) still runs nothing', async () => {
    const real = fakeDeps(registry({}));
    await dockerManifest(options, tmpContext(), real.deps); // inspects the builder (and fails later: an empty registry)
    expect(real.commands()).toContain('docker buildx inspect --bootstrap');
    const { deps, calls } = fakeDeps(() => {
      throw new Error('nothing may run');
    });
    expect(await dockerManifest({ ...options, dryRun: true }, tmpContext(), deps)).toEqual({ success: true });
    expect(calls).toEqual([]);
  });
});
