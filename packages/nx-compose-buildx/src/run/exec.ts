/**
 * The only place that spawns processes. Commands are argv arrays handed to execa as file + args
 * (never `shell: true`); quoting exists only to DISPLAY a command (dry runs, headers, errors).
 */
import type { Readable } from 'node:stream';

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
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The command as displayed (shell-quoted for reading only). */
  command: string;
  /** Set when the process failed to start or was killed. */
  failure?: string;
}

export type RunFn = (argv: readonly string[], options: RunCommandOptions) => Promise<RunResult>;

/** POSIX-shell quoting for DISPLAY only: what a user can paste into a shell to run the same thing. */
export function quoteArg(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function displayCommand(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

const defaultLog = (line: string) => process.stdout.write(`${line}\n`);

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
  const passthrough = options.stream && !options.prefix;
  const sub = execa(file, args, {
    cwd: options.cwd,
    env: options.env as Record<string, string> | undefined,
    extendEnv: true,
    ...(options.stdin !== undefined ? { input: options.stdin } : { stdin }),
    stdout: passthrough ? 'inherit' : 'pipe',
    stderr: passthrough ? 'inherit' : 'pipe',
    reject: false,
    shell: false,
    stripFinalNewline: false,
    buffer: !options.stream,
  });
  const outLines: string[] = [];
  const errLines: string[] = [];
  if (options.stream && options.prefix) {
    pipeLines(sub.stdout, options.prefix, process.stdout, outLines);
    pipeLines(sub.stderr, options.prefix, process.stderr, errLines);
  }
  const result = await sub;
  const stdout = typeof result.stdout === 'string' && !options.stream ? result.stdout : outLines.join('\n');
  const stderr = typeof result.stderr === 'string' && !options.stream ? result.stderr : errLines.join('\n');
  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : 1;
  const failed = result.failed && result.exitCode === undefined;
  return {
    exitCode,
    stdout,
    stderr,
    command,
    ...(failed ? { failure: result.shortMessage ?? result.message ?? 'process failed to start' } : {}),
  };
};
