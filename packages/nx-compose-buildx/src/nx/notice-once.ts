import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceDataDirectory } from './graph-cache';

/**
 * A notice the user needs to read once, not on every Nx command: the same text for the same
 * state (e.g. the lock's content) is shown by the first process that gets to it. Nx computes the
 * graph in several processes (the CLI, plugin workers, the sync generator's own graph), so the
 * claim is an exclusive file create, which exactly one of them wins. A new state (another text,
 * another lock) claims afresh and clears the old claims.
 *
 * Under the Nx daemon a plugin's output goes to the daemon's log, which nobody reads: nothing is
 * claimed there, so the next command run without the daemon still shows the notice.
 */
export function claimNotice(workspaceRoot: string, text: string, state: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NX_DAEMON_PROCESS === 'true') return false;
  const dir = join(workspaceDataDirectory(workspaceRoot), 'nx-compose-buildx-notices');
  const name = createHash('sha256').update(text).update('\0').update(state).digest('hex').slice(0, 32);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), '', { flag: 'wx' });
  } catch (e) {
    // Already claimed: stay quiet. Any other failure (read-only disk): better said twice than never.
    return (e as NodeJS.ErrnoException).code !== 'EEXIST';
  }
  try {
    for (const other of readdirSync(dir)) if (other !== name) rmSync(join(dir, other), { force: true });
  } catch {
    // Old claims only cost a few bytes.
  }
  return true;
}
