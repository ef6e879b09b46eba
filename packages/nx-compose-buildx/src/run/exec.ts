/**
 * The only place that spawns processes. Commands are argv arrays handed as file + args (never
 * `shell: true`) to one of two spawners with the same bounds: execa (spawnCommand) or, for
 * graph-time queries, node's child_process (spawnNode). Quoting exists only to DISPLAY a command
 * (dry runs, headers, errors).
 */
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { escapeControls, hasControlCharacters } from './log';

export interface RunCommandOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Text fed on stdin (e.g. an inline Dockerfile for `-f -`). Otherwise stdin is ignored. */
  stdin?: string;
  /** Stream output to this process's stdout/stderr while running; output is then not captured
   * unless `prefix` is set (lines are prefixed and also captured). */
  stream?: boolean;
  /** Line prefix when streaming, e.g. `[api] `. */
  prefix?: string;
  /** Print the command and run nothing. */
  dryRun?: boolean;
  /** Where dry-run and header lines go. Default: process.stdout. */
  log?: (line: string) => void;
  /** Kill the process after this long (SIGTERM, then SIGKILL). Default QUICK_TIMEOUT_MS: nothing runs unbounded. */
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The command as displayed (shell-quoted for reading only). */
  command: string;
  /** Set when the process failed to start, timed out or was killed. */
  failure?: string;
}

/** Environment variable: seconds a build, push or test run may take (the executor option `timeout` wins). */
export const TIMEOUT_ENV = 'NX_COMPOSE_BUILDX_TIMEOUT';
/** A build under QEMU emulation can take hours: generous, so that only a hung command is stopped. */
export const DEFAULT_LONG_TIMEOUT_MS = 3 * 60 * 60_000;
/** Queries (builder inspect, registry inspect, git) answer in seconds; a half-open connection never does. */
export const QUICK_TIMEOUT_MS = 10 * 60_000;

export interface CommandTimeouts {
  /** builds, pushes, `docker run` of a test, `imagetools create`, `docker save` */
  long: number;
  /** everything else */
  quick: number;
}

/**
 * Timeouts from the executor option (seconds) or NX_COMPOSE_BUILDX_TIMEOUT (seconds). A query never
 * waits longer than a build may; a value that is not a positive number is an error, not "no timeout".
 */
export function commandTimeouts(env: Record<string, string | undefined>, optionSeconds?: number): CommandTimeouts {
  let seconds: number | undefined = optionSeconds;
  const from = optionSeconds !== undefined ? 'option "timeout"' : TIMEOUT_ENV;
  if (seconds === undefined && env[TIMEOUT_ENV] !== undefined && env[TIMEOUT_ENV] !== '') seconds = Number(env[TIMEOUT_ENV]);
  if (seconds === undefined) return { long: DEFAULT_LONG_TIMEOUT_MS, quick: QUICK_TIMEOUT_MS };
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new Error(`${from} must be a number of seconds greater than 0 (got ${JSON.stringify(optionSeconds ?? env[TIMEOUT_ENV])})`);
  const long = Math.round(seconds * 1000);
  return { long, quick: Math.min(long, QUICK_TIMEOUT_MS) };
}

/** What to show for a failed command: why it did not run, else its own output. */
export function failureText(r: Pick<RunResult, 'failure' | 'stderr' | 'stdout'>): string {
  return r.failure ?? (r.stderr || r.stdout).trim();
}

export type RunFn = (argv: readonly string[], options: RunCommandOptions) => Promise<RunResult>;

/** POSIX-shell quoting for DISPLAY only: what a user can paste into a shell to run the same thing. */
export function quoteArg(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  // A control character (newline, ESC) would break the displayed line: bash's $'…' shows it escaped.
  if (hasControlCharacters(arg)) return `$'${escapeControls(arg.replace(/\\/g, '\\\\').replace(/'/g, "\\'")).replace(/\t/g, '\\t')}'`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function displayCommand(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

const defaultLog = (line: string) => process.stdout.write(`${line}\n`);

/** Keeps the last `max` characters written: enough to recognise an error without holding a whole build log. */
class Tail {
  private text = '';
  constructor(private readonly max = 256 * 1024) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > 2 * this.max) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.slice(-this.max);
  }
}

/** Copies a stream through unchanged (progress redraws included) and keeps its tail. */
function teeRaw(stream: Readable | null | undefined, out: NodeJS.WriteStream, tail: Tail): void {
  if (!stream) return;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    tail.push(chunk);
    out.write(chunk);
  });
}

function pipeLines(stream: Readable | null | undefined, prefix: string, out: NodeJS.WriteStream, sink: string[]): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    for (const line of lines) {
      sink.push(line);
      out.write(`${prefix}${line}\n`);
    }
  });
  stream.on('end', () => {
    if (pending) {
      sink.push(pending);
      out.write(`${prefix}${pending}\n`);
    }
  });
}

/** Grace between SIGTERM and SIGKILL for a command that outlived its time or was stopped. */
const KILL_GRACE_MS = 5000;
/** Output kept from a command whose output is captured whole (not streamed): beyond it, it is stopped. */
const MAX_CAPTURED_BYTES = 100 * 1024 * 1024;

export interface SpawnedOptions {
  cwd: string;
  /** Added to this process's environment. */
  env?: Record<string, string | undefined>;
  /** Written to stdin (text, or a stream such as a tar), then stdin is closed; without it stdin is ignored. */
  input?: string | Readable;
  timeoutMs: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** How a spawned command ended. */
export interface SpawnedEnd {
  /** undefined when it did not exit on its own (not started, killed by a signal). */
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  /** `stop()` was called. */
  stopped: boolean;
  /** Why it did not start (errno code, e.g. ENOENT) and the message. */
  errorCode?: string;
  errorMessage?: string;
}

export interface Spawned {
  done: Promise<SpawnedEnd>;
  /** Ends the command early (SIGTERM, then SIGKILL): the caller has what it needed. */
  stop(): void;
}

/** spawnCommand (execa) or spawnNode (node's child_process): the same options, the same end. */
type Spawner = (file: string, args: readonly string[], options: SpawnedOptions) => Spawned;

/**
 * Spawns file + args with execa (no shell); output goes to the callbacks; bounded by `timeoutMs`.
 * execa is imported on the first spawn, so a process that spawns nothing (the graph, a dry run) never
 * loads it, and a batch worker loads it once for all its tasks.
 */
export function spawnCommand(file: string, args: readonly string[], options: SpawnedOptions): Spawned {
  const end: SpawnedEnd = { timedOut: false, stopped: false };
  let child: { kill(): boolean } | undefined;
  const done = (async (): Promise<SpawnedEnd> => {
    const { execa } = await import('execa');
    if (end.stopped) return end;
    const sub = execa(file, [...args], {
      cwd: options.cwd,
      env: options.env as Record<string, string> | undefined,
      extendEnv: true,
      ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      shell: false,
      timeout: options.timeoutMs,
      forceKillAfterDelay: KILL_GRACE_MS,
    });
    child = sub;
    sub.stdout?.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
    sub.stderr?.on('data', (chunk: Buffer) => options.onStderr?.(chunk));
    // With reject: false a failure resolves to the error object, which carries the errno code.
    const result = (await sub) as {
      exitCode?: number;
      signal?: string;
      timedOut: boolean;
      failed: boolean;
      code?: string;
      shortMessage?: string;
    };
    return {
      ...end,
      timedOut: result.timedOut,
      ...(typeof result.exitCode === 'number' ? { exitCode: result.exitCode } : {}),
      ...(result.signal ? { signal: result.signal } : {}),
      ...(result.code ? { errorCode: result.code } : {}),
      ...(result.failed && result.exitCode === undefined && result.shortMessage ? { errorMessage: result.shortMessage } : {}),
    };
  })();
  return {
    done,
    stop: () => {
      end.stopped = true;
      child?.kill();
    },
  };
}

/** spawnCommand on node's own child_process, for runQuery: the same options, bounds and end. */
export function spawnNode(file: string, args: readonly string[], options: SpawnedOptions): Spawned {
  const end: SpawnedEnd = { timedOut: false, stopped: false };
  const child = spawn(file, [...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let settled = false;
  let forceKill: NodeJS.Timeout | undefined;
  const kill = () => {
    if (settled) return; // a SIGKILL timer for a child that is gone would hold this process up
    child.kill('SIGTERM');
    forceKill ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => {
    end.timedOut = true;
    kill();
  }, options.timeoutMs);
  child.stdout?.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
  child.stderr?.on('data', (chunk: Buffer) => options.onStderr?.(chunk));
  if (options.input !== undefined && child.stdin) {
    // EPIPE when the child exits (or never started) before reading it all: its end says what happened.
    child.stdin.on('error', () => {});
    if (typeof options.input === 'string') child.stdin.end(options.input);
    else options.input.pipe(child.stdin);
  }
  const done = new Promise<SpawnedEnd>((resolve) => {
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(forceKill);
      resolve({ ...end });
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code) end.errorCode = e.code;
      end.errorMessage = e.message;
      if (child.pid === undefined) settle(); // it never started: its 'close' (exit code -errno) says nothing more
    });
    child.on('close', (code, signal) => {
      if (code !== null) end.exitCode = code;
      if (signal) end.signal = signal;
      settle();
    });
  });
  return {
    done,
    stop: () => {
      end.stopped = true;
      kill();
    },
  };
}

/** Runs argv[0] with argv[1..] (cwd, env as given). Never throws for a non-zero exit: check exitCode. */
export const runCommand: RunFn = (argv, options) => runWith(spawnCommand, argv, options);

/**
 * runCommand on node's own child_process: for graph time, where importing execa (its ES modules
 * cost 150-400 ms in a fresh plugin worker) would cost more than the one `git ls-files` it runs.
 */
export const runQuery: RunFn = (argv, options) => runWith(spawnNode, argv, options);

async function runWith(spawner: Spawner, argv: readonly string[], options: RunCommandOptions): Promise<RunResult> {
  const command = displayCommand(argv);
  const log = options.log ?? defaultLog;
  if (options.dryRun) {
    log(`[dry-run] ${command}${options.stdin !== undefined ? '  (stdin: inline Dockerfile)' : ''}`);
    return { exitCode: 0, stdout: '', stderr: '', command };
  }
  const [file, ...args] = argv;
  if (!file) throw new Error('empty argv: no command to run');
  const timeoutMs = options.timeoutMs ?? QUICK_TIMEOUT_MS;
  // Streamed output is always read here too (never handed over to the terminal), so a failure's
  // text is known on a terminal as well: transient registry errors are retried either way.
  const captured = { stdout: [] as Buffer[], stderr: [] as Buffer[], bytes: 0, overflow: false };
  const running: { sub?: Spawned } = {};
  const capture = (into: Buffer[]) => (chunk: Buffer) => {
    captured.bytes += chunk.length;
    if (captured.bytes > MAX_CAPTURED_BYTES) {
      if (!captured.overflow) running.sub?.stop();
      captured.overflow = true;
      return;
    }
    into.push(chunk);
  };
  const out = options.stream ? new PassThrough() : undefined;
  const err = options.stream ? new PassThrough() : undefined;
  const sub = spawner(file, args, {
    cwd: options.cwd,
    ...(options.env ? { env: options.env } : {}),
    ...(options.stdin !== undefined ? { input: options.stdin } : {}),
    timeoutMs,
    onStdout: out ? (c) => out.write(c) : capture(captured.stdout),
    onStderr: err ? (c) => err.write(c) : capture(captured.stderr),
  });
  running.sub = sub;
  const outLines: string[] = [];
  const errLines: string[] = [];
  const outTail = new Tail();
  const errTail = new Tail();
  if (options.stream && options.prefix) {
    pipeLines(out, options.prefix, process.stdout, outLines);
    pipeLines(err, options.prefix, process.stderr, errLines);
  } else if (options.stream) {
    teeRaw(out, process.stdout, outTail);
    teeRaw(err, process.stderr, errTail);
  }
  const ended = await sub.done;
  if (out && err) {
    const flushed = Promise.all([new Promise((r) => out.once('end', r)), new Promise((r) => err.once('end', r))]);
    out.end();
    err.end();
    await flushed;
  }
  const streamed = (lines: string[], tail: Tail) => (options.prefix ? lines.join('\n') : tail.toString());
  const stdout = options.stream ? streamed(outLines, outTail) : Buffer.concat(captured.stdout).toString('utf8');
  const stderr = options.stream ? streamed(errLines, errTail) : Buffer.concat(captured.stderr).toString('utf8');
  const exitCode = ended.exitCode ?? 1;
  const failure = captured.overflow
    ? `\`${file}\` wrote more than ${MAX_CAPTURED_BYTES / 1024 / 1024} MiB of output and was stopped`
    : unfinishedReason(ended, file, timeoutMs, options.env?.PATH ?? process.env.PATH);
  return { exitCode, stdout, stderr, command, ...(failure ? { failure } : {}) };
}

/** Why a command did not finish on its own: not found, not startable, timed out, killed. */
export function unfinishedReason(ended: SpawnedEnd, file: string, timeoutMs: number, path: string | undefined): string | undefined {
  if (ended.timedOut)
    return `\`${file}\` did not finish within ${formatDuration(timeoutMs)} and was stopped (raise the limit with the executor option "timeout" or ${TIMEOUT_ENV}, in seconds)`;
  if (ended.exitCode !== undefined) return undefined;
  if (ended.errorCode === 'ENOENT') return `\`${file}\` was not found on PATH (PATH=${path ?? ''}): install it or fix PATH`;
  if (ended.errorCode === 'EACCES') return `\`${file}\` is not executable (EACCES)`;
  if (ended.signal) return `\`${file}\` was killed by ${ended.signal}`;
  return ended.errorMessage ?? 'process failed to start';
}

function formatDuration(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${ms} ms`;
  const s = ms / 1000;
  return s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}
