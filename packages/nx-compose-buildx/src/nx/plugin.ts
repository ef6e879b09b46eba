/**
 * The plugin's graph-time entry, loaded by every nx command. A warm graph is answered from the
 * graph cache alone; only a miss loads the compose loader, the Dockerfile parser and the rest of
 * the computation (create-nodes.ts). Executors, generators and execa are never loaded here.
 */
import type { CreateNodes } from '@nx/devkit';
import { optionsKey, readGraphCache } from './graph-cache';
import { logWarnings } from './plugin-warnings';
import type { ComposeBuildxPluginOptions } from './plugin-options';

/** Base compose files; their overrides are found beside them, as Compose does. */
export const COMPOSE_FILE_GLOB = '**/{compose,docker-compose}.{yaml,yml}';

export const createNodes: CreateNodes<ComposeBuildxPluginOptions> = [
  COMPOSE_FILE_GLOB,
  async (configFiles, options, context) => {
    const cacheBase = optionsKey(configFiles, options);
    const cached = await readGraphCache(context.workspaceRoot, cacheBase);
    if (cached) {
      logWarnings(context.workspaceRoot, cached.warnings);
      return cached.results;
    }
    const { computeComposeNodes } = await import('./create-nodes.js');
    return computeComposeNodes(configFiles, options, context, cacheBase);
  },
];
