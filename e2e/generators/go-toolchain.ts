// A Go toolchain image for the build platform, made from Debian packages (no Docker Hub here):
// scripts/go-toolchain-image.sh debootstraps a minimal bookworm rootfs with golang-go, imports it
// and pushes it to the local registry. Cached: the script returns at once when the registry has it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REGISTRY } from '../support/stack';
import { REPO_ROOT } from '../support/workspace';

export const GO_TOOLCHAIN_IMAGE = `${REGISTRY}/nxcb/golang:bookworm`;

export function ensureGoToolchainImage(env: NodeJS.ProcessEnv): { image: string; ms: number; cached: boolean } {
  const t0 = Date.now();
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts/go-toolchain-image.sh'), GO_TOOLCHAIN_IMAGE], {
    env,
    encoding: 'utf-8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `could not make the Go toolchain image ${GO_TOOLCHAIN_IMAGE} (scripts/go-toolchain-image.sh ${r.error ? r.error.message : `exited ${r.status}`}):\n` +
        (r.stderr ?? '').trimEnd().split('\n').slice(-30).join('\n'),
    );
  }
  return { image: GO_TOOLCHAIN_IMAGE, ms: Date.now() - t0, cached: /\(cached\)/.test(r.stderr ?? '') };
}
