import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { writeDigestRecord, type DigestRecord } from '../../native-leg';
import { resetBuilderCache } from '../shared/builder';
import { DOCKER_INSPECT, fakeDeps, tmpContext, type Handler } from '../shared/__fixtures__/fake-deps';
import { dockerMerge } from './executor';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const REPO = '127.0.0.1:5000/e2e/api';

const options = {
  service: 'api',
  tags: [`${REPO}:1.0`, `${REPO}:latest`],
  platforms: ['linux/amd64', 'linux/arm64'],
  metadataFile: 'dist/docker/api/push-metadata.json',
};

const record = (platform: string, digest: string, reused = false): DigestRecord => ({
  project: 'api',
  service: 'api',
  platform,
  repository: REPO,
  digest,
  reused,
  tags: options.tags,
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

/** A registry whose tags serve, once `imagetools create` ran, the list it was asked for. */
function registry(): Handler {
  let list: string | undefined;
  return (argv) => {
    if (argv[2] === 'inspect') return { stdout: DOCKER_INSPECT };
    if (argv[2] === 'imagetools' && argv[3] === 'create') {
      const sources = argv.filter((a) => a.includes('@'));
      list = index(sources.map((s, i) => [i === 0 ? 'amd64' : 'arm64', s.split('@')[1]!]));
      return {};
    }
    if (argv[2] === 'imagetools' && argv[3] === 'inspect') return list ? { stdout: list } : { exitCode: 1, stderr: 'ERROR: not found' };
    return undefined;
  };
}

beforeEach(() => resetBuilderCache());

describe('docker-merge', () => {
  it('assembles the list from the digest files under every tag, confirms it, and writes the push record', async () => {
    const ctx = tmpContext();
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/amd64', d('a')));
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/arm64', d('b'), true));
    const { deps, commands, logs } = fakeDeps(registry());
    const r = await dockerMerge(options, ctx, deps);
    expect(r.success).toBe(true);
    expect(commands()).toContain(`docker buildx imagetools create -t ${REPO}:1.0 -t ${REPO}:latest ${REPO}@${d('a')} ${REPO}@${d('b')}`);
    expect(logs.join('\n')).toContain(`linux/arm64 ${d('b').slice(0, 19)} (reused)`);
    const list = index([
      ['amd64', d('a')],
      ['arm64', d('b')],
    ]);
    expect(JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/push-metadata.json'), 'utf8'))).toEqual({
      service: 'api',
      tags: options.tags,
      platforms: { 'linux/amd64': { digest: d('a') }, 'linux/arm64': { digest: d('b') } },
      manifestDigest: `sha256:${createHash('sha256').update(list).digest('hex')}`,
      pushed: true,
      loaded: false,
    });
  });

  it('reads the folder from NX_COMPOSE_BUILDX_DIGESTS_DIR, and the option over it', async () => {
    for (const [dir, env, opt] of [
      ['ci/digests', { NX_COMPOSE_BUILDX_DIGESTS_DIR: 'ci/digests' }, undefined],
      ['opt/digests', { NX_COMPOSE_BUILDX_DIGESTS_DIR: 'ci/digests' }, 'opt/digests'],
    ] as const) {
      const ctx = tmpContext();
      writeDigestRecord(ctx.root, dir, record('linux/amd64', d('a')));
      writeDigestRecord(ctx.root, dir, record('linux/arm64', d('b')));
      const { deps } = fakeDeps(registry(), { env });
      expect((await dockerMerge({ ...options, ...(opt ? { digestsDir: opt } : {}) }, ctx, deps)).success).toBe(true);
    }
  });

  it.each([
    {
      name: 'one platform has no digest file',
      files: [record('linux/amd64', d('a'))],
      message: /no digest for linux\/arm64 \(declared linux\/amd64, linux\/arm64; found linux\/amd64 in dist\/nxcb-digests\/api\/\)/,
    },
    {
      name: 'no digest file at all',
      files: [],
      message: /no digest files for api in dist\/nxcb-digests\/api\/\. Each runner runs docker-push with NX_COMPOSE_BUILDX_PLATFORMS/,
    },
    {
      name: 'a digest file is broken',
      files: [record('linux/amd64', d('a')), 'broken'],
      message: /unreadable digest files:\n.*dist\/nxcb-digests\/api\/linux-arm64\.json: not JSON/,
    },
  ])('fails when $name, naming it, and creates nothing', async ({ files, message }) => {
    const ctx = tmpContext();
    for (const f of files) {
      if (typeof f === 'string') {
        mkdirSync(join(ctx.root, 'dist/nxcb-digests/api'), { recursive: true });
        writeFileSync(join(ctx.root, 'dist/nxcb-digests/api/linux-arm64.json'), '{');
      } else writeDigestRecord(ctx.root, 'dist/nxcb-digests', f);
    }
    const { deps, calls, logs } = fakeDeps(registry());
    expect(await dockerMerge(options, ctx, deps)).toEqual({ success: false });
    expect(calls).toEqual([]);
    expect(logs.join('\n')).toMatch(message);
  });

  it('a service that declares no platforms cannot be merged, and says why', async () => {
    const { deps, logs } = fakeDeps(registry());
    expect(await dockerMerge({ ...options, platforms: [] }, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.join('\n')).toMatch(/declares no platforms/);
  });

  it('ignores, and names, a digest file of an undeclared platform', async () => {
    const ctx = tmpContext();
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/amd64', d('a')));
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/arm64', d('b')));
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/s390x', d('c')));
    const { deps, commands, logs } = fakeDeps(registry());
    expect((await dockerMerge(options, ctx, deps)).success).toBe(true);
    expect(logs.join('\n')).toContain('ignoring digest files of undeclared platforms: dist/nxcb-digests/api/linux-s390x.json');
    expect(commands().find((c) => c.includes('imagetools create'))).not.toContain(d('c'));
  });

  it('fails when the registry then serves another image for a platform', async () => {
    const ctx = tmpContext();
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/amd64', d('a')));
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/arm64', d('b')));
    const moved = index([
      ['amd64', d('a')],
      ['arm64', d('c')],
    ]);
    const { deps, logs } = fakeDeps((argv) =>
      argv[2] === 'inspect' ? { stdout: DOCKER_INSPECT } : argv[3] === 'inspect' ? { stdout: moved } : {},
    );
    expect(await dockerMerge(options, ctx, deps)).toEqual({ success: false });
    expect(logs.join('\n')).toMatch(/does not point at the pushed images for linux\/arm64/);
  });

  it('dry run prints the command from the files and runs nothing', async () => {
    const ctx = tmpContext();
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/amd64', d('a')));
    writeDigestRecord(ctx.root, 'dist/nxcb-digests', record('linux/arm64', d('b')));
    const { deps, calls, logs } = fakeDeps(registry());
    expect(await dockerMerge({ ...options, dryRun: true }, ctx, deps)).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(logs).toContain(
      `[dry-run] docker buildx imagetools create -t ${REPO}:1.0 -t ${REPO}:latest ${REPO}@${d('a')} ${REPO}@${d('b')}`,
    );
  });
});
