import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fakeDeps, tmpContext, type Handler } from '../shared/__fixtures__/fake-deps';
import { dockerVerify } from './executor';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const IMAGE = '127.0.0.1:5000/api:1.0';

function index(platforms: Array<[string, string?]>): string {
  return JSON.stringify({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: platforms.map(([architecture, variant], i) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: d(String(i)),
      platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
    })),
  });
}

const UNAME: Record<string, string> = {
  'linux/amd64': 'x86_64',
  'linux/arm64': 'aarch64',
  'linux/arm/v7': 'armv7l',
  'linux/s390x': 's390x',
};

function engine(raw: string, uname: Record<string, string> = UNAME, extra?: Handler): Handler {
  return (argv, opts) => {
    const more = extra?.(argv, opts);
    if (more) return more;
    if (argv[2] === 'imagetools') return { stdout: raw };
    if (argv[1] === 'run') {
      const platform = argv[argv.indexOf('--platform') + 1]!;
      return { stdout: `${uname[platform] ?? 'unknown'}\n` };
    }
    return undefined;
  };
}

const options = { service: 'api', image: IMAGE, platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] };

describe('docker-verify executor', () => {
  test('manifest holds every platform and each runs with the right uname -m', async () => {
    const { deps, commands, logs } = fakeDeps(engine(index([['amd64'], ['arm64', 'v8'], ['arm', 'v7']])));
    expect(await dockerVerify(options, tmpContext(), deps)).toEqual({ success: true });
    expect(commands()).toEqual([
      `docker buildx imagetools inspect --raw ${IMAGE}`,
      `docker run --rm --network none --platform linux/amd64 ${IMAGE} uname -m`,
      `docker run --rm --network none --platform linux/arm64 ${IMAGE} uname -m`,
      `docker run --rm --network none --platform linux/arm/v7 ${IMAGE} uname -m`,
    ]);
    expect(logs.at(-1)).toBe(`[api] verified 3 platform(s) of ${IMAGE}`);
  });

  test('wrong machine: names service, platform, expected and actual', async () => {
    const { deps, logs } = fakeDeps(engine(index([['amd64'], ['arm64'], ['arm', 'v7']]), { ...UNAME, 'linux/arm64': 'x86_64' }));
    expect(await dockerVerify(options, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.at(-1)).toContain('service api, platform linux/arm64: expected uname -m "aarch64", got "x86_64"');
  });

  test('missing and extra platforms are both named; missing ones are not run', async () => {
    const { deps, logs, commands } = fakeDeps(engine(index([['amd64'], ['s390x']])));
    expect(await dockerVerify(options, tmpContext(), deps)).toEqual({ success: false });
    const msg = logs.at(-1)!;
    expect(msg).toContain(`manifest of ${IMAGE} lacks declared platform(s): linux/arm64, linux/arm/v7 (it has: linux/amd64, linux/s390x)`);
    expect(msg).toContain(`manifest of ${IMAGE} has undeclared platform(s): linux/s390x`);
    expect(commands().filter((c) => c.includes('docker run'))).toEqual([
      `docker run --rm --network none --platform linux/amd64 ${IMAGE} uname -m`,
    ]);
  });

  test('extra platforms can be allowed', async () => {
    const { deps } = fakeDeps(engine(index([['amd64'], ['arm64'], ['arm', 'v7'], ['s390x']])));
    expect(await dockerVerify({ ...options, allowExtraPlatforms: true }, tmpContext(), deps)).toEqual({ success: true });
  });

  test('custom command: only the exit code counts', async () => {
    const { deps, logs, commands } = fakeDeps(
      engine(index([['amd64'], ['arm64']]), {}, (argv) =>
        argv[1] === 'run'
          ? { exitCode: argv.includes('linux/arm64') ? 2 : 0, stdout: 'whatever', stderr: argv.includes('linux/arm64') ? 'boom' : '' }
          : undefined,
      ),
    );
    const r = await dockerVerify(
      {
        ...options,
        platforms: ['linux/amd64', 'linux/arm64'],
        verifyCommand: ['/app/selftest', '--quick'],
        network: 'host',
        pull: 'always',
      },
      tmpContext(),
      deps,
    );
    expect(r).toEqual({ success: false });
    expect(commands()[1]).toBe(`docker run --rm --network host --platform linux/amd64 --pull always ${IMAGE} /app/selftest --quick`);
    expect(logs.at(-1)).toContain(
      `service api, platform linux/arm64: \`docker run --rm --network host --platform linux/arm64 --pull always ${IMAGE} /app/selftest --quick\` exited 2: boom`,
    );
    expect(logs).toContain('[api] linux/amd64: ok (exit 0)');
  });

  test('no declared platforms: runs what the registry lists; image from tags', async () => {
    const { deps, commands } = fakeDeps(engine(index([['s390x']])));
    expect(await dockerVerify({ service: 'api', tags: [IMAGE] }, tmpContext(), deps)).toEqual({ success: true });
    expect(commands().at(-1)).toBe(`docker run --rm --network none --platform linux/s390x ${IMAGE} uname -m`);
  });

  test('registry unreachable fails clearly', async () => {
    const { deps, logs } = fakeDeps(() => ({ exitCode: 1, stderr: 'ERROR: connection refused' }));
    expect(await dockerVerify(options, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.at(-1)).toContain(`Cannot read ${IMAGE} from its registry: ERROR: connection refused`);
  });

  test('dry run prints and runs nothing', async () => {
    const dry = fakeDeps(() => {
      throw new Error('nothing may run');
    });
    expect(await dockerVerify({ ...options, dryRun: true }, tmpContext(), dry.deps)).toEqual({ success: true });
    expect(dry.calls).toEqual([]);
    expect(dry.logs.filter((l) => l.startsWith('[dry-run]'))).toEqual([
      `[dry-run] docker buildx imagetools inspect --raw ${IMAGE}`,
      `[dry-run] docker run --rm --network none --platform linux/amd64 ${IMAGE} uname -m`,
      `[dry-run] docker run --rm --network none --platform linux/arm64 ${IMAGE} uname -m`,
      `[dry-run] docker run --rm --network none --platform linux/arm/v7 ${IMAGE} uname -m`,
    ]);
  });
});

describe('docker-verify checks the digest this run pushed', () => {
  const PUSHED = d('f');
  const byDigest = `127.0.0.1:5000/api@${PUSHED}`;
  const withRecord = (record: unknown) => {
    const context = tmpContext();
    mkdirSync(join(context.root, 'dist/docker/api'), { recursive: true });
    writeFileSync(join(context.root, 'dist/docker/api/push-metadata.json'), typeof record === 'string' ? record : JSON.stringify(record));
    return context;
  };
  const opts = { ...options, platforms: ['linux/amd64'], pushMetadataFile: 'dist/docker/api/push-metadata.json' };

  test('inspects and runs <repo>@<digest> from docker-push metadata, never the moving tag', async () => {
    const { deps, commands, logs } = fakeDeps(engine(index([['amd64']])));
    const context = withRecord({ service: 'api', tags: [IMAGE], platforms: {}, manifestDigest: PUSHED, pushed: true, loaded: false });
    expect(await dockerVerify(opts, context, deps)).toEqual({ success: true });
    expect(commands()).toEqual([
      `docker buildx imagetools inspect --raw ${byDigest}`,
      `docker run --rm --network none --platform linux/amd64 ${byDigest} uname -m`,
    ]);
    expect(logs).toContain(`[api] checking ${IMAGE} by the digest docker-push recorded`);
  });

  test('the dry run prints the by-digest commands too', async () => {
    const { deps, logs, commands } = fakeDeps(engine(index([['amd64']])));
    const context = withRecord({ manifestDigest: PUSHED, pushed: true });
    expect(await dockerVerify({ ...opts, dryRun: true }, context, deps)).toEqual({ success: true });
    expect(commands()).toEqual([]);
    expect(logs).toContain(`[dry-run] docker run --rm --network none --platform linux/amd64 ${byDigest} uname -m`);
  });

  test.each([
    ['no record', undefined, /no push record at dist\/docker\/api\/push-metadata\.json; checking .* as the registry serves it now/],
    ['a build-only record (pushed: false)', { manifestDigest: PUSHED, pushed: false }, /has no pushed digest/],
    ['a record without a digest', { pushed: true }, /has no pushed digest/],
  ])('%s: falls back to the tag and says so', async (_name, record, note) => {
    const { deps, commands, logs } = fakeDeps(engine(index([['amd64']])));
    const context = record === undefined ? tmpContext() : withRecord(record);
    expect(await dockerVerify(opts, context, deps)).toEqual({ success: true });
    expect(commands()[0]).toBe(`docker buildx imagetools inspect --raw ${IMAGE}`);
    expect(logs.some((l) => note.test(l))).toBe(true);
  });

  test('an unreadable record or one outside the workspace fails, naming it', async () => {
    const { deps, logs } = fakeDeps(engine(index([['amd64']])));
    expect(await dockerVerify(opts, withRecord('{ not json'), deps)).toEqual({ success: false });
    expect(logs.at(-1)).toMatch(/cannot read the push record dist\/docker\/api\/push-metadata\.json/);
    expect(await dockerVerify({ ...opts, pushMetadataFile: '../elsewhere.json' }, tmpContext(), deps)).toEqual({ success: false });
    expect(logs.at(-1)).toMatch(/pushMetadataFile \.\.\/elsewhere\.json is outside the workspace/);
  });
});
