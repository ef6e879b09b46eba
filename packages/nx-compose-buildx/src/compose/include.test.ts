import { describe, expect, it } from 'vitest';
import { loadComposeProject } from './load';
import { memoryFs } from './__fixtures__/memory-fs';
import { ComposeError } from './types';

const load = (files: Record<string, string>, dotenv: Record<string, string> = {}, processEnv: Record<string, string> = {}) =>
  loadComposeProject({ projectDir: '/p', files: ['/p/compose.yaml'] }, { process: processEnv, dotenv }, memoryFs(files));

describe('include', () => {
  it('loads an included file as a sub-project with its own folder and .env (the parent env wins)', () => {
    const p = load(
      {
        '/p/compose.yaml': 'include:\n  - lib/compose.yaml\nservices:\n  main:\n    build: .\n',
        '/p/lib/compose.yaml': 'services:\n  lib:\n    build:\n      context: ./ctx\n      args: {A: "${A}", B: "${B}"}\n',
        '/p/lib/.env': 'A=lib\nB=lib\n',
      },
      { A: 'root' },
    );
    expect(p.services.lib.build).toEqual({ context: '/p/lib/ctx', dockerfile: 'Dockerfile', args: { A: 'root', B: 'lib' } });
    expect(p.services.main.build?.context).toBe('/p');
    expect(p.services.lib.variables).toEqual(['A', 'B']);
    expect(p.files).toEqual(['/p/compose.yaml', '/p/lib/.env', '/p/lib/compose.yaml']);
  });

  it('long form: project_directory, env_file and several paths', () => {
    const p = load({
      '/p/compose.yaml': 'include:\n  - path: [inc/a.yaml, inc/b.yaml]\n    project_directory: proj\n    env_file: inc/vars.env\n',
      '/p/inc/a.yaml': 'services:\n  x:\n    build: ./ctx\n    image: "${IMG}"\n',
      '/p/inc/b.yaml': 'services:\n  x:\n    build: {platforms: [linux/arm64]}\n',
      '/p/inc/vars.env': 'IMG=from-env-file\n',
    });
    expect(p.services.x.build).toEqual({ context: '/p/proj/ctx', dockerfile: 'Dockerfile', platforms: ['linux/arm64'] });
    expect(p.services.x.image).toBe('from-env-file');
  });

  it('an identical definition is not a conflict', () => {
    const p = load({
      '/p/compose.yaml': 'include: [lib.yaml]\nservices:\n  a:\n    image: x\n',
      '/p/lib.yaml': 'services:\n  a:\n    image: x\n',
    });
    expect(p.services.a.image).toBe('x');
  });

  it.each([
    [
      'conflict',
      { '/p/compose.yaml': 'include: [lib.yaml]\nservices:\n  a:\n    image: x\n', '/p/lib.yaml': 'services:\n  a:\n    image: y\n' },
      /services.a conflicts with imported resource/,
      3,
      'a',
    ],
    ['missing file', { '/p/compose.yaml': 'include:\n  - nope.yaml\n' }, /compose file not found: \/p\/nope.yaml/, 2, undefined],
    [
      'cycle',
      { '/p/compose.yaml': 'include:\n  - lib.yaml\n', '/p/lib.yaml': 'include:\n  - compose.yaml\n' },
      /include cycle/,
      undefined,
      undefined,
    ],
    ['not a list', { '/p/compose.yaml': 'include: lib.yaml\n' }, /include must be a list/, 1, undefined],
  ])('error: %s', (_name, files, message, line, service) => {
    let error: unknown;
    try {
      load(files);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as Error).message).toMatch(message);
    if (line !== undefined) expect(error).toMatchObject({ line });
    expect((error as ComposeError).service).toBe(service);
  });
});
