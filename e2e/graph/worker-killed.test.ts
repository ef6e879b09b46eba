/**
 * Issue 11, bounded work: "the plugin worker keeps running after `nx` is killed and ignores
 * SIGTERM". Nx runs each plugin in a worker of its own process group (spawned detached), which
 * exits on SIGTERM or when nx's socket closes; both need the worker's event loop. createNodes is
 * synchronous work, so the plugin yields to the event loop between compose projects and every 25
 * services (create-nodes.ts, yieldToEventLoop). Without those yields the worker below holds its
 * loop for the whole graph (tens of CPU seconds) and outlives the killed nx by as long.
 *
 * Real `nx show projects` on a workspace whose graph is busy: 200 compose projects of 50 services
 * each (no cache yet). Once the worker has spent a few CPU seconds (it is inside createNodes,
 * loading compose projects), nx gets SIGTERM, then SIGKILL of its own pid alone (never the
 * worker's group). Then no process of this workspace's plugin worker may remain.
 *
 * It can fail, and did: with yieldToEventLoop made a no-op in the built create-nodes.js, the worker
 * was still computing 20 s after nx died (10.8 CPU s spent; the whole graph needs about a minute
 * of CPU, and a process's wall time is never shorter than its CPU time). With the yields it exits
 * at the next compose project.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, nxEnv } from '../support/workspace';

const STACKS = 200;
const SERVICES_PER_STACK = 50;
/** CPU time the worker must have spent before nx is killed: its modules are loaded by then, and it is in createNodes. */
const BUSY_CPU_SECONDS = 4;
/** How long the worker may take to notice (the next yield); uncapped, it would need the rest of the graph. */
const WAIT_MS = 20_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function busyWorkspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'nxcb-killed-'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  writeFileSync(join(root, 'nx.json'), JSON.stringify({ plugins: ['nx-compose-buildx'] }));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'killed-ws', private: true }));
  for (let k = 0; k < STACKS; k++) {
    const dir = join(root, `stack${k}`);
    mkdirSync(dir, { recursive: true });
    const lines = ['x-args: &args', ...Array.from({ length: 40 }, (_, i) => `  A${i}: "v${i}"`), 'services:'];
    for (let s = 0; s < SERVICES_PER_STACK; s++)
      lines.push(`  s${k}-${s}:`, `    image: reg.local/killed/s${k}-${s}`, '    build:', '      context: .', '      args: *args');
    writeFileSync(join(dir, 'compose.yaml'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY . /x\n');
  }
  return root;
}

/** Pids of Nx plugin workers started for this workspace (their argv ends with the workspace root). */
function pluginWorkers(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf-8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (argv.some((a) => a.includes('plugin-worker')) && argv.includes(root)) pids.push(Number(entry));
  }
  return pids;
}

/** User + system CPU seconds of a process (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf-8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

describe('a killed nx leaves no plugin worker behind', () => {
  const root = busyWorkspace();
  afterAll(() => {
    // A worker left behind by a failing run is this test's own process: end it, by pid.
    for (const pid of pluginWorkers(root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('SIGTERM then SIGKILL of nx while createNodes is busy: the worker exits', async () => {
    const nx = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], {
      cwd: root,
      env: nxEnv({ NX_ISOLATE_PLUGINS: 'true' }),
      stdio: 'ignore',
    });
    const nxExited = new Promise<void>((resolve) => nx.once('exit', () => resolve()));
    let finished = false;
    void nxExited.then(() => (finished = true));

    // Wait (as long as the test's timeout allows) for the worker to be busy in createNodes.
    let workers: number[] = [];
    while (!finished) {
      workers = pluginWorkers(root);
      if (workers.some((pid) => cpuSeconds(pid) >= BUSY_CPU_SECONDS)) break;
      await sleep(100);
    }
    // nx must still be waiting for the graph: had it finished, nothing busy was killed and this test would prove nothing.
    expect(finished).toBe(false);
    expect(workers.length).toBeGreaterThan(0);

    nx.kill('SIGTERM');
    await Promise.race([nxExited, sleep(2_000)]);
    if (!finished) nx.kill('SIGKILL');
    await nxExited;

    const deadline = Date.now() + WAIT_MS;
    let left = pluginWorkers(root);
    while (left.length && Date.now() < deadline) {
      await sleep(200);
      left = pluginWorkers(root);
    }
    expect(left.map((pid) => ({ pid, cpuSeconds: cpuSeconds(pid) }))).toEqual([]);
  });
});
