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

describe('runCommand', () => {
  test('dry run prints and runs nothing', async () => {
    const lines: string[] = [];
    const r = await runCommand(['definitely-not-a-binary-xyz', 'a b'], { cwd: process.cwd(), dryRun: true, log: (l) => lines.push(l) });
    expect(r.exitCode).toBe(0);
    expect(lines).toEqual(["[dry-run] definitely-not-a-binary-xyz 'a b'"]);
  });

  test('stdin, exit code and stderr', async () => {
    const r = await runCommand(
      [process.execPath, '-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stderr.write("got "+s);process.exit(3)})'],
      { cwd: process.cwd(), stdin: 'FROM scratch' },
    );
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe('got FROM scratch');
  });

  test('streaming with a prefix still captures lines', async () => {
    const r = await runCommand([process.execPath, '-e', 'console.log("one\\ntwo")'], {
      cwd: process.cwd(),
      stream: true,
      prefix: '[api] ',
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('one\ntwo');
  });

  test('streaming without a prefix (a terminal) still captures the output, so errors can be recognised', async () => {
    const r = await runCommand(
      [process.execPath, '-e', 'process.stderr.write("#1 pushing\\rERROR: 500 Internal Server Error\\n"); process.exit(1)'],
      {
        cwd: process.cwd(),
        stream: true,
      },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('500 Internal Server Error');
  });
});

describe.each([
  ['runCommand', runCommand],
  ['runQuery', runQuery],
])('%s, output captured', (_name, run) => {
  test('argv is passed without a shell', async () => {
    const r = await run([process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '$HOME', 'a;b', '*'], {
      cwd: process.cwd(),
    });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['$HOME', 'a;b', '*']);
  });

  test('missing binary is a failure that says so, not a throw', async () => {
    const r = await run(['definitely-not-a-binary-xyz'], { cwd: process.cwd(), env: { PATH: '/nonexistent-bin' } });
    expect(r.exitCode).not.toBe(0);
    expect(r.failure).toBe('`definitely-not-a-binary-xyz` was not found on PATH (PATH=/nonexistent-bin): install it or fix PATH');
    expect(failureText(r)).toBe(r.failure);
  });

  test('a command that does not finish in time is stopped and says so', async () => {
    // The child would run for 10 minutes; the test waits for it to be killed, not for a clock.
    const r = await run([process.execPath, '-e', 'setTimeout(() => {}, 600000)'], { cwd: process.cwd(), timeoutMs: 300 });
    expect(r.exitCode).not.toBe(0);
    expect(r.failure).toMatch(/did not finish within 300 ms and was stopped .*NX_COMPOSE_BUILDX_TIMEOUT/);
  });

  test('a child that ignores SIGTERM is still stopped', async () => {
    const r = await run([process.execPath, '-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'], {
      cwd: process.cwd(),
      timeoutMs: 300,
    });
    expect(r.failure).toMatch(/did not finish/);
  });

  test('exit code and stderr', async () => {
    const r = await run([process.execPath, '-e', 'process.stderr.write("bad"); process.exit(3)'], { cwd: process.cwd() });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe('bad');
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
