import { describe, expect, it } from 'vitest';
import { resolveCliOptions, type ComposeCliOptions } from './project-options';
import { ComposeError } from './types';

/** A folder /w with a compose.yaml, plus whatever the case adds. Checked against docker compose 2.26. */
function io(files: Record<string, string>) {
  const all: Record<string, string> = { '/w/compose.yaml': 'services: {}\n', ...files };
  return {
    readFile: (p: string) => all[p],
    listDir: (dir: string) =>
      Object.keys(all)
        .filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'))
        .map((p) => p.slice(dir.length + 1)),
  };
}

describe('resolveCliOptions (docker compose flags and COMPOSE_* variables)', () => {
  it.each<[string, Partial<ComposeCliOptions>, Record<string, string>, Record<string, string>, { files: string[]; projectName?: string }]>([
    ['default file names', {}, {}, {}, { files: ['/w/compose.yaml'] }],
    [
      'COMPOSE_FILE from .env, default separator',
      {},
      { '/w/.env': 'COMPOSE_FILE=a.yml:sub/b.yml\n' },
      {},
      { files: ['/w/a.yml', '/w/sub/b.yml'] },
    ],
    [
      'COMPOSE_PATH_SEPARATOR',
      {},
      { '/w/.env': 'COMPOSE_PATH_SEPARATOR=;\nCOMPOSE_FILE=a.yml;b.yml\n' },
      {},
      { files: ['/w/a.yml', '/w/b.yml'] },
    ],
    [
      'COMPOSE_FILE from the process beats .env',
      {},
      { '/w/.env': 'COMPOSE_FILE=a.yml\n' },
      { COMPOSE_FILE: 'p.yml' },
      { files: ['/w/p.yml'] },
    ],
    ['-f beats COMPOSE_FILE', { files: ['/w/x.yml'] }, { '/w/.env': 'COMPOSE_FILE=a.yml\n' }, {}, { files: ['/w/x.yml'] }],
    [
      'COMPOSE_PROJECT_NAME from .env',
      {},
      { '/w/.env': 'COMPOSE_PROJECT_NAME=from-env\n' },
      {},
      { files: ['/w/compose.yaml'], projectName: 'from-env' },
    ],
    [
      'COMPOSE_PROJECT_NAME from the process beats .env',
      {},
      { '/w/.env': 'COMPOSE_PROJECT_NAME=from-env\n' },
      { COMPOSE_PROJECT_NAME: 'proc' },
      { files: ['/w/compose.yaml'], projectName: 'proc' },
    ],
    ['an empty COMPOSE_PROJECT_NAME is ignored', {}, { '/w/.env': 'COMPOSE_PROJECT_NAME=\n' }, {}, { files: ['/w/compose.yaml'] }],
    [
      '-p beats COMPOSE_PROJECT_NAME',
      { projectName: 'flag' },
      { '/w/.env': 'COMPOSE_PROJECT_NAME=from-env\n' },
      {},
      { files: ['/w/compose.yaml'], projectName: 'flag' },
    ],
    ['COMPOSE_PROFILES does not get in the way', {}, { '/w/.env': 'COMPOSE_PROFILES=a,b\n' }, {}, { files: ['/w/compose.yaml'] }],
    [
      '--env-file replaces .env',
      { envFiles: ['/w/ci.env'] },
      { '/w/.env': 'COMPOSE_PROJECT_NAME=dot\n', '/w/ci.env': 'COMPOSE_PROJECT_NAME=ci\n' },
      {},
      { files: ['/w/compose.yaml'], projectName: 'ci' },
    ],
  ])('%s', (_name, cli, files, processEnv, expected) => {
    const { fileSet } = resolveCliOptions({ workingDir: '/w', ...cli }, processEnv, io(files));
    expect(fileSet).toEqual({ projectDir: '/w', ...expected });
  });

  it('reads env files in order: later files win and see earlier values; the process wins over all', () => {
    const { env } = resolveCliOptions(
      { workingDir: '/w', envFiles: ['/w/a.env', '/w/b.env'] },
      { P: 'process' },
      io({ '/w/a.env': 'A=1\nB=a\nP=file\n', '/w/b.env': 'B=${A}-b\n' }),
    );
    expect(env.dotenv).toEqual({ A: '1', B: '1-b', P: 'file' });
    expect(env.dotenvFiles).toEqual(['/w/a.env', '/w/b.env']);
  });

  it.each<[string, Partial<ComposeCliOptions>, Record<string, string>, RegExp, string]>([
    [
      'invalid COMPOSE_PROJECT_NAME',
      {},
      { '/w/.env': 'COMPOSE_PROJECT_NAME=My.Proj\n' },
      /invalid project name "My.Proj" in COMPOSE_PROJECT_NAME/,
      '/w/.env',
    ],
    ['missing --env-file', { envFiles: ['/w/missing.env'] }, {}, /couldn't find env file: \/w\/missing.env/, '/w/missing.env'],
    ['no compose file in the folder', { workingDir: '/empty' }, {}, /no compose file found/, '/empty'],
  ])('error: %s', (_name, cli, files, message, file) => {
    let error: unknown;
    try {
      resolveCliOptions({ workingDir: '/w', ...cli }, {}, io(files));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as ComposeError).message).toMatch(message);
    expect((error as ComposeError).file).toBe(file);
  });
});
