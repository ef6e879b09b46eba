import type { ProjectGraph } from '@nx/devkit';

/** Where each project carries the hash of its compose definition, for the sync generator. */
export const DEFINITION_HASH_METADATA = 'nxComposeBuildx';

/** `platformHashes`: lock name (`<project>@<platform-slug>`) → hash, for a service built per platform. */
export function definitionHashMetadata(hash: string, platformHashes?: Record<string, string>): Record<string, unknown> {
  return { [DEFINITION_HASH_METADATA]: { definitionHash: hash, ...(platformHashes ? { platformHashes } : {}) } };
}

export function definitionHashesFromGraph(graph: ProjectGraph): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const [name, node] of Object.entries(graph.nodes)) {
    const entry = (
      node.data.metadata as Record<string, { definitionHash?: string; platformHashes?: Record<string, string> }> | undefined
    )?.[DEFINITION_HASH_METADATA];
    if (entry?.definitionHash) hashes[name] = entry.definitionHash;
    Object.assign(hashes, entry?.platformHashes ?? {});
  }
  return hashes;
}
