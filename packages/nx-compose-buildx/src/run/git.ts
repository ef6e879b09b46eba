/**
 * Git facts for generated tags and OCI labels, read with `git` argv through the run layer. CI
 * variables win when present (GitHub Actions: GITHUB_REF_NAME/GITHUB_REF_TYPE/GITHUB_HEAD_REF/GITHUB_SHA;
 * GitLab: CI_COMMIT_TAG/CI_COMMIT_BRANCH/CI_COMMIT_REF_NAME/CI_COMMIT_SHA/CI_DEFAULT_BRANCH), because CI
 * checkouts are usually detached heads where git alone cannot name the branch.
 */
import { compareSemverDescending, parseSemverTag, type GitFacts } from '../buildx/tags';
import { runCommand, type RunFn } from './exec';

type Env = Record<string, string | undefined>;

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

/** Highest semver among tags pointing at HEAD, else the first one. */
export function pickTag(tags: string[]): string | undefined {
  const semver = tags
    .map((t) => ({ t, v: parseSemverTag(t) }))
    .filter((x) => x.v)
    .sort((a, b) => compareSemverDescending(a.v!, b.v!));
  return semver[0]?.t ?? tags[0];
}

/** What `%D` (with `--decorate=full`) says of HEAD: the branch it is on and the tags at it. */
export function parseHeadDecorations(decorations: string): { branch?: string; tags: string[] } {
  let branch: string | undefined;
  const tags: string[] = [];
  // Ref names hold no spaces or colons (git check-ref-format), so ", " and "tag: " are unambiguous;
  // other entries ("grafted" in a shallow clone, remote branches, a detached "HEAD") say neither.
  for (const entry of decorations.split(', ')) {
    if (entry.startsWith('HEAD -> refs/heads/')) branch = entry.slice('HEAD -> refs/heads/'.length);
    else if (entry.startsWith('tag: refs/tags/')) tags.push(entry.slice('tag: refs/tags/'.length));
  }
  return { ...(branch ? { branch } : {}), tags };
}

/** The last value of each key `git config --get-regexp` listed (as `git config --get` picks it). */
function configValues(stdout: string | undefined): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of stdout?.split(/\r?\n/) ?? []) {
    const space = line.indexOf(' ');
    if (space > 0) values.set(line.slice(0, space), line.slice(space + 1));
  }
  return values;
}

export async function gitFacts(cwd: string, env: Env = process.env, run: RunFn = runCommand): Promise<GitFacts | undefined> {
  // At most three git processes, started at once: each is a process start, and one query per
  // fact (seven, one after another at first) cost more than the rest of a small build's overhead.
  const git = (...args: string[]): Promise<string | undefined> =>
    run(['git', ...args], { cwd }).then((r) => (r.exitCode === 0 ? nonEmpty(r.stdout) : undefined));

  let tag = nonEmpty(env.CI_COMMIT_TAG);
  let branch: string | undefined;
  if (!tag && env.GITHUB_REF_TYPE === 'tag') tag = nonEmpty(env.GITHUB_REF_NAME);
  if (!tag && env.GITHUB_REF?.startsWith('refs/tags/')) tag = env.GITHUB_REF.slice('refs/tags/'.length);

  const fromCi = tag !== undefined || env.GITHUB_ACTIONS === 'true' || env.GITLAB_CI === 'true';
  if (!tag) {
    branch =
      nonEmpty(env.GITHUB_HEAD_REF) ??
      (env.GITHUB_REF_TYPE === 'branch' ? nonEmpty(env.GITHUB_REF_NAME) : undefined) ??
      (env.GITHUB_REF?.startsWith('refs/heads/') ? env.GITHUB_REF.slice('refs/heads/'.length) : undefined) ??
      nonEmpty(env.CI_COMMIT_BRANCH) ??
      nonEmpty(env.CI_COMMIT_REF_NAME);
  }
  const askGit = !fromCi || (!tag && !branch);
  const ciSha = nonEmpty(env.GITHUB_SHA) ?? nonEmpty(env.CI_COMMIT_SHA);
  const ciDefaultBranch = nonEmpty(env.CI_DEFAULT_BRANCH);
  const ciRemoteUrl =
    (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}` : undefined) ??
    nonEmpty(env.CI_PROJECT_URL);

  const pending = {
    // HEAD's sha, commit time, branch and tags in one process (NUL-separated: %D may be empty).
    head: git('show', '-s', '--no-show-signature', '--decorate=full', '--format=%H%x00%cI%x00%D', 'HEAD'),
    originHead: ciDefaultBranch ? undefined : git('symbolic-ref', '--short', 'refs/remotes/origin/HEAD'),
    config: ciDefaultBranch && ciRemoteUrl ? undefined : git('config', '--get-regexp', '^(init\\.defaultbranch|remote\\.origin\\.url)$'),
  };
  const [headSha = '', commitTime, decorations = ''] = ((await pending.head) ?? '').split('\0');
  const sha = ciSha ?? nonEmpty(headSha);
  if (!sha) {
    await Promise.all(Object.values(pending)); // not a git checkout (or no commit yet): let the rest finish quietly
    return undefined;
  }
  if (askGit) {
    const head = parseHeadDecorations(decorations.trim());
    tag ??= pickTag(head.tags);
    branch ??= head.branch;
  }
  const config = configValues(await pending.config);
  const defaultBranch =
    ciDefaultBranch ?? (await pending.originHead)?.replace(/^[^/]+\//, '') ?? config.get('init.defaultbranch') ?? 'main';
  const remoteUrl = ciRemoteUrl ?? config.get('remote.origin.url');

  return {
    sha,
    defaultBranch,
    ...(nonEmpty(commitTime) ? { commitTime: commitTime!.trim() } : {}),
    ...(branch ? { branch } : {}),
    ...(tag ? { tag } : {}),
    ...(remoteUrl ? { remoteUrl } : {}),
  };
}

/** One commit, as SOURCE_DATE_EPOCH and the revision label need it. */
export interface CommitStamp {
  sha: string;
  /** Committer time, seconds since the epoch. */
  time: number;
  /** It has no parent: the root, or the oldest commit of a shallow clone (which seems to change every file). */
  parentless: boolean;
}

/**
 * The last commit, from HEAD back, that changed a path the pathspecs match: one `git log -1`.
 * `--` ends the options, so a pathspec that starts with `-` is never a flag.
 */
export async function lastCommitOf(
  cwd: string,
  query: { pathspecs: readonly string[] },
  run: RunFn = runCommand,
): Promise<CommitStamp | undefined> {
  const argv = ['git', 'log', '-1', '--format=%H %ct %P', 'HEAD', '--', ...query.pathspecs];
  const r = await run(argv, { cwd });
  const m = r.exitCode === 0 ? /^([0-9a-f]{40,64}) (\d+)(.*)$/.exec(r.stdout.trim()) : null;
  return m ? { sha: m[1]!, time: Number(m[2]), parentless: m[3]!.trim() === '' } : undefined;
}

/** One commit of a file's history and the lines its diff added or removed (run/git.ts fileLineHistory). */
export interface LineChange {
  commit: CommitStamp;
  lines: string[];
}

/**
 * Parses `git log --format=%x00%H %ct %P -p --unified=0` output: newest commit first, each with the
 * added and removed lines of its hunks (the `+++`/`---` file headers are not lines of the file).
 */
export function parseLineHistory(stdout: string): LineChange[] {
  const out: LineChange[] = [];
  for (const chunk of stdout.split('\0').slice(1)) {
    const [head = '', ...rest] = chunk.split('\n');
    const m = /^([0-9a-f]{40,64}) (\d+)(.*)$/.exec(head);
    if (!m) continue;
    const lines: string[] = [];
    let inHunk = false;
    for (const line of rest) {
      if (line.startsWith('diff ')) inHunk = false;
      else if (line.startsWith('@@')) inHunk = true;
      else if (inHunk && (line.startsWith('+') || line.startsWith('-'))) lines.push(line.slice(1));
    }
    out.push({ commit: { sha: m[1]!, time: Number(m[2]), parentless: m[3]!.trim() === '' }, lines });
  }
  return out;
}

/**
 * Every commit, from HEAD back, that changed `file`, with the lines it added or removed: one
 * `git log -p` walk that answers `-G` for any number of regexps (the same commits, as the same
 * history simplification applies). `--` ends the options; the path is literal.
 */
export async function fileLineHistory(cwd: string, file: string, run: RunFn = runCommand): Promise<LineChange[] | undefined> {
  const argv = [
    'git',
    'log',
    '--format=%x00%H %ct %P',
    '-p',
    '--unified=0',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '--no-renames',
    'HEAD',
    '--',
    `:(literal)${file}`,
  ];
  const r = await run(argv, { cwd });
  return r.exitCode === 0 ? parseLineHistory(r.stdout) : undefined;
}
