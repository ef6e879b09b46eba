import type { ExecutorContext } from '@nx/devkit';
import { defaultDeps, type ExecutorDeps } from '../shared/deps';
import { runBuildBatch, type BatchTaskGraph, type BatchTaskResult } from '../shared/run-batch';
import { runBuildExecutor } from '../shared/run-build';
import type { DockerPushExecutorSchema } from './schema';

/**
 * docker-push: builds and pushes one manifest list under all tags (`--push`), then reads every tag
 * back with `docker buildx imagetools inspect --raw` and succeeds only when each declared platform is
 * there (and all tags serve the same content). Writes the metadata JSON with the digests it read.
 */
export async function dockerPush(
  options: DockerPushExecutorSchema,
  context: ExecutorContext,
  deps: ExecutorDeps = defaultDeps(),
): Promise<{ success: boolean }> {
  return runBuildExecutor('push', options, context, deps);
}

export default async function dockerPushExecutor(
  options: DockerPushExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  return dockerPush(options, context);
}

/** Nx batch mode (`preferBatch` in executors.json): all docker-push tasks of a run in one process. */
export function dockerPushBatch(
  taskGraph: BatchTaskGraph,
  inputs: Record<string, DockerPushExecutorSchema>,
  _overrides: unknown,
  context: ExecutorContext,
): AsyncGenerator<BatchTaskResult> {
  return runBuildBatch('push', taskGraph, inputs, context);
}
