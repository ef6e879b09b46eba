import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, type TempWorkspace } from '../support/workspace';

/** Issue 15: the stale-lock notice says once what to run, and does not repeat on every command. */
const COMPOSE =
  'services:\n  a:\n    build: ./a\n    image: reg.local/lock-notice/a\n  b:\n    build: ./b\n    image: reg.local/lock-notice/b\n';
const NOTICE = /nx-compose-buildx\.lock\.json is missing or stale for (\d+) service/g;

describe('the stale-lock notice is shown once per lock state', () => {
  let ws: TempWorkspace;
  const notices = async () => {
    const out = await ws.nx(['show', 'projects']);
    return [...`${out.stdout}${out.stderr}`.matchAll(NOTICE)].map((m) => m[0]);
  };

  beforeAll(async () => {
    ws = await createWorkspace({
      files: { 'compose.yaml': COMPOSE, 'a/Dockerfile': 'FROM scratch\nCOPY . /\n', 'b/Dockerfile': 'FROM scratch\nCOPY . /\n' },
    });
  });
  afterAll(() => ws?.dispose());

  it('a current lock gives no notice', async () => {
    expect(await notices()).toEqual([]);
  });

  it('a stale lock is named once, with what to run, then not again', async () => {
    ws.write('compose.yaml', COMPOSE.replace('build: ./a', 'build: { context: ./a, args: { X: "1" } }'));
    const first = await ws.nx(['show', 'projects']);
    const text = `${first.stdout}${first.stderr}`;
    expect([...text.matchAll(NOTICE)]).toHaveLength(1);
    expect(text).toMatch(/stale for 1 service\(s\) \(a\).*Run "nx sync" and commit nx-compose-buildx\.lock\.json/);
    expect(await notices()).toEqual([]);
    expect(await notices()).toEqual([]);
  });

  it('several Nx processes at once show a new state once between them', async () => {
    ws.write('compose.yaml', COMPOSE.replace('build: ./b', 'build: { context: ./b, args: { Y: "1" } }'));
    const all = await Promise.all([notices(), notices(), notices()]);
    expect(all.flat()).toHaveLength(1);
  });

  it('after nx sync the notice is gone; the next stale state is named again', async () => {
    await ws.nx(['sync']);
    expect(await notices()).toEqual([]);
    ws.write('compose.yaml', COMPOSE.replace('reg.local/lock-notice/b', 'reg.local/lock-notice/b2'));
    expect(await notices()).toHaveLength(1);
  });
});
