import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NX_BIN = join(REPO_ROOT, 'node_modules/nx/dist/bin/nx.js');

/** A throwaway Nx workspace in its own git repo, using the built plugin from this repo. */
export interface TempWorkspace {
  root: string;
  write(path: string, content: string): void;
  read(path: string): string;
  remove(path: string): void;
  /** Runs nx with an argv array (no shell); rejects with its output when it fails, unless allowFailure. */
  nx(args: string[], opts?: { env?: NodeJS.ProcessEnv; allowFailure?: boolean }): Promise<NxResult>;
  /** git in the workspace; asynchronous, so the test worker's event loop never waits on it. */
  git(args: string[]): Promise<string>;
  /** `git add -A`, `nx sync` (as a pre-commit hook would), then commit everything. */
  commit(message: string): Promise<void>;
  /** Tasks `nx affected` selects for the last commit (dependencies excluded), sorted. */
  affected(target?: string, extraArgs?: string[]): Promise<string[]>;
  dispose(): void;
}

export interface NxResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command from an argv array (never a shell) and collects its output. */
export function run(file: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<NxResult> {
  return new Promise((resolvePromise) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: opts.env, encoding: 'utf-8', maxBuffer: 256 * 1024 * 1024, timeout: opts.timeoutMs ?? 0 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ status, stdout, stderr });
      },
    );
  });
}

export interface WorkspaceSetup {
  /** Files to write, workspace-relative path → content. */
  files?: Record<string, string>;
  /** A folder to copy in first (e.g. the repo's examples/). */
  copyFrom?: string;
  /** Plugin options for nx.json; ignored when files contain nx.json. */
  pluginOptions?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

export function nxEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_SKIP_NX_CACHE: process.env.NX_SKIP_NX_CACHE,
    NX_VERBOSE_LOGGING: 'false',
    FORCE_COLOR: '0',
    ...extra,
  };
}

export async function createWorkspace(setup: WorkspaceSetup = {}): Promise<TempWorkspace> {
  const root = mkdtempSync(join(tmpdir(), 'nxcb-ws-'));
  if (setup.copyFrom) cpSync(setup.copyFrom, root, { recursive: true, filter: (src) => !/[/\\](node_modules|\.nx|dist)$/.test(src) });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  const ws = attachWorkspace(root, setup.env);
  const write = ws.write;
  if (!setup.files?.['nx.json'] && !existsSync(join(root, 'nx.json'))) {
    write(
      'nx.json',
      JSON.stringify(
        {
          defaultBase: 'main',
          plugins: [setup.pluginOptions ? { plugin: 'nx-compose-buildx', options: setup.pluginOptions } : 'nx-compose-buildx'],
          sync: { globalGenerators: ['nx-compose-buildx:sync'] },
        },
        null,
        2,
      ),
    );
  }
  if (!existsSync(join(root, 'package.json'))) write('package.json', JSON.stringify({ name: 'tmp-ws', private: true }));
  write('.gitignore', 'node_modules\n.nx\ndist\n');
  for (const [path, content] of Object.entries(setup.files ?? {})) write(path, content);

  await ws.git(['init', '-q', '-b', 'main']);
  await ws.commit('initial');
  return ws;
}

/**
 * A `git clone` of a workspace at another absolute path (its own temp folder, nested deeper
 * and named differently), as a CI runner checks out: only what is committed comes along.
 */
export async function cloneWorkspace(source: TempWorkspace, env?: NodeJS.ProcessEnv): Promise<TempWorkspace> {
  const parent = mkdtempSync(join(tmpdir(), 'nxcb-clone-'));
  const root = join(parent, 'runner', 'work', 'checkout');
  mkdirSync(dirname(root), { recursive: true });
  const cloned = await run('git', ['clone', '-q', source.root, root], { cwd: parent });
  if (cloned.status !== 0) throw new Error(`git clone failed (${cloned.status}): ${cloned.stderr}`);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  const ws = attachWorkspace(root, env);
  return { ...ws, dispose: () => rmSync(parent, { recursive: true, force: true }) };
}

function attachWorkspace(root: string, env: NodeJS.ProcessEnv | undefined): TempWorkspace {
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  const git = async (args: string[]) => {
    const r = await run('git', args, {
      cwd: root,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'e2e',
        GIT_AUTHOR_EMAIL: 'e2e@example.invalid',
        GIT_COMMITTER_NAME: 'e2e',
        GIT_COMMITTER_EMAIL: 'e2e@example.invalid',
      },
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };
  const nx = async (args: string[], opts: { env?: NodeJS.ProcessEnv; allowFailure?: boolean } = {}) => {
    const result = await run(process.execPath, [NX_BIN, ...args], { cwd: root, env: nxEnv({ ...env, ...opts.env }) });
    if (result.status !== 0 && !opts.allowFailure) {
      throw new Error(`nx ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
    }
    return result;
  };
  const commit = async (message: string) => {
    // Staged first, as a pre-commit hook sees it: the lock hashes only what git tracks.
    await git(['add', '-A']);
    await nx(['sync']);
    await git(['add', '-A']);
    await git(['commit', '-q', '--allow-empty', '-m', message]);
  };
  return {
    root,
    write,
    read: (path) => readFileSync(join(root, path), 'utf-8'),
    remove: (path) => rmSync(join(root, path), { recursive: true, force: true }),
    nx,
    git,
    commit,
    async affected(target = 'docker-build', extraArgs = []) {
      const out = await nx([
        'affected',
        '-t',
        target,
        '--base=HEAD~1',
        '--head=HEAD',
        '--exclude-task-dependencies',
        '--graph=stdout',
        ...extraArgs,
      ]);
      const json = JSON.parse(out.stdout.slice(out.stdout.indexOf('{')));
      return Object.keys(json.tasks.tasks).sort();
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
