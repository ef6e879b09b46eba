import { describe, expect, test } from 'vitest';
import { displayCommand, quoteArg, runCommand } from './exec';

describe('display quoting', () => {
  test.each([
    ['plain', 'plain'],
    ['linux/amd64,linux/arm64', 'linux/amd64,linux/arm64'],
    ['ALPHA=a b', "'ALPHA=a b'"],
    ['', "''"],
    ["it's", `'it'\\''s'`],
    ['{{json .Image}}', "'{{json .Image}}'"],
    ['$HOME', "'$HOME'"],
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

  test('argv is passed without a shell', async () => {
    const r = await runCommand([process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '$HOME', 'a;b', '*'], {
      cwd: process.cwd(),
    });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['$HOME', 'a;b', '*']);
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
    const r = await runCommand([process.execPath, '-e', 'console.log("one\\ntwo")'], { cwd: process.cwd(), stream: true, prefix: '[api] ' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('one\ntwo');
  });

  test('missing binary is a failure, not a throw', async () => {
    const r = await runCommand(['definitely-not-a-binary-xyz'], { cwd: process.cwd() });
    expect(r.exitCode).not.toBe(0);
    expect(r.failure).toBeDefined();
  });
});
