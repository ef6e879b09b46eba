import type { ProjectGraph } from '@nx/devkit';

/** Where each project carries the hash of its compose definition, for the sync generator. */
export const DEFINITION_HASH_METADATA = 'nxComposeBuildx';

export function definitionHashMetadata(hash: string): Record<string, unknown> {
  return { [DEFINITION_HASH_METADATA]: { definitionHash: hash } };
}

export function definitionHashesFromGraph(graph: ProjectGraph): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const [name, node] of Object.entries(graph.nodes)) {
    const entry = (node.data.metadata as Record<string, { definitionHash?: string }> | undefined)?.[DEFINITION_HASH_METADATA];
    if (entry?.definitionHash) hashes[name] = entry.definitionHash;
  }
  return hashes;
}
