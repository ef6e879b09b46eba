import type { ExecutorContext } from '@nx/devkit';
import { defaultDeps, type ExecutorDeps } from '../shared/deps';
import { runBuildBatch, type BatchTaskGraph, type BatchTaskResult } from '../shared/run-batch';
import { runBuildExecutor } from '../shared/run-build';
import type { DockerBuildExecutorSchema } from './schema';

/**
 * docker-build: builds every platform of the service, pushes nothing. One platform is `--load`ed;
 * several are `--load`ed too on the docker driver with the containerd image store (it keeps the whole
 * manifest list, so docker-verify and `FROM <other service>` work locally), and stay in the builder
 * cache on drivers that cannot load a manifest list. Writes the metadata JSON with per-platform digests.
 */
export async function dockerBuild(
  options: DockerBuildExecutorSchema,
  context: ExecutorContext,
  deps: ExecutorDeps = defaultDeps(),
): Promise<{ success: boolean }> {
  return runBuildExecutor('build', options, context, deps);
}

export default async function dockerBuildExecutor(
  options: DockerBuildExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  return dockerBuild(options, context);
}

/** Nx batch mode (`preferBatch` in executors.json): all docker-build tasks of a run in one process. */
export function dockerBuildBatch(
  taskGraph: BatchTaskGraph,
  inputs: Record<string, DockerBuildExecutorSchema>,
  _overrides: unknown,
  context: ExecutorContext,
): AsyncGenerator<BatchTaskResult> {
  return runBuildBatch('build', taskGraph, inputs, context);
}
