import { ensureStack } from './stack';

/**
 * Brings up (or finds) the real Docker stack once, in vitest's main process,
 * before any worker starts; workers inherit DOCKER_HOST. It never skips: with
 * no usable engine and no way to start one, the run fails here with the reason.
 */
export default async function setup(): Promise<void> {
  const started = Date.now();
  const stack = await ensureStack();
  process.env.DOCKER_HOST = stack.dockerHost;
  console.log(`e2e: Docker stack ready at ${stack.dockerHost} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
