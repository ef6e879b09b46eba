import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { resetBuilderCache } from '../shared/builder';
import { DOCKER_INSPECT, fakeDeps, tmpContext, type Handler } from '../shared/__fixtures__/fake-deps';
import type { BuildExecutorOptions } from '../shared/options';
import { SINGLE_MANIFEST_FORMAT } from '../shared/registry';
import { dockerPush } from './executor';

const d = (c: string) => `sha256:${c.repeat(64)}`;

const options: BuildExecutorOptions = {
  service: 'api',
  context: 'apps/api',
  dockerfile: 'apps/api/Dockerfile',
  platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
  tags: ['127.0.0.1:5000/api:1.0', '127.0.0.1:5000/api:latest'],
  ociLabels: false,
  metadataFile: 'dist/docker/api/push-metadata.json',
};

function index(platforms: Array<[string, string, string?]>): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: platforms.map(([architecture, digest, variant]) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: 1,
      platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
    })),
  });
}

const FULL = index([
  ['amd64', d('a')],
  ['arm64', d('b')],
  ['arm', d('c'), 'v7'],
]);
/** What a registry computes for a manifest it stores: the digest of its bytes. */
const digestOf = (raw: string) => `sha256:${createHash('sha256').update(raw).digest('hex')}`;

/** A registry serving `raw` per tag; the build reports `pushed` as its digest (buildx metadata), `null` for none. */
function registry(raw: Record<string, string | (() => string)>, extra?: Handler, pushed: string | null = digestOf(FULL)): Handler {
  return (argv, opts) => {
    const more = extra?.(argv, opts);
    if (more) return more;
    if (argv[2] === 'inspect') return { stdout: DOCKER_INSPECT };
    if (argv[2] === 'build') {
      const i = argv.indexOf('--metadata-file');
      writeFileSync(join(opts.cwd, argv[i + 1]!), JSON.stringify(pushed ? { 'containerimage.digest': pushed } : {}));
      return {};
    }
    if (argv[2] === 'imagetools' && argv.includes('--raw')) {
      const v = raw[argv.at(-1)!];
      return v === undefined ? { exitCode: 1, stderr: 'ERROR: not found' } : { stdout: typeof v === 'function' ? v() : v };
    }
    return undefined;
  };
}

beforeEach(() => resetBuilderCache());

describe('docker-push executor', () => {
  test('pushes one manifest list, confirms every tag, writes digests', async () => {
    const ctx = tmpContext();
    const { deps, commands } = fakeDeps(registry({ '127.0.0.1:5000/api:1.0': FULL, '127.0.0.1:5000/api:latest': FULL }));
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: true });
    expect(commands()).toEqual([
      'docker buildx inspect --bootstrap',
      'docker buildx build --progress=plain --platform linux/amd64,linux/arm64,linux/arm/v7 -f apps/api/Dockerfile ' +
        '-t 127.0.0.1:5000/api:1.0 -t 127.0.0.1:5000/api:latest --provenance=false --sbom=false ' +
        '--metadata-file dist/docker/api/.buildx-run1-push-metadata.json --push apps/api',
      'docker buildx imagetools inspect --raw 127.0.0.1:5000/api:1.0',
      'docker buildx imagetools inspect --raw 127.0.0.1:5000/api:latest',
    ]);
    expect(JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/push-metadata.json'), 'utf8'))).toEqual({
      service: 'api',
      tags: ['127.0.0.1:5000/api:1.0', '127.0.0.1:5000/api:latest'],
      platforms: { 'linux/amd64': { digest: d('a') }, 'linux/arm64': { digest: d('b') }, 'linux/arm/v7': { digest: d('c') } },
      manifestDigest: digestOf(FULL),
      pushed: true,
      loaded: false,
    });
  });

  test.each([
    ['a transient server error is pushed again and then succeeds', 2, true, 3],
    ['a server error that persists fails after three attempts', 5, false, 3],
  ])('%s', async (_, failures, success, attempts) => {
    let left = failures;
    const flaky: Handler = (argv) =>
      argv[2] === 'build' && left-- > 0
        ? {
            exitCode: 1,
            stderr: 'ERROR: unexpected status from HEAD request to http://127.0.0.1:5000/v2/api/manifests/1.0: 500 Internal Server Error',
          }
        : undefined;
    const { deps, commands } = fakeDeps(registry({ '127.0.0.1:5000/api:1.0': FULL, '127.0.0.1:5000/api:latest': FULL }, flaky));
    expect(await dockerPush(options, tmpContext(), deps)).toEqual({ success });
    expect(commands().filter((c) => c.startsWith('docker buildx build')).length).toBe(attempts);
  });

  test('on a terminal too (output streamed, not prefixed), a transient server error is pushed again', async () => {
    let left = 1;
    const flaky: Handler = (argv, opts) =>
      argv[2] === 'build' && left-- > 0
        ? { exitCode: 1, stderr: `#12 ERROR: failed to push: ${opts.prefix ?? ''}503 Service Unavailable` }
        : undefined;
    const { deps, calls } = fakeDeps(registry({ '127.0.0.1:5000/api:1.0': FULL, '127.0.0.1:5000/api:latest': FULL }, flaky), {
      isTTY: true,
    });
    expect(await dockerPush(options, tmpContext(), deps)).toEqual({ success: true });
    const builds = calls.filter((c) => c.argv[2] === 'build');
    expect(builds).toHaveLength(2);
    expect(builds[0]!.options.prefix).toBeUndefined(); // the terminal case
    expect(builds[0]!.argv).toContain('--progress=auto');
  });

  test('a refused connection is not retried', async () => {
    const refused: Handler = (argv) =>
      argv[2] === 'build' ? { exitCode: 1, stderr: 'dial tcp 127.0.0.1:5000: connect: connection refused' } : undefined;
    const { deps, commands } = fakeDeps(registry({}, refused));
    expect(await dockerPush(options, tmpContext(), deps)).toEqual({ success: false });
    expect(commands().filter((c) => c.startsWith('docker buildx build')).length).toBe(1);
  });

  test('a platform missing from the registry fails (after retries) and names it', async () => {
    const ctx = tmpContext();
    const partial = index([['amd64', d('a')]]);
    const { deps, logs, commands } = fakeDeps(
      registry({ '127.0.0.1:5000/api:1.0': partial, '127.0.0.1:5000/api:latest': FULL }, undefined, null),
    );
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: false });
    expect(commands().filter((c) => c.endsWith('api:1.0') && c.includes('imagetools'))).toHaveLength(3);
    expect(logs).toContain('[api]   127.0.0.1:5000/api:1.0: registry lacks linux/arm64, linux/arm/v7 (has linux/amd64)');
  });

  test('a late registry passes on retry', async () => {
    let n = 0;
    const { deps } = fakeDeps(
      registry({ '127.0.0.1:5000/api:1.0': () => (n++ === 0 ? index([['amd64', d('a')]]) : FULL), '127.0.0.1:5000/api:latest': FULL }),
    );
    expect(await dockerPush(options, tmpContext(), deps)).toEqual({ success: true });
  });

  test('tags serving different content fail (buildx reported no digest)', async () => {
    const other = index([
      ['amd64', d('e')],
      ['arm64', d('b')],
      ['arm', d('c'), 'v7'],
    ]);
    const { deps, logs } = fakeDeps(registry({ '127.0.0.1:5000/api:1.0': FULL, '127.0.0.1:5000/api:latest': other }, undefined, null));
    expect(await dockerPush(options, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.at(-1)).toContain('127.0.0.1:5000/api:latest: serves different content than 127.0.0.1:5000/api:1.0');
  });

  test('a tag another push replaced meanwhile is reported, not counted as success, and writes no metadata', async () => {
    const ctx = tmpContext();
    // Same platforms, other content: what a concurrent push of the same tag from another checkout leaves.
    const theirs = index([
      ['amd64', d('e')],
      ['arm64', d('f')],
      ['arm', d('0'), 'v7'],
    ]);
    const { deps, logs } = fakeDeps(registry({ '127.0.0.1:5000/api:1.0': theirs, '127.0.0.1:5000/api:latest': FULL }));
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: false });
    expect(logs.at(-1)).toContain(
      `127.0.0.1:5000/api:1.0: the registry serves ${digestOf(theirs)}, not ${digestOf(FULL)} that this run pushed: another push of the same tag replaced it`,
    );
    expect(logs.some((l) => l.startsWith('[api] pushed:'))).toBe(false);
    expect(existsSync(join(ctx.root, 'dist/docker/api/push-metadata.json'))).toBe(false);
  });

  test('single-platform push: one manifest, platform read from its config', async () => {
    const ctx = tmpContext();
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { digest: d('f') },
      layers: [],
    });
    const { deps, commands } = fakeDeps(
      registry(
        { 'r/api:1': manifest },
        (argv) =>
          argv.includes('--format')
            ? { stdout: JSON.stringify({ manifest: { digest: d('1') }, image: { architecture: 'arm64', os: 'linux', variant: 'v8' } }) }
            : undefined,
        d('1'),
      ),
    );
    expect(await dockerPush({ ...options, platforms: ['linux/arm64'], tags: ['r/api:1'] }, ctx, deps)).toEqual({ success: true });
    expect(commands()).toContain(`docker buildx imagetools inspect --format ${SINGLE_MANIFEST_FORMAT} r/api:1`);
    const meta = JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/push-metadata.json'), 'utf8'));
    expect(meta.platforms).toEqual({ 'linux/arm64': { digest: d('1') } });
  });

  describe('manifestList: a single-platform image as a one-entry manifest list', () => {
    const single = { ...options, platforms: ['linux/arm64'], tags: ['r/api:1', 'r/api:latest'], reuse: false, manifestList: true };
    const oneEntry = index([['arm64', d('1')]]);
    /** The registry before `imagetools create` serves the plain manifest under the first tag, after it the list under every tag. */
    function listing(created: { argv?: string[] }, listed = oneEntry): Handler {
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { digest: d('f') },
      });
      return registry(
        {
          'r/api:1': () => (created.argv ? listed : manifest),
          'r/api:latest': () => (created.argv ? listed : ''),
        },
        (argv) => {
          if (argv[2] === 'imagetools' && argv[3] === 'create') return ((created.argv = argv), {});
          return argv.includes('--format')
            ? { stdout: JSON.stringify({ manifest: { digest: d('1') }, image: { architecture: 'arm64', os: 'linux' } }) }
            : undefined;
        },
        d('1'),
      );
    }

    test('reuse off: pushed under the first tag, then listed under every tag by digest, and confirmed as a list', async () => {
      const ctx = tmpContext();
      const created: { argv?: string[] } = {};
      const { deps, commands } = fakeDeps(listing(created));
      expect(await dockerPush(single, ctx, deps)).toEqual({ success: true });
      expect(commands()).toEqual([
        'docker buildx inspect --bootstrap',
        'docker buildx build --progress=plain --platform linux/arm64 -f apps/api/Dockerfile -t r/api:1 --provenance=false --sbom=false ' +
          '--metadata-file dist/docker/api/.buildx-run1-push-metadata.json --push apps/api',
        `docker buildx imagetools create -t r/api:1 -t r/api:latest r/api@${d('1')}`,
        'docker buildx imagetools inspect --raw r/api:1',
        'docker buildx imagetools inspect --raw r/api:latest',
      ]);
      expect(JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/push-metadata.json'), 'utf8'))).toMatchObject({
        tags: ['r/api:1', 'r/api:latest'],
        platforms: { 'linux/arm64': { digest: d('1') } },
        manifestDigest: digestOf(oneEntry),
        pushed: true,
      });
    });

    test('a tag that still serves one manifest is not a list: the push is not confirmed', async () => {
      const ctx = tmpContext();
      const plain = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { digest: d('f') },
      });
      const { deps, logs } = fakeDeps(listing({}, plain));
      expect(await dockerPush(single, ctx, deps)).toEqual({ success: false });
      expect(logs.join('\n')).toContain('r/api:1: the registry serves a single manifest, not the manifest list asked for (manifestList)');
      expect(existsSync(join(ctx.root, 'dist/docker/api/push-metadata.json'))).toBe(false);
    });

    test('a list whose entry is not the image this run pushed is not confirmed', async () => {
      const { deps, logs } = fakeDeps(listing({}, index([['arm64', d('9')]])));
      expect(await dockerPush(single, tmpContext(), deps)).toEqual({ success: false });
      expect(logs.join('\n')).toContain('push not confirmed: linux/arm64 changed while tagging');
    });

    test('several platforms: a list already, pushed as always', async () => {
      const { deps, commands } = fakeDeps(registry({ '127.0.0.1:5000/api:1.0': FULL, '127.0.0.1:5000/api:latest': FULL }));
      expect(await dockerPush({ ...options, reuse: false, manifestList: true }, tmpContext(), deps)).toEqual({ success: true });
      expect(commands().some((c) => c.includes('imagetools create'))).toBe(false);
      expect(commands()[1]).toContain('-t 127.0.0.1:5000/api:1.0 -t 127.0.0.1:5000/api:latest');
    });

    test('the dry run prints the push under the first tag and the listing', async () => {
      const { deps, calls, logs } = fakeDeps(() => {
        throw new Error('nothing may run');
      });
      expect(await dockerPush({ ...single, dryRun: true }, tmpContext(), deps)).toEqual({ success: true });
      expect(calls).toEqual([]);
      expect(logs.filter((l) => l.startsWith('[dry-run]'))).toEqual([
        '[dry-run] docker buildx inspect --bootstrap',
        '[dry-run] docker buildx build --progress=plain --platform linux/arm64 -f apps/api/Dockerfile -t r/api:1 --provenance=false --sbom=false ' +
          '--metadata-file dist/docker/api/.buildx-run1-push-metadata.json --push apps/api',
        "[dry-run] docker buildx imagetools create -t r/api:1 -t r/api:latest 'r/api@<digest buildx reports>'  (a one-entry manifest list)",
        '[dry-run] docker buildx imagetools inspect --raw r/api:1',
        '[dry-run] docker buildx imagetools inspect --raw r/api:latest',
      ]);
    });
  });

  test('push without tags is refused', async () => {
    const { deps, calls, logs } = fakeDeps(() => undefined);
    expect(await dockerPush({ ...options, tags: [] }, tmpContext(), deps)).toEqual({ success: false });
    expect(calls).toEqual([]);
    expect(logs.at(-1)).toMatch(/needs at least one tag/);
  });

  test('dry run prints build and the registry checks, runs nothing', async () => {
    const { deps, calls, logs } = fakeDeps(() => {
      throw new Error('nothing may run');
    });
    expect(await dockerPush({ ...options, dryRun: true }, tmpContext(), deps)).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(logs.filter((l) => l.startsWith('[dry-run]'))).toEqual([
      '[dry-run] docker buildx inspect --bootstrap',
      `[dry-run] docker buildx imagetools inspect --format '{"manifest":{{json .Manifest}},"image":{{json .Image}}}' '127.0.0.1:5000/api:nxcb-<content key>'`,
      '[dry-run] docker buildx build --progress=plain --platform linux/amd64,linux/arm64,linux/arm/v7 -f apps/api/Dockerfile ' +
        '-t 127.0.0.1:5000/api:1.0 -t 127.0.0.1:5000/api:latest --provenance=false --sbom=false ' +
        '--metadata-file dist/docker/api/.buildx-run1-push-metadata.json --push apps/api',
      '[dry-run] docker buildx imagetools inspect --raw 127.0.0.1:5000/api:1.0',
      '[dry-run] docker buildx imagetools inspect --raw 127.0.0.1:5000/api:latest',
    ]);
  });
});
