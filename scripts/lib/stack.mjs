// The real Docker build stack that the e2e suites, `npm run demo` and `npm run bench` run on: a
// Docker Engine with the containerd image store, buildx, QEMU binfmt entries, a registry on
// 127.0.0.1:5000 and a 5-platform base image in it. scripts/local-stack.sh sets it all up from
// nothing; this module decides whether the engine the caller already points at is good enough,
// and otherwise runs that script. The one place that knows how; e2e/support/stack.ts re-exports it.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REGISTRY = '127.0.0.1:5000';
export const BASE_IMAGE = `${REGISTRY}/nxcb/busybox:latest`;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const STACK_SCRIPT = join(REPO_ROOT, 'scripts/local-stack.sh');

/** Cold setup downloads packages and builds the base image: allow plenty. */
const UP_TIMEOUT_MS = 20 * 60_000;
const CHECK_TIMEOUT_MS = 60_000;

/**
 * @typedef {{ dockerHost: string, env: NodeJS.ProcessEnv }} Stack
 *   `env` is process.env with DOCKER_HOST pointing at the stack (DOCKER_CONTEXT removed).
 * @typedef {{ log?: (line: string) => void, progress?: boolean }} StackOptions
 *   `log`: what it decided, one line each; `progress`: show local-stack.sh's progress (its stderr).
 */

/**
 * Runs file + argv (never a shell), stdout captured; stderr captured unless `inheritStderr`.
 * Asynchronous on purpose: a test worker that waits on a synchronous spawn cannot answer vitest
 * ("Timeout calling onTaskUpdate" on a busy machine).
 * @returns {Promise<{ status: number | null, stdout: string, stderr: string, error?: Error }>}
 */
function runAsync(file, args, env, timeout, inheritStderr = false) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', inheritStderr ? 'inherit' : 'pipe'] });
    let stdout = '';
    let stderr = '';
    let error;
    child.stdout?.setEncoding('utf-8').on('data', (d) => (stdout += d));
    child.stderr?.setEncoding('utf-8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      error = new Error(`timed out after ${timeout / 1000} s`);
      child.kill('SIGKILL');
    }, timeout);
    child.on('error', (e) => (error = e));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ...(error ? { error } : {}) });
    });
  });
}

function tail(text, lines = 30) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** process.env for the engine at `dockerHost` (or as the environment has it), without DOCKER_CONTEXT. */
export function dockerEnv(dockerHost) {
  const env = { ...process.env };
  delete env.DOCKER_CONTEXT;
  if (dockerHost) env.DOCKER_HOST = dockerHost;
  return env;
}

/** Why the engine behind env cannot run builds here, or undefined if it can. */
export async function unusableReason(env) {
  const checks = [
    ['docker engine', ['info', '--format', '{{.ServerVersion}}']],
    ['docker buildx', ['buildx', 'version']],
    [`base image ${BASE_IMAGE}`, ['buildx', 'imagetools', 'inspect', BASE_IMAGE]],
  ];
  for (const [what, args] of checks) {
    const r = await runAsync('docker', args, env, CHECK_TIMEOUT_MS);
    if (r.error || r.status !== 0) {
      return `${what}: \`docker ${args.join(' ')}\` failed: ${r.error?.message ?? tail(r.stderr || r.stdout, 5)}`;
    }
  }
  return undefined;
}

/** The DOCKER_HOST that `local-stack.sh up` printed (its last `DOCKER_HOST=` line), or undefined. */
export function dockerHostFromStackOutput(stdout) {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('DOCKER_HOST='))
    .pop();
  return line?.slice('DOCKER_HOST='.length) || undefined;
}

async function startLocalStack(progress) {
  const r = await runAsync('bash', [STACK_SCRIPT, 'up'], { ...process.env }, UP_TIMEOUT_MS, progress);
  if (r.error || r.status !== 0) {
    throw new Error(
      `could not bring up the local Docker stack (\`bash ${STACK_SCRIPT} up\` ` +
        `${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`}).\n` +
        `It needs root on Debian 12 with Debian's package archive reachable.\n` +
        (progress ? '' : `--- stderr (tail) ---\n${tail(r.stderr)}\n`) +
        `--- stdout (tail) ---\n${tail(r.stdout, 5)}`,
    );
  }
  const dockerHost = dockerHostFromStackOutput(r.stdout);
  if (!dockerHost) throw new Error(`\`bash ${STACK_SCRIPT} up\` printed no DOCKER_HOST= line.\n--- stdout ---\n${tail(r.stdout)}`);
  const env = dockerEnv(dockerHost);
  const reason = await unusableReason(env);
  if (reason) throw new Error(`the local stack at ${dockerHost} is up but not usable: ${reason}`);
  return { dockerHost, env };
}

/** @type {Stack | undefined} */
let cached;

/**
 * A usable engine. Order:
 *  1. NXCB_USE_EXISTING_ENGINE=1: the engine the environment points at, which must be usable;
 *  2. DOCKER_HOST already set and usable (engine up, buildx, base image in the registry);
 *  3. otherwise `bash scripts/local-stack.sh up` (idempotent; fast when already up).
 * Throws with the reason when none works: callers fail, never skip.
 * @param {StackOptions} [options]
 * @returns {Promise<Stack>}
 */
export async function ensureStack({ log = () => {}, progress = false } = {}) {
  if (cached) return cached;
  if (process.env.NXCB_USE_EXISTING_ENGINE === '1') {
    const env = dockerEnv(undefined);
    const reason = await unusableReason(env);
    if (reason) {
      throw new Error(
        `NXCB_USE_EXISTING_ENGINE=1 but the engine at DOCKER_HOST=${env.DOCKER_HOST ?? '(default)'} is not usable: ${reason}`,
      );
    }
    log(`using the existing engine at DOCKER_HOST=${env.DOCKER_HOST ?? '(default)'}`);
    cached = { dockerHost: env.DOCKER_HOST ?? 'unix:///var/run/docker.sock', env };
    return cached;
  }
  const existing = process.env.DOCKER_HOST;
  if (existing) {
    const env = dockerEnv(existing);
    const reason = await unusableReason(env);
    if (!reason) {
      log(`using the existing engine at DOCKER_HOST=${existing}`);
      cached = { dockerHost: existing, env };
      return cached;
    }
    log(`DOCKER_HOST=${existing} is not usable (${reason.split('\n')[0]}); starting the local stack instead`);
  }
  log(`bash ${STACK_SCRIPT} up${progress ? '   (progress below; first run installs and builds, ~1 min)' : ''}`);
  cached = await startLocalStack(progress);
  log(`stack up: DOCKER_HOST=${cached.dockerHost}`);
  return cached;
}

/**
 * A second engine of the stack's binaries with its own image store and BuildKit cache
 * (`local-stack.sh engine-up NAME`), same registry and QEMU: for work that prunes its builder
 * (the benchmarks) without clearing the cache everyone else's builds use. The docker driver allows
 * one builder per engine, so a private builder means a private engine. Brings the main stack up
 * first. Idempotent; the engine keeps running (stop it with `local-stack.sh engine-down NAME`).
 * @param {string} name [a-z0-9-]
 * @param {StackOptions} [options]
 * @returns {Promise<Stack>}
 */
export async function ensureEngine(name, { log = () => {} } = {}) {
  await ensureStack({ log });
  const r = await runAsync('bash', [STACK_SCRIPT, 'engine-up', name], { ...process.env }, UP_TIMEOUT_MS);
  const dockerHost = dockerHostFromStackOutput(r.stdout);
  if (r.error || r.status !== 0 || !dockerHost) {
    throw new Error(
      `could not start engine ${name} (\`bash ${STACK_SCRIPT} engine-up ${name}\` ${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`})\n${tail(r.stderr)}`,
    );
  }
  const env = dockerEnv(dockerHost);
  const reason = await unusableReason(env);
  if (reason) throw new Error(`engine ${name} at ${dockerHost} is up but not usable: ${reason}`);
  log(`engine ${name}: DOCKER_HOST=${dockerHost}`);
  return { dockerHost, env };
}

async function registryCommand(command) {
  const r = await runAsync('bash', [STACK_SCRIPT, command], { ...process.env }, CHECK_TIMEOUT_MS);
  if (r.error || r.status !== 0) {
    throw new Error(
      `\`bash ${STACK_SCRIPT} ${command}\` ${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`}\n${tail(r.stderr)}`,
    );
  }
}

/** Stops the local registry on 127.0.0.1:5000 (to test push failures). */
export async function stopRegistry() {
  await registryCommand('registry-stop');
}

/** Starts the local registry again; returns once it answers. */
export async function startRegistry() {
  await registryCommand('registry-start');
}
