import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { RunFn } from './exec';
import { gitFacts, parseHeadDecorations, pickTag } from './git';

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

const SHOW = 'show -s --no-show-signature --decorate=full --format=%H%x00%cI%x00%D HEAD';
const CONFIG = 'config --get-regexp ^(init\\.defaultbranch|remote\\.origin\\.url)$';
const TIME = '2026-12-03T18:00:00+00:00';
/** `git show`'s answer for HEAD: sha, commit time and decorations. */
const head = (decorations: string, sha = SHA): string => `${sha}\0${TIME}\0${decorations}`;

const local = {
  [SHOW]: head('HEAD -> refs/heads/feature/x, refs/remotes/origin/feature/x'),
  'symbolic-ref --short refs/remotes/origin/HEAD': 'origin/trunk',
  [CONFIG]: 'remote.origin.url https://u:tok@github.com/o/r.git',
};

describe('gitFacts', () => {
  test('local checkout on a branch', async () => {
    const { run } = fakeGit(local);
    expect(await gitFacts('/ws', {}, run)).toEqual({
      sha: SHA,
      branch: 'feature/x',
      defaultBranch: 'trunk',
      remoteUrl: 'https://u:tok@github.com/o/r.git',
      commitTime: TIME,
    });
  });

  test('local tag pointing at HEAD (highest semver wins), detached', async () => {
    const { run } = fakeGit({
      ...local,
      [SHOW]: head('grafted, HEAD, tag: refs/tags/v1.2.0, tag: refs/tags/v1.10.0, tag: refs/tags/nightly'),
    });
    expect(await gitFacts('/ws', {}, run)).toMatchObject({ sha: SHA, tag: 'v1.10.0' });
    expect((await gitFacts('/ws', {}, run))?.branch).toBeUndefined();
  });

  test('no default branch anywhere → main; no remote', async () => {
    const { run } = fakeGit({ [SHOW]: head('HEAD -> refs/heads/dev') });
    expect(await gitFacts('/ws', {}, run)).toEqual({ sha: SHA, branch: 'dev', defaultBranch: 'main', commitTime: TIME });
  });

  test('init.defaultBranch when origin names none; the last of several remote URLs, as git config --get picks it', async () => {
    const config = 'remote.origin.url https://a/r.git\ninit.defaultbranch trunk\nremote.origin.url https://b/r.git';
    const { run } = fakeGit({ [SHOW]: head(''), [CONFIG]: config });
    expect(await gitFacts('/ws', {}, run)).toEqual({ sha: SHA, defaultBranch: 'trunk', remoteUrl: 'https://b/r.git', commitTime: TIME });
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
    expect(most).toBe(3);
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
    expect(calls).toHaveLength(3); // origin's HEAD and init.defaultBranch still name the default branch
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
    const { run, calls } = fakeGit({});
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
    expect(new Set(calls)).toEqual(new Set([SHOW])); // CI names the default branch and the URL: only HEAD's commit time is asked
  });

  test('parseHeadDecorations', () => {
    const cases: [string, ReturnType<typeof parseHeadDecorations>][] = [
      ['', { tags: [] }],
      ['HEAD -> refs/heads/main, tag: refs/tags/v1, refs/remotes/origin/main, refs/remotes/origin/HEAD', { branch: 'main', tags: ['v1'] }],
      ['grafted, HEAD -> refs/heads/feat/a-b', { branch: 'feat/a-b', tags: [] }],
      ['HEAD, tag: refs/tags/v2.0.0, tag: refs/tags/latest, refs/heads/main', { tags: ['v2.0.0', 'latest'] }],
      // a branch named like a tag is still a branch; a remote branch is neither
      ['HEAD -> refs/heads/tag-x, refs/remotes/origin/tags/v9', { branch: 'tag-x', tags: [] }],
    ];
    for (const [decorations, want] of cases) expect(parseHeadDecorations(decorations), decorations).toEqual(want);
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

  test('a real checkout: what the three queries read back from git itself', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nxcb-git-facts-'));
    const env = {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_COMMITTER_DATE: '2026-12-03T18:00:00+00:00',
    };
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env, encoding: 'utf8' }).trim();
    try {
      git('init', '-q', '-b', 'feat/x');
      git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'one');
      git('tag', 'v1.2.0');
      git('-c', 'user.name=t', '-c', 'user.email=t@t', 'tag', '-a', '-m', 'annotated', 'v1.10.0');
      git('config', 'remote.origin.url', 'https://example.test/o/r.git');
      git('config', 'init.defaultBranch', 'trunk');
      const sha = git('rev-parse', 'HEAD');
      const facts = await gitFacts(root, {}); // {}: no CI variables, everything from git
      expect(facts).toEqual({
        sha,
        branch: 'feat/x',
        tag: 'v1.10.0',
        defaultBranch: 'trunk', // no origin/HEAD here
        remoteUrl: 'https://example.test/o/r.git',
        commitTime: '2026-12-03T18:00:00+00:00',
      });
      git('checkout', '-q', '--detach');
      expect((await gitFacts(root, {}))?.branch).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
