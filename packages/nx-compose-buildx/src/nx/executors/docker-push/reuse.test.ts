import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { resetBuilderCache } from '../shared/builder';
import { DOCKER_INSPECT, fakeDeps, tmpContext, type Handler } from '../shared/__fixtures__/fake-deps';
import type { BuildExecutorOptions } from '../shared/options';
import { CONTENT_KEY_LABEL } from '../shared/registry-reuse';
import { dockerBuild } from '../docker-build/executor';
import { dockerPush } from './executor';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const BASE = '127.0.0.1:5000/base:1';

const options: BuildExecutorOptions = {
  service: 'api',
  context: 'apps/api',
  dockerfile: 'apps/api/Dockerfile',
  platforms: ['linux/amd64', 'linux/arm64'],
  tags: ['127.0.0.1:5000/api:1.0', '127.0.0.1:5000/api:latest'],
  ociLabels: false,
  metadataFile: 'dist/docker/api/push-metadata.json',
};

const INDEX = JSON.stringify({
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { digest: d('a'), platform: { os: 'linux', architecture: 'amd64' } },
    { digest: d('b'), platform: { os: 'linux', architecture: 'arm64' } },
  ],
});
/** What a registry computes for a manifest it stores: the digest of its bytes. */
const INDEX_DIGEST = `sha256:${createHash('sha256').update(INDEX).digest('hex')}`;
const keyImage = (key: string) =>
  JSON.stringify({
    manifest: { digest: INDEX_DIGEST, manifests: JSON.parse(INDEX).manifests },
    image: {
      'linux/amd64': { os: 'linux', architecture: 'amd64', config: { Labels: { [CONTENT_KEY_LABEL]: key } } },
      'linux/arm64': { os: 'linux', architecture: 'arm64', config: { Labels: { [CONTENT_KEY_LABEL]: key } } },
    },
  });

/**
 * A registry that serves the base image, holds the key tag (with its own key in the label, or
 * another one: a moved tag) or not, and serves INDEX under every tag after a push.
 */
function registry(keyTag: 'hit' | 'miss' | 'moved', seen: { keyRefs: string[] }): Handler {
  let pushed = false;
  return (argv, opts) => {
    if (argv[2] === 'inspect') return { stdout: DOCKER_INSPECT };
    if (argv[2] === 'build') {
      pushed = true;
      const i = argv.indexOf('--metadata-file');
      writeFileSync(join(opts.cwd, argv[i + 1]!), JSON.stringify({ 'containerimage.digest': INDEX_DIGEST }));
      return {};
    }
    const ref = argv.at(-1)!;
    if (argv[2] === 'imagetools' && argv[3] === 'inspect' && !argv.includes('--raw')) {
      if (ref === BASE) return { stdout: JSON.stringify({ digest: d('f') }) };
      const key = /:nxcb-([0-9a-f]{32})$/.exec(ref)?.[1];
      if (key) {
        seen.keyRefs.push(ref);
        if (keyTag === 'miss' && !pushed) return { exitCode: 1, stderr: `ERROR: ${ref}: not found` };
        return { stdout: keyImage(keyTag === 'hit' ? key : 'f'.repeat(32)) };
      }
    }
    if (argv[2] === 'imagetools' && argv.includes('--raw')) return { stdout: INDEX };
    return undefined;
  };
}

function workspace(appText = 'v1\n') {
  const ctx = tmpContext();
  mkdirSync(join(ctx.root, 'apps/api'), { recursive: true });
  writeFileSync(join(ctx.root, 'apps/api/Dockerfile'), `FROM ${BASE}\nCOPY app.txt /app.txt\n`);
  writeFileSync(join(ctx.root, 'apps/api/app.txt'), appText);
  writeFileSync(join(ctx.root, 'apps/api/.dockerignore'), 'notes.md\n');
  return ctx;
}

const builds = (commands: string[]) => commands.filter((c) => c.startsWith('docker buildx build'));

beforeEach(() => resetBuilderCache());

/**
 * Holds every command `held` matches until a command `awaited` matches has run (or `ms` passed,
 * which then shows in the order): proves that the awaited one does not wait for the held one.
 * Returns the order seen: 'awaited', then `label` when the held command answers.
 */
function holdUntil(
  deps: ReturnType<typeof fakeDeps>['deps'],
  held: (argv: readonly string[]) => boolean,
  awaited: (argv: readonly string[]) => boolean,
  label: string,
  ms: number,
): string[] {
  const order: string[] = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  const fallback = setTimeout(() => release(), ms);
  const run = deps.run;
  deps.run = async (argv, opts) => {
    if (held(argv)) {
      await released;
      clearTimeout(fallback);
      order.push(label);
    } else if (awaited(argv) && !order.includes('awaited')) {
      order.push('awaited');
      release();
    }
    return run(argv, opts);
  };
  return order;
}

const isBuilderInspect = (argv: readonly string[]) => argv[1] === 'buildx' && argv[2] === 'inspect';
/** The builder inspect answers only once `awaited` has run (or after 3 s). */
const inspectAnswersAfter = (deps: ReturnType<typeof fakeDeps>['deps'], awaited: (argv: readonly string[]) => boolean) =>
  holdUntil(deps, isBuilderInspect, awaited, 'inspect answered', 3_000);

describe('docker-push: the registry as the cache', () => {
  test('a hit builds nothing: the keyed image is tagged under every tag by digest and recorded as reused', async () => {
    const ctx = workspace();
    const seen = { keyRefs: [] as string[] };
    const { deps, commands, logs } = fakeDeps(registry('hit', seen));
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: true });
    expect(builds(commands())).toEqual([]);
    expect(seen.keyRefs).toHaveLength(1);
    expect(seen.keyRefs[0]).toMatch(/^127\.0\.0\.1:5000\/api:nxcb-[0-9a-f]{32}$/);
    expect(commands()).toContain(
      `docker buildx imagetools create -t 127.0.0.1:5000/api:1.0 -t 127.0.0.1:5000/api:latest 127.0.0.1:5000/api@${INDEX_DIGEST}`,
    );
    expect(logs.join('\n')).toContain(`registry cache hit: ${seen.keyRefs[0]}`);
    const metadata = JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/push-metadata.json'), 'utf8'));
    expect(metadata).toMatchObject({
      reused: true,
      pushed: true,
      manifestDigest: INDEX_DIGEST,
      platforms: { 'linux/amd64': { digest: d('a') }, 'linux/arm64': { digest: d('b') } },
    });
    expect(metadata.tags).toEqual(options.tags);
  });

  test('a miss builds with the key in the label and the key tag; the key tag is not one of the image tags', async () => {
    const ctx = workspace();
    const seen = { keyRefs: [] as string[] };
    const { deps, commands } = fakeDeps(registry('miss', seen));
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: true });
    const [build] = builds(commands());
    const key = seen.keyRefs[0]!.split(':nxcb-')[1];
    expect(build).toContain(`--label ${CONTENT_KEY_LABEL}=${key}`);
    expect(build).toContain(`-t ${seen.keyRefs[0]}`);
    const metadata = JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/push-metadata.json'), 'utf8'));
    expect(metadata.reused).toBeUndefined();
    expect(metadata.tags).toEqual(options.tags);
  });

  test('a single-platform miss pushes to the key tag only and publishes from it, as a hit would', async () => {
    const seen = { keyRefs: [] as string[] };
    const single = { ...options, platforms: ['linux/amd64'] };
    const { deps, commands } = fakeDeps((argv, o) => {
      if (
        argv[2] === 'imagetools' &&
        argv[3] === 'inspect' &&
        /:nxcb-/.test(argv.at(-1)!) &&
        argv.includes('--format') &&
        commands().some((c) => c.startsWith('docker buildx build'))
      ) {
        seen.keyRefs.push(argv.at(-1)!);
        const key = argv.at(-1)!.split(':nxcb-')[1]!;
        return {
          stdout: JSON.stringify({
            manifest: { digest: d('c') },
            image: { os: 'linux', architecture: 'amd64', config: { Labels: { [CONTENT_KEY_LABEL]: key } } },
          }),
        };
      }
      if (argv.includes('--raw') && !/:nxcb-/.test(argv.at(-1)!))
        return {
          stdout: JSON.stringify({
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests: [{ digest: d('c'), platform: { os: 'linux', architecture: 'amd64' } }],
          }),
        };
      return registry('miss', { keyRefs: [] })(argv, o);
    });
    expect(await dockerPush(single, workspace(), deps)).toEqual({ success: true });
    const [build] = builds(commands());
    expect(build).toMatch(/ -t 127\.0\.0\.1:5000\/api:nxcb-[0-9a-f]{32} /);
    expect(build).not.toContain('-t 127.0.0.1:5000/api:1.0');
    // The key tag moves onto the one-entry list too: the next hit is an index the registry API can put itself.
    const keyTag = seen.keyRefs[0]!;
    expect(commands()).toContain(
      `docker buildx imagetools create -t 127.0.0.1:5000/api:1.0 -t 127.0.0.1:5000/api:latest -t ${keyTag} 127.0.0.1:5000/api@${d('c')}`,
    );
  });

  test('a read-only single-platform hit lists the image under its tags and leaves the key tag alone', async () => {
    const single = { ...options, platforms: ['linux/amd64'] };
    const { deps, commands } = fakeDeps(registry('hit', { keyRefs: [] }));
    deps.env = { ...deps.env, NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' };
    expect(await dockerPush(single, workspace(), deps)).toEqual({ success: true });
    const create = commands().filter((c) => c.startsWith('docker buildx imagetools create'));
    expect(create).toHaveLength(1);
    expect(create[0]).not.toContain(':nxcb-');
  });

  test('the key follows the content: a context file BuildKit gets changes it, an ignored one and a new tag do not', async () => {
    const keyOf = async (ctx: ReturnType<typeof workspace>, opts = options) => {
      const seen = { keyRefs: [] as string[] };
      const { deps } = fakeDeps(registry('miss', seen));
      await dockerPush(opts, ctx, deps);
      resetBuilderCache();
      return seen.keyRefs[0]!.split(':nxcb-')[1];
    };
    const ctx = workspace();
    const first = await keyOf(ctx);
    writeFileSync(join(ctx.root, 'apps/api/notes.md'), 'ignored by .dockerignore\n');
    expect(await keyOf(ctx)).toBe(first);
    expect(await keyOf(ctx, { ...options, tags: ['127.0.0.1:5000/api:2.0'] })).toBe(first);
    writeFileSync(join(ctx.root, 'apps/api/app.txt'), 'v2\n');
    expect(await keyOf(ctx)).not.toBe(first);
    expect(await keyOf(workspace(), { ...options, args: { MODE: 'fast' } })).not.toBe(first);
  });

  test('a named context that the Dockerfile copies from is hashed as files, not looked up as an image', async () => {
    const ctx = workspace();
    mkdirSync(join(ctx.root, 'conf'), { recursive: true });
    writeFileSync(join(ctx.root, 'conf/app.json'), '{}');
    writeFileSync(join(ctx.root, 'apps/api/Dockerfile'), `FROM ${BASE}\nCOPY --from=config app.json /etc/app.json\n`);
    const seen = { keyRefs: [] as string[] };
    const { deps, commands } = fakeDeps(registry('hit', seen));
    expect(await dockerPush({ ...options, additionalContexts: { config: 'conf' } }, ctx, deps)).toEqual({ success: true });
    expect(commands().some((c) => c.endsWith(' config'))).toBe(false);
    expect(seen.keyRefs).toHaveLength(1);
  });

  // A builder that cannot run arm64 (no QEMU, no arm64 node): a push of the image it would build fails.
  const amd64Only =
    (over: Handler): Handler =>
    (argv, opts) =>
      argv[2] === 'inspect' ? { stdout: DOCKER_INSPECT.replace(/^Platforms: .*$/m, 'Platforms: linux/amd64') } : over(argv, opts);

  test('a hit needs no builder that can build it: tagging by digest runs on a runner without QEMU', async () => {
    const { deps, commands } = fakeDeps(amd64Only(registry('hit', { keyRefs: [] })));
    expect(await dockerPush(options, workspace(), deps)).toEqual({ success: true });
    expect(builds(commands())).toEqual([]);
  });

  test('a miss on that runner fails before building, naming the platform it cannot build', async () => {
    const { deps, commands, logs } = fakeDeps(amd64Only(registry('miss', { keyRefs: [] })));
    expect(await dockerPush(options, workspace(), deps)).toEqual({ success: false });
    expect(builds(commands())).toEqual([]);
    expect(logs.join('\n')).toMatch(/linux\/arm64/);
  });

  test('the lookup does not wait for the builder inspect: the key tag is asked while the inspect still runs', async () => {
    const { deps } = fakeDeps(registry('hit', { keyRefs: [] }));
    const order = inspectAnswersAfter(deps, (argv) => argv[2] === 'imagetools' && argv[3] === 'inspect' && /:nxcb-/.test(argv.at(-1)!));
    expect(await dockerPush(options, workspace(), deps)).toEqual({ success: true });
    expect(order).toEqual(['awaited', 'inspect answered']);
  });

  test('a builder spec missing on a fresh runner is created before a lookup that runs imagetools with it', async () => {
    // The create finishes once imagetools has been asked with the builder (or after 1 s): asked first, it finds none.
    let created = false;
    const hit = registry('hit', { keyRefs: [] });
    const { deps, commands } = fakeDeps((argv, opts) => {
      if (argv[2] === 'inspect') return created ? { stdout: DOCKER_INSPECT } : { exitCode: 1, stderr: 'ERROR: no builder "ci" found' };
      if (argv[2] === 'create') {
        created = true;
        return {};
      }
      if (argv[2] === 'imagetools' && argv.includes('--builder') && !created)
        return { exitCode: 1, stderr: 'ERROR: no builder "ci" found' };
      return hit(argv, opts);
    });
    holdUntil(
      deps,
      (argv) => argv[2] === 'create',
      (argv) => argv[2] === 'imagetools' && argv.includes('--builder'),
      'created',
      1_000,
    );
    const spec = { ...options, builder: { name: 'ci', driver: 'docker-container' as const } };
    expect(await dockerPush(spec, workspace(), deps)).toEqual({ success: true });
    expect(builds(commands())).toEqual([]);
  });

  test('a moved key tag (another key in the label) is not trusted: the image is built', async () => {
    const { deps, commands, logs } = fakeDeps(registry('moved', { keyRefs: [] }));
    expect(await dockerPush(options, workspace(), deps)).toEqual({ success: true });
    expect(builds(commands())).toHaveLength(1);
    expect(logs.join('\n')).toMatch(/not trusted, the linux\/amd64 config does not carry this key/);
  });

  test.each([
    ['the pull-request switch', { env: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' } }, {}],
    ['the executor option', {}, { cacheReadOnly: true }],
  ])('read-only (%s) looks keys up but writes none', async (_, depsOver, optsOver) => {
    const seen = { keyRefs: [] as string[] };
    const { deps, commands } = fakeDeps(registry('miss', seen), depsOver);
    expect(await dockerPush({ ...options, ...optsOver }, workspace(), deps)).toEqual({ success: true });
    expect(seen.keyRefs).toHaveLength(1);
    const [build] = builds(commands());
    expect(build).not.toContain('nxcb-');
    expect(build).toContain(`--label ${CONTENT_KEY_LABEL}=`); // the same image content as a trusted run
  });

  test('read-only with manifestList: a single-platform miss pushes under the first tag, no key tag, and lists it under every tag', async () => {
    const single = { ...options, platforms: ['linux/amd64'], manifestList: true, cacheReadOnly: true };
    const { deps, commands } = fakeDeps((argv, o) => {
      if (argv[2] === 'build') {
        const i = argv.indexOf('--metadata-file');
        writeFileSync(join(o.cwd, argv[i + 1]!), JSON.stringify({ 'containerimage.digest': d('c') }));
        return {};
      }
      if (argv[2] === 'imagetools' && argv[3] === 'create') return {};
      if (argv.includes('--raw'))
        return {
          stdout: JSON.stringify({
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests: [{ digest: d('c'), platform: { os: 'linux', architecture: 'amd64' } }],
          }),
        };
      return registry('miss', { keyRefs: [] })(argv, o);
    });
    expect(await dockerPush(single, workspace(), deps)).toEqual({ success: true });
    const [build] = builds(commands());
    expect(build).toContain(' -t 127.0.0.1:5000/api:1.0 ');
    expect(build).not.toContain('nxcb-');
    expect(build).not.toContain('api:latest');
    expect(commands()).toContain(
      `docker buildx imagetools create -t 127.0.0.1:5000/api:1.0 -t 127.0.0.1:5000/api:latest 127.0.0.1:5000/api@${d('c')}`,
    );
  });

  test.each([
    ['reuse: false', {}, { reuse: false }],
    ['NX_COMPOSE_BUILDX_REUSE=false', { env: { NX_COMPOSE_BUILDX_REUSE: 'false' } }, {}],
  ])('%s turns it off: no lookup, no key', async (_, depsOver, optsOver) => {
    const { deps, commands } = fakeDeps(registry('hit', { keyRefs: [] }), depsOver);
    expect(await dockerPush({ ...options, ...optsOver }, workspace(), deps)).toEqual({ success: true });
    expect(commands().some((c) => c.includes('nxcb-') || c.includes(CONTENT_KEY_LABEL))).toBe(false);
    expect(builds(commands())).toHaveLength(1);
  });

  test('an image it builds on that no registry serves: no key, it builds and says why', async () => {
    const ctx = workspace();
    writeFileSync(join(ctx.root, 'apps/api/Dockerfile'), 'FROM local-only:dev\nCOPY app.txt /\n');
    const { deps, commands, logs } = fakeDeps(registry('hit', { keyRefs: [] }));
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: true });
    expect(builds(commands())).toHaveLength(1);
    expect(logs.join('\n')).toContain('registry cache: off for this push (no registry serves local-only:dev, an image it builds on)');
  });

  test('an image only a stage the build never reaches uses is not asked for: the key stands, the hit is kept', async () => {
    const ctx = workspace();
    writeFileSync(join(ctx.root, 'apps/api/Dockerfile'), `FROM local-only:dev AS dev\nFROM ${BASE}\nCOPY app.txt /\n`);
    const { deps, commands, logs } = fakeDeps(registry('hit', { keyRefs: [] }));
    expect(await dockerPush(options, ctx, deps)).toEqual({ success: true });
    expect(builds(commands())).toHaveLength(0);
    expect(commands().some((c) => c.includes('local-only'))).toBe(false);
    expect(logs.join('\n')).not.toContain('registry cache: off');
  });

  test('a dry run prints the lookup it would make and reads nothing', async () => {
    const { deps, commands, logs } = fakeDeps(registry('hit', { keyRefs: [] }));
    expect(await dockerPush({ ...options, dryRun: true }, workspace(), deps)).toEqual({ success: true });
    expect(commands()).toEqual([]);
    expect(logs.join('\n')).toContain(
      '[dry-run] docker buildx imagetools inspect --format \'{"manifest":{{json .Manifest}},"image":{{json .Image}}}\' \'127.0.0.1:5000/api:nxcb-<content key>\'',
    );
  });
});

/** A context whose docker-push target has file inputs, so the executor can ask git for their last commit. */
function withInputs(ctx: ReturnType<typeof workspace>) {
  return {
    ...ctx,
    targetName: 'docker-push',
    projectsConfigurations: {
      version: 2,
      projects: { api: { root: 'apps/api', targets: { 'docker-push': { inputs: ['{projectRoot}/**/*'] } } } },
    },
  } as typeof ctx;
}
const INPUT_COMMIT = `${'c'.repeat(40)} 1600000000 ${'d'.repeat(40)}`;
const gitLog = (commands: string[]) => commands.filter((c) => c.startsWith('git log -1'));

describe('docker-push: the last commit of the inputs is asked only for a build', () => {
  test('a hit asks git nothing: the epoch only matters to a build', async () => {
    const seen = { keyRefs: [] as string[] };
    const hit = registry('hit', seen);
    const { deps, commands } = fakeDeps((argv, o) => (argv[0] === 'git' ? { stdout: INPUT_COMMIT } : hit(argv, o)));
    expect(await dockerPush(options, withInputs(workspace()), deps)).toEqual({ success: true });
    expect(builds(commands())).toEqual([]);
    expect(gitLog(commands())).toEqual([]);
  });

  test("a miss asks it, then builds with that commit's time as SOURCE_DATE_EPOCH", async () => {
    const seen = { keyRefs: [] as string[] };
    const miss = registry('miss', seen);
    const { deps, commands, logs } = fakeDeps((argv, o) => (argv[0] === 'git' ? { stdout: INPUT_COMMIT } : miss(argv, o)));
    expect(await dockerPush(options, withInputs(workspace()), deps)).toEqual({ success: true });
    expect(gitLog(commands())).toHaveLength(1);
    const [build] = builds(commands());
    expect(build).toContain('--build-arg SOURCE_DATE_EPOCH=1600000000');
    expect(logs.join('\n')).toContain('SOURCE_DATE_EPOCH=1600000000: cccccccccccc, the last commit that changed its inputs');
  });

  test('a miss asks it while the builder inspect still runs: the build waits for neither in turn', async () => {
    const miss = registry('miss', { keyRefs: [] });
    const { deps, commands } = fakeDeps((argv, o) => (argv[0] === 'git' ? { stdout: INPUT_COMMIT } : miss(argv, o)));
    const order = inspectAnswersAfter(deps, (argv) => argv[0] === 'git' && argv.includes('log'));
    expect(await dockerPush(options, withInputs(workspace()), deps)).toEqual({ success: true });
    expect(order).toEqual(['awaited', 'inspect answered']);
    expect(builds(commands())[0]).toContain('--build-arg SOURCE_DATE_EPOCH=1600000000');
  });

  test('with reuse off it is asked before anything else, as for any build', async () => {
    const seen = { keyRefs: [] as string[] };
    const miss = registry('miss', seen);
    const { deps, commands } = fakeDeps((argv, o) => (argv[0] === 'git' ? { stdout: INPUT_COMMIT } : miss(argv, o)));
    expect(await dockerPush({ ...options, reuse: false }, withInputs(workspace()), deps)).toEqual({ success: true });
    expect(seen.keyRefs).toEqual([]);
    expect(gitLog(commands())).toHaveLength(1);
    expect(builds(commands())[0]).toContain('--build-arg SOURCE_DATE_EPOCH=1600000000');
  });
});

describe('docker-build: the same lookup, only when asked', () => {
  const buildOptions = { ...options, metadataFile: 'dist/docker/api/metadata.json' };
  const local = async () => ({
    manifestDigest: INDEX_DIGEST,
    platforms: [
      { platform: 'linux/amd64', digest: d('a') },
      { platform: 'linux/arm64', digest: d('b') },
    ],
  });

  test('off by default: no key is looked up', async () => {
    const seen = { keyRefs: [] as string[] };
    const { deps, commands } = fakeDeps(registry('hit', seen), { localImageDigests: local });
    expect(await dockerBuild(buildOptions, workspace(), deps)).toEqual({ success: true });
    expect(seen.keyRefs).toEqual([]);
    expect(builds(commands())).toHaveLength(1);
  });

  test('a hit loads the registry image under every tag (a FROM of it, by digest), records it as reused, writes no key', async () => {
    const ctx = workspace();
    const seen = { keyRefs: [] as string[] };
    const { deps, commands, logs } = fakeDeps(registry('hit', seen), { localImageDigests: local });
    expect(await dockerBuild({ ...buildOptions, reuse: true }, ctx, deps)).toEqual({ success: true });
    const [load, ...more] = builds(commands());
    expect(more).toEqual([]);
    expect(load).toContain(`--build-context nxcb-image=docker-image://127.0.0.1:5000/api@${INDEX_DIGEST}`);
    expect(load).toContain('-t 127.0.0.1:5000/api:1.0 -t 127.0.0.1:5000/api:latest');
    expect(load).toContain('--load');
    expect(load).not.toContain('nxcb-image=docker-image://127.0.0.1:5000/api:nxcb-');
    expect(commands().some((c) => c.startsWith('docker buildx imagetools create'))).toBe(false);
    expect(logs.join('\n')).toContain(`registry cache hit: ${seen.keyRefs[0]}`);
    const metadata = JSON.parse(readFileSync(join(ctx.root, 'dist/docker/api/metadata.json'), 'utf8'));
    expect(metadata).toMatchObject({ reused: true, loaded: true, pushed: false });
    expect(metadata.platforms).toEqual({ 'linux/amd64': { digest: d('a') }, 'linux/arm64': { digest: d('b') } });
  });

  test('a miss builds, with the key in the label but no key tag (docker-build never writes one)', async () => {
    const seen = { keyRefs: [] as string[] };
    const { deps, commands } = fakeDeps(registry('miss', seen), { localImageDigests: local, env: { NX_COMPOSE_BUILDX_REUSE: 'true' } });
    expect(await dockerBuild(buildOptions, workspace(), deps)).toEqual({ success: true });
    const [build, ...more] = builds(commands());
    expect(more).toEqual([]);
    expect(seen.keyRefs).toHaveLength(1);
    expect(build).toContain(`--label ${CONTENT_KEY_LABEL}=`);
    expect(build).not.toContain(':nxcb-');
  });
});
