import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import {
  commandTimeouts,
  DEFAULT_LONG_TIMEOUT_MS,
  displayCommand,
  failureText,
  QUICK_TIMEOUT_MS,
  quoteArg,
  runCommand,
  runQuery,
  spawnCommand,
  spawnNode,
} from './exec';

describe('display quoting', () => {
  test.each([
    ['plain', 'plain'],
    ['linux/amd64,linux/arm64', 'linux/amd64,linux/arm64'],
    ['ALPHA=a b', "'ALPHA=a b'"],
    ['', "''"],
    ["it's", `'it'\\''s'`],
    ['{{json .Image}}', "'{{json .Image}}'"],
    ['$HOME', "'$HOME'"],
    // control characters never break the displayed line (bash ANSI-C quoting, pasteable)
    ['a\nb', "$'a\\nb'"],
    ["it's\x1b[2K", "$'it\\'s\\x1b[2K'"],
    ['tab\there\r', "$'tab\\there\\r'"],
    ['back\\slash\n', "$'back\\\\slash\\n'"],
  ])('%s → %s', (arg, shown) => {
    expect(quoteArg(arg)).toBe(shown);
  });

  test('displayCommand', () => {
    expect(displayCommand(['docker', 'run', '--rm', 'img', 'sh', '-c', 'echo "$X"'])).toBe(`docker run --rm img sh -c 'echo "$X"'`);
  });
});

const node = (script: string, ...rest: string[]) => [process.execPath, '-e', script, ...rest];
const cwd = process.cwd();
/** A file that exists but cannot be run (no execute bit): EACCES, even for root. */
const notExecutable = () => {
  const file = join(mkdtempSync(join(tmpdir(), 'exec-test-')), 'tool');
  writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
  return file;
};

// One implementation behind both: each case runs through execa (runCommand) and node's child_process (runQuery).
describe.each([
  ['runCommand', runCommand],
  ['runQuery', runQuery],
])('%s', (_name, run) => {
  test('dry run prints and runs nothing', async () => {
    const lines: string[] = [];
    const r = await run(['definitely-not-a-binary-xyz', 'a b'], { cwd, dryRun: true, log: (l) => lines.push(l) });
    expect(r).toEqual({ exitCode: 0, stdout: '', stderr: '', command: "definitely-not-a-binary-xyz 'a b'" });
    expect(lines).toEqual(["[dry-run] definitely-not-a-binary-xyz 'a b'"]);
  });

  test('an empty argv is an error', async () => {
    await expect(run([], { cwd })).rejects.toThrow(/empty argv/);
  });

  test('argv is passed without a shell', async () => {
    const r = await run(node('process.stdout.write(JSON.stringify(process.argv.slice(1)))', '$HOME', 'a;b', '*'), { cwd });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['$HOME', 'a;b', '*']);
    expect(r.failure).toBeUndefined();
  });

  test('exit code, stdout and stderr each captured; a non-zero exit is no failure text of its own', async () => {
    const r = await run(node('process.stdout.write("good"); process.stderr.write("bad"); process.exit(3)'), { cwd });
    expect(r).toEqual({ exitCode: 3, stdout: 'good', stderr: 'bad', command: expect.stringContaining(' -e ') });
    expect(failureText(r)).toBe('bad');
  });

  test('env is added to this process environment', async () => {
    const r = await run(node('process.stdout.write(`${process.env.EXEC_TEST_X}|${process.env.PATH === undefined}`)'), {
      cwd,
      env: { EXEC_TEST_X: 'x y' },
    });
    expect(r.stdout).toBe('x y|false');
  });

  test('stdin is fed, then closed', async () => {
    const r = await run(node('let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stderr.write("got "+s);process.exit(3)})'), {
      cwd,
      stdin: 'FROM scratch',
    });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe('got FROM scratch');
  });

  test('without stdin, stdin is ignored (at its end at once)', async () => {
    const r = await run(node('process.stdin.on("data",()=>{}).on("end",()=>process.stdout.write("eof"))'), { cwd, timeoutMs: 10_000 });
    expect(r.stdout).toBe('eof');
  });

  test('missing binary is a failure that says so, not a throw', async () => {
    const r = await run(['definitely-not-a-binary-xyz'], { cwd, env: { PATH: '/nonexistent-bin' } });
    expect(r.exitCode).not.toBe(0);
    expect(r.failure).toBe('`definitely-not-a-binary-xyz` was not found on PATH (PATH=/nonexistent-bin): install it or fix PATH');
    expect(failureText(r)).toBe(r.failure);
  });

  test('a file that is not executable is a failure that says so', async () => {
    const file = notExecutable();
    const r = await run([file], { cwd });
    expect(r.exitCode).not.toBe(0);
    expect(r.failure).toBe(`\`${file}\` is not executable (EACCES)`);
  });

  test('a command that does not finish in time is stopped and says so', async () => {
    // The child would run for 10 minutes; the test waits for it to be killed, not for a clock.
    const r = await run(node('setTimeout(() => {}, 600000)'), { cwd, timeoutMs: 300 });
    expect(r.exitCode).not.toBe(0);
    expect(r.failure).toMatch(/did not finish within 300 ms and was stopped .*NX_COMPOSE_BUILDX_TIMEOUT/);
  });

  test('a child that ignores SIGTERM is still stopped', async () => {
    // The deadline must leave a node start room to install its handler and print, on a loaded machine too:
    // at 300 ms a busy machine's SIGTERM could come first, and then no SIGKILL would be tested.
    const r = await run(node('process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'), {
      cwd,
      timeoutMs: 3000,
    });
    expect(r.failure).toMatch(/did not finish/);
    expect(r.stdout).toBe('ready\n');
  });

  test('a command that writes without end is stopped beyond the captured bound', async () => {
    const r = await run(node('const b = Buffer.alloc(1 << 20, 120); (function w() { process.stdout.write(b, w); })()'), { cwd });
    expect(r.exitCode).not.toBe(0);
    expect(r.failure).toBe(`\`${process.execPath}\` wrote more than 100 MiB of output and was stopped`);
    expect(r.stdout.length).toBeLessThanOrEqual(100 * 1024 * 1024);
    expect(r.stdout.length).toBeGreaterThan(99 * 1024 * 1024);
  });

  test('streaming with a prefix still captures lines', async () => {
    const r = await run(node('console.log("one\\ntwo")'), { cwd, stream: true, prefix: '[api] ' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('one\ntwo');
  });

  test('streaming without a prefix (a terminal) still captures the output, so errors can be recognised', async () => {
    const r = await run(node('process.stderr.write("#1 pushing\\rERROR: 500 Internal Server Error\\n"); process.exit(1)'), {
      cwd,
      stream: true,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('500 Internal Server Error');
  });
});

// The two spawners behind runCommand and runQuery end the same way; image-save uses spawnCommand directly.
describe.each([
  ['spawnCommand', spawnCommand],
  ['spawnNode', spawnNode],
])('%s', (_name, spawner) => {
  const sleeper = 'console.log("ready"); setInterval(() => {}, 1000)';

  test('exit code, output to the callbacks', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const ended = await spawner(process.execPath, ['-e', 'process.stdout.write("o"); process.stderr.write("e"); process.exit(4)'], {
      cwd,
      timeoutMs: 10_000,
      onStdout: (c) => out.push(c.toString()),
      onStderr: (c) => err.push(c.toString()),
    }).done;
    expect(ended).toEqual({ exitCode: 4, timedOut: false, stopped: false });
    expect([out.join(''), err.join('')]).toEqual(['o', 'e']);
  });

  test('stop() ends it early with SIGTERM', async () => {
    const sub = spawner(process.execPath, ['-e', sleeper], { cwd, timeoutMs: 60_000, onStdout: () => sub.stop() });
    const ended = await sub.done;
    expect(ended).toMatchObject({ signal: 'SIGTERM', timedOut: false, stopped: true });
    expect(ended.exitCode).toBeUndefined();
  });

  test('timeout: SIGTERM, and timedOut rather than stopped', async () => {
    const ended = await spawner(process.execPath, ['-e', sleeper], { cwd, timeoutMs: 300 }).done;
    expect(ended).toMatchObject({ signal: 'SIGTERM', timedOut: true, stopped: false });
  });

  test('a stream as input', async () => {
    const out: string[] = [];
    const ended = await spawner(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], {
      cwd,
      timeoutMs: 10_000,
      input: Readable.from(['tar', 'ball']),
      onStdout: (c) => out.push(c.toString()),
    }).done;
    expect(ended.exitCode).toBe(0);
    expect(out.join('')).toBe('tarball');
  });

  test.each([
    ['ENOENT', () => 'definitely-not-a-binary-xyz'],
    ['EACCES', notExecutable],
  ])('%s is the error code of a command that did not start', async (code, file) => {
    const ended = await spawner(file(), [], { cwd, timeoutMs: 10_000 }).done;
    expect(ended).toMatchObject({ errorCode: code, timedOut: false, stopped: false });
    expect(ended.exitCode).toBeUndefined();
    expect(ended.errorMessage).toEqual(expect.any(String));
  });
});

describe('commandTimeouts', () => {
  test.each<[string, Record<string, string>, number | undefined, { long: number; quick: number }]>([
    ['defaults', {}, undefined, { long: DEFAULT_LONG_TIMEOUT_MS, quick: QUICK_TIMEOUT_MS }],
    ['the variable, in seconds', { NX_COMPOSE_BUILDX_TIMEOUT: '7200' }, undefined, { long: 7_200_000, quick: QUICK_TIMEOUT_MS }],
    ['the option wins over the variable', { NX_COMPOSE_BUILDX_TIMEOUT: '7200' }, 60, { long: 60_000, quick: 60_000 }],
    ['a query never waits longer than a build may', { NX_COMPOSE_BUILDX_TIMEOUT: '30' }, undefined, { long: 30_000, quick: 30_000 }],
    [
      'an empty variable is unset',
      { NX_COMPOSE_BUILDX_TIMEOUT: '' },
      undefined,
      { long: DEFAULT_LONG_TIMEOUT_MS, quick: QUICK_TIMEOUT_MS },
    ],
  ])('%s', (_, env, option, expected) => {
    expect(commandTimeouts(env, option)).toEqual(expected);
  });

  test.each([['0'], ['-5'], ['soon'], ['Infinity']])('NX_COMPOSE_BUILDX_TIMEOUT=%s is an error, not "no timeout"', (v) => {
    expect(() => commandTimeouts({ NX_COMPOSE_BUILDX_TIMEOUT: v })).toThrow(
      /NX_COMPOSE_BUILDX_TIMEOUT must be a number of seconds greater than 0/,
    );
  });
});
