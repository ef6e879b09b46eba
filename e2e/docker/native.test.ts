import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack } from '../support/stack';
import { indexDigests, tagDigest } from '../support/registry';
import { cloneWorkspace, createWorkspace, run, type TempWorkspace } from '../support/workspace';

/**
 * Native runners, against the real engine and registry: two separate clones of one workspace act as
 * two CI runners (linux/amd64, and linux/arm64 under QEMU), each running the affected,
 * platform-restricted push; their digest folders go to a third clone, which merges. `app` is built
 * FROM `base`, both changed by the last commit; `steady` is not.
 */
const RUN_ID = `native-${process.pid}-${Date.now().toString(36)}`;
const NS = `127.0.0.1:5000/${RUN_ID}`;
const BUSYBOX = '127.0.0.1:5000/nxcb/busybox:latest';
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const DIGESTS = 'dist/nxcb-digests';

const service = (name: string) => [
  `  ${name}:`,
  `    image: ${NS}/${name}:1`,
  '    build:',
  `      context: ./${name}`,
  '      network: none',
  `      platforms: [${PLATFORMS.join(', ')}]`,
];
const COMPOSE = ['services:', ...service('base'), ...service('app'), ...service('steady'), ''].join('\n');

const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
/**
 * The `docker buildx build` commands a run's executors report (they log each before running it; a leg adds its
 * platform), without the FROM-only republish of a content-stable build (its `nxcb-image=` context): it runs no step.
 */
const buildLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^\[[^\]]+\] (linux\/[a-z0-9/]+: )?docker buildx build /.test(l))
    .filter((l) => !l.includes('nxcb-image='));
const legEnv = (platform: string) => ({ NX_COMPOSE_BUILDX_PLATFORMS: platform, NX_COMPOSE_BUILDX_DIGESTS_DIR: DIGESTS });
const affected = ['--base=HEAD~1', '--head=HEAD', '--output-style=static'];

function digestFiles(ws: TempWorkspace): string[] {
  const dir = join(ws.root, DIGESTS);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((project) => readdirSync(join(dir, project)).map((f) => `${project}/${f}`))
    .sort();
}
const record = (ws: TempWorkspace, file: string) => JSON.parse(readFileSync(join(ws.root, DIGESTS, file), 'utf8'));

describe('native runners: per-platform legs pushed by digest, then one merge', () => {
  let source: TempWorkspace;
  const runners: Record<string, TempWorkspace> = {};
  let merger: TempWorkspace;
  let dockerEnv: NodeJS.ProcessEnv;
  let published: Record<string, string | undefined>;

  beforeAll(async () => {
    const stack = await ensureStack();
    dockerEnv = { ...process.env, ...stack.env };
    source = await createWorkspace({
      env: stack.env,
      files: {
        'compose.yaml': COMPOSE,
        'base/Dockerfile': `FROM ${BUSYBOX}\nCOPY base.txt /base.txt\n`,
        'base/base.txt': 'base v1\n',
        'app/Dockerfile': `FROM ${NS}/base:1\nCOPY app.txt /app.txt\nRUN cat /base.txt /app.txt > /both.txt\n`,
        'app/app.txt': 'app v1\n',
        'steady/Dockerfile': `FROM ${BUSYBOX}\nCOPY steady.txt /steady.txt\n`,
        'steady/steady.txt': 'steady v1\n',
      },
    });
    // What the main branch published before this change: every service, both platforms.
    await source.nx(['run-many', '-t', 'docker-push', '--output-style=static']);
    published = Object.fromEntries(await Promise.all(['base', 'app', 'steady'].map(async (s) => [s, await tagDigest(`${NS}/${s}:1`)])));
    source.write('base/base.txt', 'base v2\n');
    source.write('app/app.txt', 'app v2\n');
    await source.commit('base v2, app v2');
    for (const platform of PLATFORMS) runners[platform] = await cloneWorkspace(source, stack.env);
    merger = await cloneWorkspace(source, stack.env);
  });
  afterAll(() => {
    source?.dispose();
    for (const ws of Object.values(runners)) ws.dispose();
    merger?.dispose();
  });

  it.each(PLATFORMS)('the %s runner builds its platform of the affected services only, and touches no tag', async (platform) => {
    const ws = runners[platform]!;
    const r = await ws.nx(['affected', '-t', 'docker-push', ...affected], { env: legEnv(platform) });
    const out = output(r);
    const built = buildLines(out);
    expect(built.map((l) => l.slice(0, l.indexOf(']') + 1)).sort(), out).toEqual(['[app]', '[base]']);
    for (const line of built) expect(line).toContain(`--platform ${platform} `);
    expect(out).not.toMatch(/\[steady\]/);
    const slug = platform.replace('/', '-');
    expect(digestFiles(ws)).toEqual([`app/${slug}.json`, `base/${slug}.json`]);
    for (const project of ['app', 'base']) {
      expect(record(ws, `${project}/${slug}.json`)).toMatchObject({
        project,
        service: project,
        platform,
        repository: `${NS}/${project}`,
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        reused: false,
      });
    }
    // app is built on the base this runner just pushed, by digest: base:1 still names the old base.
    const baseDigest = record(ws, `base/${slug}.json`).digest;
    expect(out).toContain(`[app] ${platform}: builds on ${NS}/base:1 as this runner pushed it: ${NS}/base@${baseDigest}`);
    for (const s of ['base', 'app', 'steady']) expect(await tagDigest(`${NS}/${s}:1`)).toBe(published[s]);
  });

  it('a runner that runs again finds its images in the registry cache: digest files say reused, nothing is built', async () => {
    const ws = runners['linux/amd64']!;
    const before = Object.fromEntries(digestFiles(ws).map((f) => [f, record(ws, f).digest]));
    await ws.nx(['reset']);
    const r = await ws.nx(['affected', '-t', 'docker-push', ...affected], { env: legEnv('linux/amd64') });
    const out = output(r);
    expect(buildLines(out), out).toEqual([]);
    expect(out.match(/registry cache hit/g)).toHaveLength(2);
    for (const [f, digest] of Object.entries(before)) expect(record(ws, f)).toMatchObject({ digest, reused: true });
  });

  it('a merge with one platform missing fails naming it, and changes no tag', async () => {
    cpSync(join(runners['linux/amd64']!.root, DIGESTS), join(merger.root, DIGESTS), { recursive: true });
    const r = await merger.nx(['affected', '-t', 'docker-merge', ...affected], {
      env: { NX_COMPOSE_BUILDX_DIGESTS_DIR: DIGESTS },
      allowFailure: true,
    });
    const out = output(r);
    expect(r.status).not.toBe(0);
    expect(out).toMatch(/\[base\] docker-merge: no digest for linux\/arm64 \(declared linux\/amd64, linux\/arm64; found linux\/amd64/);
    expect(out).toMatch(/\[app\] docker-merge: no digest for linux\/arm64/);
    expect(out).not.toMatch(/imagetools create/);
    for (const s of ['base', 'app', 'steady']) expect(await tagDigest(`${NS}/${s}:1`)).toBe(published[s]);
  });

  it('with both runners’ folders the merge serves one manifest list of both platforms, from their digests', async () => {
    cpSync(join(runners['linux/arm64']!.root, DIGESTS), join(merger.root, DIGESTS), { recursive: true });
    const r = await merger.nx(['affected', '-t', 'docker-merge', ...affected], { env: { NX_COMPOSE_BUILDX_DIGESTS_DIR: DIGESTS } });
    const out = output(r);
    expect(buildLines(out)).toEqual([]);
    expect(out).not.toMatch(/\[steady\]/);
    for (const s of ['base', 'app']) {
      const expected = Object.fromEntries(PLATFORMS.map((p) => [p, record(runners[p]!, `${s}/${p.replace('/', '-')}.json`).digest]));
      expect(await indexDigests(`${NS}/${s}:1`)).toEqual(expected);
      expect(await tagDigest(`${NS}/${s}:1`)).not.toBe(published[s]);
    }
    // steady had no change: skipped on both runners, untouched by the merge.
    expect(await tagDigest(`${NS}/steady:1`)).toBe(published.steady);
    expect(digestFiles(merger).filter((f) => f.startsWith('steady/'))).toEqual([]);
  });

  it('docker-verify passes on the merged digest, and each platform of app holds the new base', async () => {
    const r = await merger.nx(['affected', '-t', 'docker-verify', '--exclude-task-dependencies', ...affected]);
    const out = output(r);
    expect(out).toMatch(/\[base\] checking .* by the digest docker-push recorded/);
    expect(out).toMatch(/\[app\] verified 2 platform\(s\)/);
    expect(out).toMatch(/\[base\] verified 2 platform\(s\)/);
    for (const platform of PLATFORMS) {
      const cat = await run(
        'docker',
        ['run', '--rm', '--network', 'none', '--pull', 'always', '--platform', platform, `${NS}/app:1`, 'cat', '/both.txt'],
        { cwd: merger.root, env: dockerEnv },
      );
      expect(cat.status, cat.stderr).toBe(0);
      expect(cat.stdout).toBe('base v2\napp v2\n');
    }
  });
});
