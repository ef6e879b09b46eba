import { createProjectGraphAsync, type Tree } from '@nx/devkit';
import { SERVICE_LOCK_FILE, renderServiceLock } from '../../service-lock';
import { definitionHashesFromGraph } from '../../definition-hash-metadata';

/**
 * `nx sync` generator: rewrites nx-compose-buildx.lock.json from the service
 * definition hashes that the plugin put on each project. Register it in nx.json
 * `sync.globalGenerators` so `nx sync:check` fails CI when the lock is stale.
 */
export async function syncGenerator(tree: Tree): Promise<{ outOfSyncMessage?: string }> {
  const graph = await createProjectGraphAsync();
  const hashes = definitionHashesFromGraph(graph);
  const next = renderServiceLock(hashes);
  const current = tree.exists(SERVICE_LOCK_FILE) ? tree.read(SERVICE_LOCK_FILE, 'utf-8') : undefined;
  if (current === next) return {};
  tree.write(SERVICE_LOCK_FILE, next);
  return {
    outOfSyncMessage: `${SERVICE_LOCK_FILE} does not match the compose service definitions; run "nx sync" and commit it.`,
  };
}

export default syncGenerator;
