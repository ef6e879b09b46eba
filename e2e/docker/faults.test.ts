import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack, BASE_IMAGE, REGISTRY } from '../support/stack';
import { tagDigest } from '../support/registry';
import { createWorkspace, type NxResult, type TempWorkspace } from '../support/workspace';

/**
 * Faults at run time, against the real engine and registry: the registry connection cut in the
 * middle of a push, two workspaces pushing one tag at once, and `docker` missing from PATH.
 *
 * The shared registry on 127.0.0.1:5000 is never stopped: the cut happens in a TCP proxy of this
 * test's own, on another loopback port (dockerd treats 127.0.0.0/8 as insecure, so plain http works).
 */
const RUN_ID = `e2e-faults-${process.pid}-${Date.now().toString(36)}`;
const output = (r: NxResult) => `${r.stdout}\n${r.stderr}`;

/** Forwards to the registry until `cutAfter` bytes went upstream, then drops every connection and stops listening. */
class CuttingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private sent = 0;
  cut = false;
  port = 0;

  constructor(private readonly cutAfter: number) {}

  async start(): Promise<void> {
    const [host, port] = REGISTRY.split(':') as [string, string];
    this.server = createServer((client) => {
      const upstream = connect(Number(port), host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => {
        this.sent += chunk.length;
        if (this.sent > this.cutAfter) this.stop();
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** The registry "dies": open connections reset, new ones refused. */
  stop(): void {
    if (this.cut) return;
    this.cut = true;
    this.server?.close();
    for (const s of this.sockets) s.destroy();
  }
}

describe('faults at run time', () => {
  const proxy = new CuttingProxy(4 * 1024 * 1024);
  let ws: TempWorkspace;
  let bigImage: string;
  let files: Record<string, string>;
  const raceImage = `${REGISTRY}/${RUN_ID}/race:1`;

  beforeAll(async () => {
    const stack = await ensureStack();
    await proxy.start();
    bigImage = `127.0.0.1:${proxy.port}/${RUN_ID}/big:1`;
    files = {
      'compose.yaml': [
        'services:',
        '  big:',
        `    image: ${bigImage}`,
        '    build:',
        '      context: ./big',
        '      network: none',
        '      platforms: [linux/amd64]',
        '  race:',
        `    image: ${raceImage}`,
        '    build:',
        '      context: ./race',
        '      network: none',
        '      platforms: [linux/amd64, linux/arm64]',
        '',
      ].join('\n'),
      // One 24 MB layer of random bytes: the push is well under way when the proxy cuts it at 4 MB.
      'big/Dockerfile': `FROM ${BASE_IMAGE}\nRUN head -c 24000000 /dev/urandom > /big.bin\n`,
      'race/Dockerfile': `FROM ${BASE_IMAGE}\nCOPY who.txt /who.txt\n`,
      'race/who.txt': 'workspace one\n',
    };
    ws = await createWorkspace({ env: stack.env, files });
  });
  afterAll(() => {
    proxy.stop();
    ws?.dispose();
  });

  it('the registry killed in the middle of a push: exit non-zero, no metadata, no success reported', async () => {
    const result = await ws.nx(['run', 'big:docker-push', '--skip-nx-cache', '--output-style=static'], { allowFailure: true });
    const text = output(result);
    expect(proxy.cut, 'the proxy should have cut the push').toBe(true);
    expect(result.status).not.toBe(0);
    expect(text).not.toMatch(/Successfully ran target/);
    expect(text).not.toMatch(/^\[big\] pushed:/m);
    expect(text).toMatch(/\[big\] docker buildx build failed \(exit [1-9]\d*\)/);
    expect(existsSync(join(ws.root, 'dist/docker/big/push-metadata.json'))).toBe(false);
    // nothing left behind by the run either (buildx's per-run metadata file)
    const dir = join(ws.root, 'dist/docker/big');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('two workspaces pushing the same tag at once: a replaced push is reported, the registry holds a confirmed one', async () => {
    const other = await createWorkspace({
      env: (await ensureStack()).env,
      files: { ...files, 'race/who.txt': 'workspace two\n' },
    });
    try {
      const runs = await Promise.all(
        [ws, other].map(async (w) => {
          const r = await w.nx(['run', 'race:docker-push', '--skip-nx-cache', '--output-style=static'], { allowFailure: true });
          const meta = existsSync(join(w.root, 'dist/docker/race/push-metadata.json'))
            ? JSON.parse(w.read('dist/docker/race/push-metadata.json'))
            : undefined;
          return { ok: r.status === 0, text: output(r), meta };
        }),
      );
      const served = await tagDigest(raceImage);
      expect(served).toMatch(/^sha256:[0-9a-f]{64}$/);
      const succeeded = runs.filter((r) => r.ok);
      expect(succeeded.length, runs.map((r) => r.text.slice(-2000)).join('\n----\n')).toBeGreaterThan(0);
      for (const r of succeeded) {
        expect(r.meta).toMatchObject({
          pushed: true,
          manifestDigest: expect.stringMatching(/^sha256:/),
        });
      }
      // The tag serves what one successful run pushed and confirmed.
      expect(succeeded.map((r) => r.meta.manifestDigest)).toContain(served);
      for (const r of runs.filter((x) => !x.ok)) {
        // The loser is told why, and records nothing that could pass for a push.
        expect(r.text).toMatch(/\[race\] push not confirmed:/);
        expect(r.text).toMatch(/another push of the same tag replaced it/);
        expect(r.meta).toBeUndefined();
      }
      // What the outcomes mean. With the docker driver (containerd image store) buildx exports each
      // image to the engine's store under its tag and pushes that name, so two builds of one tag at once
      // can both push, and report, the one that was stored last: both runs then agree with the
      // registry. A run that pushed and confirmed before the other pushed keeps its own digest (the
      // tag moved on later, which no run can prevent). A run whose confirmation sees another digest
      // fails with the conflict, as asserted above.
    } finally {
      other.dispose();
    }
  });

  it('docker missing from PATH: the task fails saying so', async () => {
    // A PATH with node and git (Nx needs them) and no docker.
    const bin = mkdtempSync(join(tmpdir(), 'nxcb-nodocker-'));
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
      symlinkSync('/usr/bin/git', join(bin, 'git'));
      const result = await ws.nx(['run', 'race:docker-build', '--skip-nx-cache', '--output-style=static'], {
        env: { PATH: bin },
        allowFailure: true,
      });
      const text = output(result);
      expect(result.status).not.toBe(0);
      expect(text).toMatch(/\[race\] docker-build: Cannot check the buildx builder: `docker` was not found on PATH/);
      expect(text).toContain(`PATH=${bin}`);
      expect(text).not.toMatch(/Successfully ran target/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
