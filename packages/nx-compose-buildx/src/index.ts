/**
 * nx-compose-buildx: compose services with `build:` become Nx projects with
 * multi-arch docker-build, docker-push and docker-verify targets.
 */
export { createNodes, createNodes as createNodesV2 } from './nx/create-nodes';
export type { ComposeBuildxPluginOptions } from './nx/plugin-options';
