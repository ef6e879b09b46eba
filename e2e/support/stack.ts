// The real Docker build stack for the e2e suites: a Docker Engine with the
// containerd image store, buildx, QEMU binfmt entries, a registry on
// 127.0.0.1:5000 and a 5-platform base image in it. scripts/local-stack.sh sets
// it all up from nothing; this module decides whether an engine the caller
// already points at is good enough, and otherwise runs that script.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REGISTRY = '127.0.0.1:5000';
export const BASE_IMAGE = `${REGISTRY}/nxcb/busybox:latest`;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const STACK_SCRIPT = join(REPO_ROOT, 'scripts/local-stack.sh');

/** Cold setup downloads packages and builds the base image: allow plenty. */
const UP_TIMEOUT_MS = 20 * 60_000;
const CHECK_TIMEOUT_MS = 60_000;

export interface Stack {
  dockerHost: string;
  /** process.env with DOCKER_HOST pointing at the stack (DOCKER_CONTEXT removed). */
  env: NodeJS.ProcessEnv;
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

function runSync(file: string, args: string[], env: NodeJS.ProcessEnv, timeout: number): Ran {
  const r = spawnSync(file, args, {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf-8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function envFor(dockerHost: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DOCKER_CONTEXT;
  if (dockerHost) env.DOCKER_HOST = dockerHost;
  return env;
}

/** Why the engine behind env is not usable for the e2e suites, or undefined if it is. */
function unusableReason(env: NodeJS.ProcessEnv): string | undefined {
  const checks: Array<[string, string[]]> = [
    ['docker engine', ['info', '--format', '{{.ServerVersion}}']],
    ['docker buildx', ['buildx', 'version']],
    [`base image ${BASE_IMAGE}`, ['buildx', 'imagetools', 'inspect', BASE_IMAGE]],
  ];
  for (const [what, args] of checks) {
    const r = runSync('docker', args, env, CHECK_TIMEOUT_MS);
    if (r.error || r.status !== 0) {
      return `${what}: \`docker ${args.join(' ')}\` failed: ${r.error?.message ?? tail(r.stderr || r.stdout, 5)}`;
    }
  }
  return undefined;
}

function startLocalStack(): Stack {
  const r = runSync('bash', [STACK_SCRIPT, 'up'], { ...process.env }, UP_TIMEOUT_MS);
  if (r.error || r.status !== 0) {
    throw new Error(
      `could not bring up the local Docker stack (\`bash ${STACK_SCRIPT} up\` ` +
        `${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`}).\n` +
        `It needs root on Debian 12 with Debian's package archive reachable.\n` +
        `--- stderr (tail) ---\n${tail(r.stderr)}\n--- stdout (tail) ---\n${tail(r.stdout, 5)}`,
    );
  }
  const line = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('DOCKER_HOST='))
    .pop();
  if (!line) {
    throw new Error(`\`bash ${STACK_SCRIPT} up\` printed no DOCKER_HOST= line.\n--- stdout ---\n${tail(r.stdout)}`);
  }
  const dockerHost = line.slice('DOCKER_HOST='.length);
  const env = envFor(dockerHost);
  const reason = unusableReason(env);
  if (reason) throw new Error(`the local stack at ${dockerHost} is up but not usable: ${reason}`);
  return { dockerHost, env };
}

let cached: Stack | undefined;

/**
 * A usable engine for the docker e2e suites. Order:
 *  1. NXCB_USE_EXISTING_ENGINE=1: the engine the environment points at, which must be usable;
 *  2. DOCKER_HOST already set and usable (engine up, buildx, base image in the registry);
 *  3. otherwise `bash scripts/local-stack.sh up` (idempotent; fast when already up).
 * Throws with the reason when none works: the suites must fail, never skip.
 */
export async function ensureStack(): Promise<Stack> {
  if (cached) return cached;
  if (process.env.NXCB_USE_EXISTING_ENGINE === '1') {
    const env = envFor(undefined);
    const reason = unusableReason(env);
    if (reason) {
      throw new Error(
        `NXCB_USE_EXISTING_ENGINE=1 but the engine at DOCKER_HOST=${env.DOCKER_HOST ?? '(default)'} is not usable: ${reason}`,
      );
    }
    cached = { dockerHost: env.DOCKER_HOST ?? 'unix:///var/run/docker.sock', env };
    return cached;
  }
  const existing = process.env.DOCKER_HOST;
  if (existing) {
    const env = envFor(existing);
    if (!unusableReason(env)) {
      cached = { dockerHost: existing, env };
      return cached;
    }
  }
  cached = startLocalStack();
  return cached;
}

function registryCommand(command: 'registry-stop' | 'registry-start'): void {
  const r = runSync('bash', [STACK_SCRIPT, command], { ...process.env }, CHECK_TIMEOUT_MS);
  if (r.error || r.status !== 0) {
    throw new Error(
      `\`bash ${STACK_SCRIPT} ${command}\` ${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`}\n${tail(r.stderr)}`,
    );
  }
}

/** Stops the local registry on 127.0.0.1:5000 (to test push failures). */
export function stopRegistry(): void {
  registryCommand('registry-stop');
}

/** Starts the local registry again; returns once it answers. */
export function startRegistry(): void {
  registryCommand('registry-start');
}
