// The scaffolds' toolchain and runtime base images, made from Debian packages (no Docker Hub
// here) by scripts/toolchain-image.sh: a minimal bookworm rootfs per architecture (mmdebstrap),
// imported and pushed to the local registry, with a manifest list for node and python (they
// install at the target platform). Cached: the script returns at once when the registry has them.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REGISTRY } from '../support/stack';
import { REPO_ROOT } from '../support/workspace';

export type ToolchainKind = 'go' | 'rust' | 'node' | 'python';

export interface ToolchainImages {
  kind: ToolchainKind;
  /** The build stage's image (GO_IMAGE, RUST_IMAGE, NODE_IMAGE, PYTHON_IMAGE). */
  build: string;
  /** The final stage's image (RUNTIME_IMAGE), for node and python. */
  runtime?: string;
  ms: number;
  cached: boolean;
}

const SCRIPT = join(REPO_ROOT, 'scripts/toolchain-image.sh');
/** From nothing, the arm64 rootfs of node and python is made under emulation: allow plenty. */
const TIMEOUT_MS = 45 * 60_000;

export function toolchainRepo(): string {
  return `${REGISTRY}/nxcb`;
}

export function ensureToolchainImages(kind: ToolchainKind, env: NodeJS.ProcessEnv): Promise<ToolchainImages> {
  const t0 = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [SCRIPT, kind], {
      env: { ...env, TOOLCHAIN_REPO: toolchainRepo() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not run scripts/toolchain-image.sh ${kind}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = (key: string) => stdout.match(new RegExp(`^${key}=(\\S+)$`, 'm'))?.[1];
      const build = line('BUILD_IMAGE');
      if (code !== 0 || !build) {
        reject(
          new Error(
            `could not make the ${kind} toolchain image (scripts/toolchain-image.sh ${kind} ${signal ? `killed by ${signal}` : `exited ${code}`}):\n` +
              stderr.trimEnd().split('\n').slice(-30).join('\n'),
          ),
        );
        return;
      }
      resolvePromise({ kind, build, runtime: line('RUNTIME_IMAGE'), ms: Date.now() - t0, cached: /\(cached\)/.test(stderr) });
    });
  });
}
