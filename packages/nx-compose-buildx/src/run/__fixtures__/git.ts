import { execFile } from 'node:child_process';

/** git in `cwd` for tests, asynchronously (a test worker never blocks its event loop on a child), as a fixed test author. */
export const gitIn = (cwd: string, ...args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd, encoding: 'utf-8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    ),
  );
