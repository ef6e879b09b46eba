import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadComposeCliProject, loadComposeProjectFromDisk, readFileIfExists } from './load-from-disk';

const fixture = (name: string) => path.join(__dirname, '__fixtures__', 'oracle', name);

describe('loadComposeProjectFromDisk', () => {
  it('reads the project .env and lists it in files', () => {
    const dir = fixture('profiles-args');
    const p = loadComposeProjectFromDisk({ projectDir: dir, files: [path.join(dir, 'compose.yaml')] }, { HOME: '/h', FROM_ENV: 'p' });
    expect(p.files).toEqual([path.join(dir, 'compose.yaml'), path.join(dir, '.env')]);
    expect(p.services.hidden.build?.args).toMatchObject({ FROM_DOTENV: 'dotenv-value', FROM_ENV: 'p' });
  });

  it('gives the environment-free definition of a service that uses a process variable, from the same call', () => {
    const dir = fixture('profiles-args');
    const p = loadComposeProjectFromDisk({ projectDir: dir, files: [path.join(dir, 'compose.yaml')] }, { HOME: '/h', FROM_ENV: 'p' });
    expect(p.services.hidden.definition).toMatchObject({ build: { args: { FROM_ENV: 'p', FROM_DOTENV: 'dotenv-value' } } });
    expect(p.services.hidden.committedDefinition).toMatchObject({ build: { args: { FROM_DOTENV: 'dotenv-value' } } });
    expect((p.services.hidden.committedDefinition?.build as { args: object }).args).not.toHaveProperty('FROM_ENV');
    expect(p.services.mapped.committedDefinition).toBeUndefined();
    const unset = loadComposeProjectFromDisk({ projectDir: dir, files: [path.join(dir, 'compose.yaml')] }, { HOME: '/h' });
    expect(unset.services.hidden.committedDefinition).toBeUndefined();
  });

  it('works without a .env', () => {
    const dir = fixture('anchors');
    const p = loadComposeProjectFromDisk({ projectDir: dir, files: [path.join(dir, 'compose.yaml')] }, {});
    expect(p.files).toEqual([path.join(dir, 'compose.yaml')]);
  });

  it.each([
    [path.join(__dirname, 'no-such-file.yaml'), undefined],
    [path.join(__dirname, 'index.ts', 'below-a-file'), undefined],
  ])('readFileIfExists(%s) → %s', (p, expected) => expect(readFileIfExists(p)).toBe(expected));
});

describe('the lock view reads only files git tracks', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'nxcb-tracked-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'compose.yaml': [
      'include: [./inc/compose.yaml]',
      'services:',
      '  api:',
      '    image: reg.local/api:${TAG:-dev}',
      '    build: { context: ., args: { MODE: "${MODE:-plain}" } }',
      '',
    ].join('\n'),
    '.env': 'TAG=local-only\n',
    'ci.env': 'MODE=from-option-file\n',
    'inc/compose.yaml': 'services:\n  inc:\n    image: reg.local/inc:${INC:-one}\n    build: .\n',
    'inc/.env': 'INC=two\n',
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  const load = (untracked: string[] | undefined, envFiles?: string[]) =>
    loadComposeCliProject(
      { workingDir: root, ...(envFiles ? { envFiles: envFiles.map((f) => path.join(root, f)) } : {}) },
      {},
      untracked ? { isTracked: (abs) => !untracked.includes(path.relative(root, abs)) } : {},
    );
  const image = (d: Record<string, unknown> | null | undefined) => (d ? d.image : d);
  const mode = (d: Record<string, unknown> | null | undefined) => (d ? (d.build as { args: { MODE: string } }).args.MODE : d);

  it.each([
    ['outside a git checkout every file counts', undefined, undefined, { api: undefined, inc: undefined }],
    ['every file tracked: the lock view is the definition', [], undefined, { api: undefined, inc: undefined }],
    ['an untracked .env is not read', ['.env'], undefined, { api: 'reg.local/api:dev', inc: 'reg.local/inc:two' }],
    [
      "an included project's untracked .env is not read",
      ['inc/.env'],
      undefined,
      { api: 'reg.local/api:local-only', inc: 'reg.local/inc:one' },
    ],
    ['an untracked compose file defines nothing', ['compose.yaml'], undefined, { api: null, inc: null }],
    ['an untracked included file defines nothing', ['inc/compose.yaml'], undefined, { api: null, inc: null }],
  ] as const)('%s', (_name, untracked, envFiles, expected) => {
    const project = load(untracked ? [...untracked] : undefined, envFiles);
    expect(image(project.services.api.definition)).toBe('reg.local/api:local-only');
    expect(image(project.services.inc.definition)).toBe('reg.local/inc:two');
    expect(image(project.services.api.committedDefinition)).toBe(expected.api);
    expect(image(project.services.inc.committedDefinition)).toBe(expected.inc);
  });

  it('an untracked --env-file (envFiles option) leaves the service out of the lock; a tracked one is read', () => {
    // A clone has no such file, and Compose fails on a missing --env-file: the committed files define nothing.
    const untracked = load(['ci.env'], ['ci.env']);
    expect(mode(untracked.services.api.definition)).toBe('from-option-file');
    expect(untracked.services.api.committedDefinition).toBeNull();
    expect(load([], ['ci.env']).services.api.committedDefinition).toBeUndefined();
    // An untracked .env beside a tracked --env-file: the option file wins (Compose reads no .env then), nothing untracked is read.
    expect(load(['.env'], ['ci.env']).services.api.committedDefinition).toBeUndefined();
  });
});
