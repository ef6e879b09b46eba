/**
 * The only place that spawns processes. Commands are argv arrays handed to execa as file + args
 * (never `shell: true`); quoting exists only to DISPLAY a command (dry runs, headers, errors).
 */
import type { Readable } from 'node:stream';
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

/** Runs argv[0] with argv[1..] (cwd, env as given). Never throws for a non-zero exit: check exitCode. */
export const runCommand: RunFn = async (argv, options) => {
  const command = displayCommand(argv);
  const log = options.log ?? defaultLog;
  if (options.dryRun) {
    log(`[dry-run] ${command}${options.stdin !== undefined ? '  (stdin: inline Dockerfile)' : ''}`);
    return { exitCode: 0, stdout: '', stderr: '', command };
  }
  const [file, ...args] = argv;
  if (!file) throw new Error('runCommand: empty argv');
  const { execa } = await import('execa');
  const stdin = options.stdin !== undefined ? 'pipe' : 'ignore';
  const timeoutMs = options.timeoutMs ?? QUICK_TIMEOUT_MS;
  // Streamed output is always read here too (never handed over to the terminal), so a failure's
  // text is known on a terminal as well: transient registry errors are retried either way.
  const sub = execa(file, args, {
    cwd: options.cwd,
    env: options.env as Record<string, string> | undefined,
    extendEnv: true,
    ...(options.stdin !== undefined ? { input: options.stdin } : { stdin }),
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    shell: false,
    stripFinalNewline: false,
    buffer: !options.stream,
    timeout: timeoutMs,
    forceKillAfterDelay: 5000,
  });
  const outLines: string[] = [];
  const errLines: string[] = [];
  const outTail = new Tail();
  const errTail = new Tail();
  if (options.stream && options.prefix) {
    pipeLines(sub.stdout, options.prefix, process.stdout, outLines);
    pipeLines(sub.stderr, options.prefix, process.stderr, errLines);
  } else if (options.stream) {
    teeRaw(sub.stdout, process.stdout, outTail);
    teeRaw(sub.stderr, process.stderr, errTail);
  }
  const result = await sub;
  const streamed = (lines: string[], tail: Tail) => (options.prefix ? lines.join('\n') : tail.toString());
  const stdout = typeof result.stdout === 'string' && !options.stream ? result.stdout : streamed(outLines, outTail);
  const stderr = typeof result.stderr === 'string' && !options.stream ? result.stderr : streamed(errLines, errTail);
  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : 1;
  const failure = failureOf(result, file, timeoutMs, options.env?.PATH ?? process.env.PATH);
  return { exitCode, stdout, stderr, command, ...(failure ? { failure } : {}) };
};

/** Why a command did not finish on its own: not found, not startable, timed out, killed. */
function failureOf(
  result: {
    failed: boolean;
    exitCode?: number;
    timedOut?: boolean;
    signal?: string;
    code?: string;
    shortMessage?: string;
    message?: string;
  },
  file: string,
  timeoutMs: number,
  path: string | undefined,
): string | undefined {
  if (result.timedOut)
    return `\`${file}\` did not finish within ${formatDuration(timeoutMs)} and was stopped (raise the limit with the executor option "timeout" or ${TIMEOUT_ENV}, in seconds)`;
  if (!result.failed || result.exitCode !== undefined) return undefined;
  if (result.code === 'ENOENT') return `\`${file}\` was not found on PATH (PATH=${path ?? ''}): install it or fix PATH`;
  if (result.code === 'EACCES') return `\`${file}\` is not executable (EACCES)`;
  if (result.signal) return `\`${file}\` was killed by ${result.signal}`;
  return result.shortMessage ?? result.message ?? 'process failed to start';
}

function formatDuration(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${ms} ms`;
  const s = ms / 1000;
  return s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}
