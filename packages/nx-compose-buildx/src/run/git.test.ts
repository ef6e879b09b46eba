import { describe, expect, test } from 'vitest';
import type { RunFn } from './exec';
import { gitFacts, pickTag } from './git';

const SHA = '0123456789abcdef0123456789abcdef01234567';

/** A fake git: argv (without `git`) joined by spaces → stdout; missing → exit 1. */
function fakeGit(answers: Record<string, string>): { run: RunFn; calls: string[] } {
  const calls: string[] = [];
  const run: RunFn = async (argv) => {
    expect(argv[0]).toBe('git');
    const key = argv.slice(1).join(' ');
    calls.push(key);
    const out = answers[key];
    return out === undefined
      ? { exitCode: 1, stdout: '', stderr: 'fatal', command: key }
      : { exitCode: 0, stdout: `${out}\n`, stderr: '', command: key };
  };
  return { run, calls };
}

const local = {
  'rev-parse HEAD': SHA,
  'rev-parse --abbrev-ref HEAD': 'feature/x',
  'symbolic-ref --short refs/remotes/origin/HEAD': 'origin/trunk',
  'config --get remote.origin.url': 'https://u:tok@github.com/o/r.git',
};

describe('gitFacts', () => {
  test('local checkout on a branch', async () => {
    const { run } = fakeGit(local);
    expect(await gitFacts('/ws', {}, run)).toEqual({
      sha: SHA,
      branch: 'feature/x',
      defaultBranch: 'trunk',
      remoteUrl: 'https://u:tok@github.com/o/r.git',
    });
  });

  test('local tag pointing at HEAD (highest semver wins), detached', async () => {
    const { run } = fakeGit({ ...local, 'rev-parse --abbrev-ref HEAD': 'HEAD', 'tag --points-at HEAD': 'v1.2.0\nv1.10.0\nnightly' });
    expect(await gitFacts('/ws', {}, run)).toMatchObject({ sha: SHA, tag: 'v1.10.0' });
    expect((await gitFacts('/ws', {}, run))?.branch).toBeUndefined();
  });

  test('no default branch anywhere → main; no remote', async () => {
    const { run } = fakeGit({ 'rev-parse HEAD': SHA, 'rev-parse --abbrev-ref HEAD': 'main' });
    expect(await gitFacts('/ws', {}, run)).toEqual({ sha: SHA, branch: 'main', defaultBranch: 'main' });
  });

  test('starts its git queries together, not one after another', async () => {
    let inFlight = 0;
    let most = 0;
    const run: RunFn = async (argv) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const out = (local as Record<string, string>)[argv.slice(1).join(' ')];
      return out === undefined
        ? { exitCode: 1, stdout: '', stderr: '', command: '' }
        : { exitCode: 0, stdout: out, stderr: '', command: '' };
    };
    expect(await gitFacts('/ws', {}, run)).toMatchObject({ sha: SHA, branch: 'feature/x' });
    expect(most).toBe(7);
  });

  test('not a repository', async () => {
    const { run } = fakeGit({});
    expect(await gitFacts('/ws', {}, run)).toBeUndefined();
  });

  test('GitHub Actions tag build', async () => {
    const { run, calls } = fakeGit({ 'symbolic-ref --short refs/remotes/origin/HEAD': 'origin/main' });
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_SHA: SHA,
      GITHUB_REF_NAME: 'v2.0.0',
      GITHUB_REF_TYPE: 'tag',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'o/r',
    };
    expect(await gitFacts('/ws', env, run)).toEqual({
      sha: SHA,
      tag: 'v2.0.0',
      defaultBranch: 'main',
      remoteUrl: 'https://github.com/o/r',
    });
    expect(calls).not.toContain('rev-parse HEAD');
  });

  test('GitHub Actions pull request uses the head branch', async () => {
    const { run } = fakeGit({});
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_SHA: SHA,
      GITHUB_REF_NAME: '12/merge',
      GITHUB_REF_TYPE: 'branch',
      GITHUB_HEAD_REF: 'feat/y',
    };
    expect(await gitFacts('/ws', env, run)).toMatchObject({ branch: 'feat/y' });
  });

  test('GitLab branch and tag pipelines', async () => {
    const { run } = fakeGit({});
    const base = { GITLAB_CI: 'true', CI_COMMIT_SHA: SHA, CI_DEFAULT_BRANCH: 'develop', CI_PROJECT_URL: 'https://gitlab.com/g/r' };
    expect(await gitFacts('/ws', { ...base, CI_COMMIT_REF_NAME: 'develop', CI_COMMIT_BRANCH: 'develop' }, run)).toEqual({
      sha: SHA,
      branch: 'develop',
      defaultBranch: 'develop',
      remoteUrl: 'https://gitlab.com/g/r',
    });
    expect(await gitFacts('/ws', { ...base, CI_COMMIT_REF_NAME: 'v3.1.0', CI_COMMIT_TAG: 'v3.1.0' }, run)).toEqual({
      sha: SHA,
      tag: 'v3.1.0',
      defaultBranch: 'develop',
      remoteUrl: 'https://gitlab.com/g/r',
    });
  });

  test('pickTag', () => {
    expect(pickTag(['a', 'b'])).toBe('a');
    // A release candidate ranks below its release, in either order (a hand-written major/minor/patch compare tied them).
    expect(pickTag(['v1.0.0-rc1', 'v1.0.0'])).toBe('v1.0.0');
    expect(pickTag(['v1.0.0', 'v1.0.0-rc1'])).toBe('v1.0.0');
    expect(pickTag(['v1.0.0-rc.2', 'v1.0.0-rc.10', 'v0.9.9'])).toBe('v1.0.0-rc.10');
    expect(pickTag(['v0.9.9', 'v1.0.0-rc.1', 'x'])).toBe('v1.0.0-rc.1');
    expect(pickTag([])).toBeUndefined();
  });
});
