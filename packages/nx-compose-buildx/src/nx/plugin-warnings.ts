/**
 * The plugin's warnings at graph time: compose errors on every graph computation (as Nx repeats its
 * own), the stale-lock notice once per lock state. Light on purpose: plugin.ts logs a cached
 * graph's warnings without loading the computation.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { warn } from './graph-cache';
import { claimNotice } from './notice-once';
import { SERVICE_LOCK_FILE } from './service-lock-file';

const STALE_LOCK_NOTICE = `nx-compose-buildx: ${SERVICE_LOCK_FILE} is missing or stale`;

export function staleLockNotice(stale: readonly string[]): string {
  const names = `${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', ...' : ''}`;
  return (
    `${STALE_LOCK_NOTICE} for ${stale.length} service(s) (${names}); they watch their compose files whole, ` +
    `so a compose edit selects more than it needs. Run "nx sync" and commit ${SERVICE_LOCK_FILE} ` +
    '(with sync.applyChanges: true, which init sets, task runs sync it for you). ' +
    'Shown once for this lock; "nx sync:check" tells whether it is current.'
  );
}

/**
 * Errors are repeated on every graph computation, as Nx repeats its own. The stale-lock notice is
 * shown once per lock content (claimNotice): Nx computes the graph in several processes per command.
 */
export function logWarnings(root: string, warnings: readonly string[]): void {
  for (const warning of warnings) {
    if (!warning.startsWith(STALE_LOCK_NOTICE)) warn(warning);
    else if (claimNotice(root, warning, readLockText(root) ?? '\0missing')) warn(warning);
  }
}

export function readLockText(root: string): string | undefined {
  const lockPath = join(root, SERVICE_LOCK_FILE);
  return existsSync(lockPath) ? readFileSync(lockPath, 'utf-8') : undefined;
}
