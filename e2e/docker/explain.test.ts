import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack } from '../support/stack';
import { indexDigests, listTags, tagDigest } from '../support/registry';
import { createWorkspace, run, type TempWorkspace } from '../support/workspace';

/**
 * docker-explain against the real engine and registry: after a push, an unchanged service is
 * explained as a registry hit; after a commit that edits one arg, a secret-like arg, a source file
 * and a file read through a symlink, `nx affected -t docker-explain --base --head` names each file
 * with the Dockerfile line that reads it, the compose field with its old and new value and the
 * file that sets it, masks the secret-like values, reports the registry miss, and builds nothing;
 * --json parses.
 */
const RUN_ID = `explain-${process.pid}-${Date.now().toString(36)}`;
const NS = `127.0.0.1:5000/${RUN_ID}`;
const BASE = '127.0.0.1:5000/nxcb/busybox:latest';
const OLD_TOKEN = 'tok-old-7f3a91';
const NEW_TOKEN = 'tok-new-c28d04';

const compose = (version: string, token: string) =>
  [
    'services:',
    '  api:',
    `    image: ${NS}/api:1`,
    '    build:',
    '      context: ./api',
    '      network: none',
    '      platforms: [linux/amd64]',
    '      args:',
    `        VERSION: "${version}"`, // line 9
    `        API_TOKEN: "${token}"`, // line 10
    '',
  ].join('\n');

const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
const buildLines = (out: string) => out.split('\n').filter((l) => /^\[[^\]]+\] docker buildx build /.test(l));
const keyTags = async () => (await listTags(`${NS}/api`)).filter((t) => t.startsWith('nxcb-'));

describe('docker-explain', () => {
  let ws: TempWorkspace;

  beforeAll(async () => {
    const stack = await ensureStack();
    ws = await createWorkspace({
      env: stack.env,
      files: {
        'compose.yaml': compose('1.0', OLD_TOKEN),
        'api/Dockerfile': `FROM ${BASE}\nARG VERSION\nCOPY src/ /src/\nRUN echo "$VERSION" > /version\nCOPY conf.txt /conf.txt\n`,
        'api/src/main.sh': 'echo v1\n',
        'api/shared/conf.txt': 'conf v1\n',
        'api/README.md': 'not an input\n',
      },
    });
    symlinkSync('shared/conf.txt', join(ws.root, 'api/conf.txt')); // COPY conf.txt reads the link's target
    await ws.commit('link');
  });
  afterAll(() => ws?.dispose());

  it('after a push, the unchanged service is a registry hit with nothing changed', async () => {
    await ws.nx(['run', 'api:docker-push', '--output-style=static']);
    expect(await keyTags()).toHaveLength(1);
    const out = output(await ws.nx(['run', 'api:docker-explain', '--output-style=static']));
    expect(out).toMatch(/\[api\] {3}nothing the image is built from changed since [0-9a-f]{12}/);
    expect(out).toMatch(
      /\[api\] {3}registry: 127\.0\.0\.1:5000 holds an image with this key \(.*:nxcb-[0-9a-f]{32}, sha256:[0-9a-f]{64}\)/,
    );
  });

  it('nx affected --base --head explains an arg edit, a secret-like arg and a source file, and builds nothing', async () => {
    ws.write('compose.yaml', compose('1.1', NEW_TOKEN));
    ws.write('api/src/main.sh', 'echo v2\n');
    ws.write('api/README.md', 'still not an input\n');
    ws.write('api/shared/conf.txt', 'conf v2\n');
    await ws.commit('bump api');
    const out = output(
      await ws.nx([
        'affected',
        '-t',
        'docker-explain',
        '--base=HEAD~1',
        '--head=HEAD',
        '--exclude-task-dependencies',
        '--output-style=static',
      ]),
    );
    expect(out).toMatch(/\[api\] docker-explain: [0-9a-f]{12} \(HEAD~1\) → [0-9a-f]{12}, platforms linux\/amd64/);
    expect(out).toContain('[api]   file api/src/main.sh: read by api/Dockerfile:3 (COPY src/)');
    expect(out).toContain('[api]   file api/shared/conf.txt: read by api/Dockerfile:5 (COPY conf.txt)');
    expect(out).toContain('[api]   compose build.args.VERSION: "1.0" → "1.1" (set in compose.yaml:9)');
    expect(out).toContain('[api]   compose build.args.API_TOKEN: **** → **** (set in compose.yaml:10)');
    expect(out).not.toMatch(/README\.md: read by/);
    expect(out).toMatch(/\[api\] {3}registry: no image with this key in 127\.0\.0\.1:5000 \(.*:nxcb-[0-9a-f]{32}\)/);
    expect(out).not.toContain(OLD_TOKEN);
    expect(out).not.toContain(NEW_TOKEN);
    // Explaining builds nothing and writes no key.
    expect(buildLines(out), out).toEqual([]);
    expect(await keyTags()).toHaveLength(1);
  });

  it('--json prints one object that parses, with NX_BASE as the base', async () => {
    const r = await ws.nx(['run', 'api:docker-explain', '--json', '--output-style=static'], { env: { NX_BASE: 'HEAD~1' } });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"service":'));
    expect(line, r.stdout).toBeDefined();
    expect(line).not.toContain(OLD_TOKEN);
    expect(line).not.toContain(NEW_TOKEN);
    const json = JSON.parse(line!) as { base: string; head: string; platforms: string[]; reasons: Array<Record<string, unknown>> };
    expect(json.base).toBe('HEAD~1');
    expect(json.head).toBe('working tree');
    expect(json.platforms).toEqual(['linux/amd64']);
    expect(json.reasons).toContainEqual({
      kind: 'file',
      file: 'api/src/main.sh',
      readBy: [{ file: 'api/Dockerfile', line: 3, instruction: 'COPY src/' }],
    });
    expect(json.reasons).toContainEqual({
      kind: 'field',
      field: 'build.args.VERSION',
      old: '"1.0"',
      new: '"1.1"',
      setIn: 'compose.yaml:9',
    });
    expect(json.reasons).toContainEqual({
      kind: 'field',
      field: 'build.args.API_TOKEN',
      old: '****',
      new: '****',
      masked: true,
      setIn: 'compose.yaml:10',
    });
    expect(json.reasons.find((x) => x.kind === 'registry')).toMatchObject({ outcome: 'miss', registry: '127.0.0.1:5000' });
  });
});

/**
 * An external base image (no workspace service builds it) whose tag moves after the push: no file
 * or compose field changed, and docker-explain names the base with the digest its tag points to
 * now and the one the pushed image records (its dev.nx-compose-buildx.bases label).
 */
describe('docker-explain: an external base whose tag moved', () => {
  let ws: TempWorkspace;
  let env: NodeJS.ProcessEnv;
  const EXT = `${NS}/ext-base:1`;
  const imagetools = async (args: string[]) => {
    const r = await run('docker', ['buildx', 'imagetools', 'create', ...args], { cwd: ws.root, env, timeoutMs: 120_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  };

  beforeAll(async () => {
    const stack = await ensureStack();
    env = stack.env;
    ws = await createWorkspace({
      env: stack.env,
      files: {
        'compose.yaml': [
          'services:',
          '  web:',
          `    image: ${NS}/web:1`,
          '    build:',
          '      context: ./web',
          '      network: none',
          '      platforms: [linux/amd64]',
          '',
        ].join('\n'),
        'web/Dockerfile': `FROM ${EXT}\nCOPY index.txt /index.txt\n`,
        'web/index.txt': 'hello\n',
      },
    });
    await imagetools(['--tag', EXT, BASE]);
  });
  afterAll(() => ws?.dispose());

  it('names the base, its digest now and the digest the pushed image was built on', async () => {
    const was = await tagDigest(EXT);
    await ws.nx(['run', 'web:docker-push', '--output-style=static']);
    // Its amd64 image alone under a new index: the tag now points at another digest.
    const amd64 = (await indexDigests(BASE))['linux/amd64'];
    expect(amd64).toBeDefined();
    await imagetools(['--tag', EXT, `${BASE.replace(/:[^:/]+$/, '')}@${amd64}`]);
    const now = await tagDigest(EXT);
    expect(now).not.toBe(was);
    const out = output(await ws.nx(['run', 'web:docker-explain', '--output-style=static']));
    expect(out).toContain(`[web]   base image ${EXT} changed: its tag now points to ${now}; ${NS}/web:1 was built on ${was}`);
    expect(out).toMatch(/\[web\] {3}registry: no image with this key in 127\.0\.0\.1:5000/);
    expect(buildLines(out), out).toEqual([]);
  });
});
