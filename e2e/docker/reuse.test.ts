import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack } from '../support/stack';
import { deleteImage, indexDigests, listTags, tagDigest } from '../support/registry';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';

/**
 * The registry as the cache, against the real engine and registry: a fresh runner (no Nx cache,
 * a pruned builder, no local images) pushing unchanged services builds nothing and keeps every
 * digest; a change to one platform's arg builds that platform alone; an image deleted from the
 * registry is built again at a later commit on a pruned builder and gets the very same digest
 * (rewrite-timestamp, SOURCE_DATE_EPOCH from the inputs' last commit); a read-only (pull-request)
 * run writes no key.
 */
const RUN_ID = `reuse-${process.pid}-${Date.now().toString(36)}`;
const NS = `127.0.0.1:5000/${RUN_ID}`;
const BASE = '127.0.0.1:5000/nxcb/busybox:latest';

const compose = (arm64Flavour: string) =>
  [
    'services:',
    '  plain:',
    `    image: ${NS}/plain:1`,
    '    build:',
    '      context: ./plain',
    '      network: none',
    '      platforms: [linux/amd64, linux/arm64]',
    '  multi:',
    `    image: ${NS}/multi:1`,
    '    build:',
    '      context: ./multi',
    '      network: none',
    '      platforms: [linux/amd64, linux/arm64]',
    '    x-nx-buildx:',
    '      platformArgs:',
    '        linux/amd64: { FLAVOUR: simd }',
    `        linux/arm64: { FLAVOUR: ${arm64Flavour} }`,
    '',
  ].join('\n');

/** The `docker buildx build` commands a run's executors report (they log each before running it). */
const buildxLines = (out: string) => out.split('\n').filter((l) => /^\[[^\]]+\] docker buildx build /.test(l));
/** The builds proper: a content-stable build writes an OCI layout; a republish (a FROM of it, no RUN) loads or pushes it when nothing else can. */
const buildLines = (out: string) => buildxLines(out).filter((l) => !l.includes('nxcb-image='));
const republishLines = (out: string) => buildxLines(out).filter((l) => l.includes('nxcb-image='));
/** A push of the built layout as it is, through the registry API (run/layout-push.ts). */
const layoutPushLines = (out: string) =>
  out.split('\n').filter((l) => /^\[[^\]]+\] pushing the built OCI layout under .* through the registry API$/.test(l));

/** The load of a pushed layout into the engine's image store (run-build.ts loadPushedLayout). */
const loadLines = (out: string) => out.split('\n').filter((l) => /^\[[^\]]+\] docker load < .*for this engine's image store\)$/.test(l));

describe('docker-push with the registry as the cache', () => {
  let ws: TempWorkspace;
  let dockerEnv: NodeJS.ProcessEnv;
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
  const docker = (args: string[]) => run('docker', args, { cwd: ws.root, env: dockerEnv });
  /**
   * A checkout writes every file anew, after the commit it checks out: new file times, all newer
   * than SOURCE_DATE_EPOCH, which rewrite-timestamp then clamps. (A file older than the epoch keeps
   * its own time: see README "Reproducible digests".)
   */
  const checkOut = () => {
    const later = new Date(Date.now() + 2000);
    for (const dir of ['plain', 'multi']) for (const f of readdirSync(join(ws.root, dir))) utimesSync(join(ws.root, dir, f), later, later);
  };
  /** What a fresh CI runner has: a new checkout, no Nx cache, an empty builder cache, no local images. */
  const freshRunner = async () => {
    checkOut();
    await ws.nx(['reset']);
    expect((await docker(['buildx', 'prune', '-af'])).status).toBe(0);
    const images = await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
    const ours = images.stdout.split('\n').filter((i) => i.startsWith(`${NS}/`));
    if (ours.length) expect((await docker(['image', 'rm', '-f', ...ours])).status).toBe(0);
  };

  beforeAll(async () => {
    const stack = await ensureStack();
    dockerEnv = { ...process.env, ...stack.env };
    ws = await createWorkspace({
      env: stack.env,
      files: {
        'compose.yaml': compose('neon'),
        'plain/Dockerfile': `FROM ${BASE}\nCOPY app.txt /app.txt\nRUN cat /app.txt > /copy.txt\n`,
        'plain/app.txt': 'plain v1\n',
        'multi/Dockerfile': `FROM ${BASE}\nARG FLAVOUR\nCOPY app.txt /app.txt\nRUN echo "$FLAVOUR" > /flavour.txt\n`,
        'multi/app.txt': 'multi v1\n',
      },
    });
    checkOut();
  });
  afterAll(() => ws?.dispose());

  let before: { plain: string; multi: Record<string, string> };
  /** plain's build command in the first push, with the per-run file names left out. */
  let plainBuild: string;
  const sameRun = (line: string) => line.replace(/\.(oci|buildx)-[0-9]+-[0-9]+-/g, '.$1-<run>-');

  it('the first push builds everything and writes one key per image', async () => {
    const r = await ws.nx(['run-many', '-t', 'docker-push', '--output-style=static']);
    const out = output(r);
    expect(buildLines(out)).toHaveLength(3); // plain, multi amd64, multi arm64
    for (const line of buildLines(out)) expect(line).toContain('rewrite-timestamp=true');
    // each layout is pushed as it is through the registry API, and on the stack's docker driver also
    // loaded into the engine's image store, as its exporter would (build-plan.ts loadPushed): no republish
    expect(republishLines(out)).toEqual([]);
    expect(layoutPushLines(out)).toHaveLength(3);
    expect(loadLines(out)).toHaveLength(3);
    plainBuild = sameRun(buildLines(out).find((l) => l.startsWith('[plain]'))!);
    expect(out).toMatch(/registry cache miss: .*no image with this key/);
    before = { plain: (await tagDigest(`${NS}/plain:1`))!, multi: await indexDigests(`${NS}/multi:1`) };
    expect(before.plain).toMatch(/^sha256:/);
    expect((await listTags(`${NS}/plain`)).filter((t) => t.startsWith('nxcb-'))).toHaveLength(1);
    expect((await listTags(`${NS}/multi`)).filter((t) => t.startsWith('nxcb-'))).toHaveLength(2);
  });

  it('a fresh runner pushing the unchanged services builds nothing, and every digest stays', async () => {
    await freshRunner();
    const r = await ws.nx(['run-many', '-t', 'docker-push', '--output-style=static']);
    const out = output(r);
    expect(buildLines(out), out).toEqual([]);
    expect(out.match(/registry cache hit/g)).toHaveLength(3);
    // The lookups and plain's retag went to the registry API in-process (run/registry-http.ts), not
    // to a docker CLI process each; nothing had to fall back to the CLI.
    expect(out).toMatch(/\[plain\] tagging \S+@sha256:[0-9a-f]{64} as \S+ \(the same index under each tag, through the registry API\)/);
    expect(out).not.toMatch(/registry API: .*asking docker buildx imagetools instead/);
    expect(out).toMatch(/plain\s+linux\/amd64\s+[0-9a-f]{12}\s+\S+ \S+\s+reused/);
    expect(out).toMatch(/multi\s+linux\/arm64\s+[0-9a-f]{12}\s+\S+ \S+\s+reused/);
    expect(await tagDigest(`${NS}/plain:1`)).toBe(before.plain);
    expect(await indexDigests(`${NS}/multi:1`)).toEqual(before.multi);
  });

  it("a change to one platform's arg builds that platform alone; the other keeps its digest", async () => {
    ws.write('compose.yaml', compose('sve'));
    await ws.commit('arm64 flavour');
    await freshRunner();
    const r = await ws.nx(['affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD', '--output-style=static']);
    const out = output(r);
    const built = buildLines(out);
    expect(built, out).toHaveLength(1);
    expect(built[0]).toMatch(/^\[multi\] .*--platform linux\/arm64 /);
    const after = await indexDigests(`${NS}/multi:1`);
    expect(after['linux/amd64']).toBe(before.multi['linux/amd64']);
    expect(after['linux/arm64']).not.toBe(before.multi['linux/arm64']);
  });

  it('an image deleted from the registry is built again at a later commit, on a pruned builder, with the same digest', async () => {
    // Key tag and image go together (one index); plain's inputs are unchanged since the first commit.
    await deleteImage(`${NS}/plain:1`);
    expect(await tagDigest(`${NS}/plain:1`)).toBeUndefined();
    await freshRunner();
    const first = (await ws.git(['rev-list', '--max-parents=0', 'HEAD'])).trim();
    expect((await ws.git(['rev-parse', 'HEAD'])).trim()).not.toBe(first);
    const r = await ws.nx(['run', 'plain:docker-push', '--output-style=static']);
    const out = output(r);
    expect(buildLines(out), out).toHaveLength(1); // the RUN step ran again: nothing came from a cache
    expect(sameRun(buildLines(out)[0]!)).toBe(plainBuild); // the same epoch, labels and key as at the first commit
    expect(out).toMatch(/\[plain\] registry cache miss: .*no image with this key/);
    expect(out).toContain(`[plain] SOURCE_DATE_EPOCH=`);
    expect(out).toMatch(new RegExp(`\\[plain\\] SOURCE_DATE_EPOCH=\\d+: ${first.slice(0, 12)}, the last commit that changed its inputs`));
    expect(await tagDigest(`${NS}/plain:1`)).toBe(before.plain);
  });

  it('docker-build, asked to reuse, loads the registry image on a fresh runner: no build, the same per-platform digests', async () => {
    await freshRunner();
    const r = await ws.nx(['run', 'plain:docker-build', '--reuse=true', '--output-style=static']);
    const out = output(r);
    expect(out).toMatch(/\[plain\] registry cache hit: .*loading it, building nothing/);
    expect(buildLines(out), out).toEqual([]);
    expect(republishLines(out)).toHaveLength(1);
    expect(republishLines(out)[0]).toMatch(/--build-context nxcb-image=docker-image:\/\/\S+@sha256:[0-9a-f]{64} .*--load /);
    const metadata = JSON.parse(ws.read('dist/docker/plain/metadata.json'));
    expect(metadata).toMatchObject({ reused: true, loaded: true });
    const registry = await indexDigests(`${NS}/plain:1`);
    expect(Object.fromEntries(Object.entries(metadata.platforms).map(([p, v]) => [p, (v as { digest: string }).digest]))).toEqual(registry);
    expect((await docker(['image', 'inspect', `${NS}/plain:1`])).status).toBe(0);
  });

  it('a read-only (pull-request) run reads keys but writes none', async () => {
    ws.write('plain/app.txt', 'plain v2\n');
    await ws.commit('plain v2');
    const keysBefore = (await listTags(`${NS}/plain`)).filter((t) => t.startsWith('nxcb-'));
    const r = await ws.nx(['affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD', '--output-style=static'], {
      env: { NX_COMPOSE_BUILDX_CACHE_READONLY: 'true' },
    });
    const out = output(r);
    expect(out).toMatch(/\[plain\] registry cache miss/);
    expect(buildLines(out).filter((l) => l.startsWith('[plain]'))).toHaveLength(1);
    expect(buildxLines(out).join('\n')).not.toContain(':nxcb-');
    expect((await listTags(`${NS}/plain`)).filter((t) => t.startsWith('nxcb-'))).toEqual(keysBefore);
  });
});
