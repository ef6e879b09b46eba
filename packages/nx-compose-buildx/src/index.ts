/**
 * nx-compose-buildx: compose services with `build:` become Nx projects with
 * multi-arch docker-build, docker-push and docker-verify targets.
 */
import type { PostTasksExecution } from '@nx/devkit';
import type { ComposeBuildxPluginOptions } from './nx/plugin-options';

export { createNodes, createNodes as createNodesV2 } from './nx/plugin';
export type { ComposeBuildxPluginOptions } from './nx/plugin-options';

/** The closing summary table of a run; loaded only when a run ends, never at graph time. */
export const postTasksExecution: PostTasksExecution<ComposeBuildxPluginOptions> = async (options, context) =>
  (await import('./nx/post-tasks-execution.js')).postTasksExecution(options, context);
