import { describe, expect, it } from 'vitest';
import { loadComposeProject } from './load';
import { memoryFs } from './__fixtures__/memory-fs';
import { ComposeError } from './types';

const load = (files: Record<string, string>, env: Record<string, string> = {}) =>
  loadComposeProject({ projectDir: '/p', files: ['/p/compose.yaml'] }, { process: env, dotenv: {} }, memoryFs(files));

describe('extends', () => {
  it.each([
    [
      'same file, string form',
      { '/p/compose.yaml': 'services:\n  base:\n    build: ./b\n    image: base\n  child:\n    extends: base\n    image: child\n' },
      'child',
      { build: { context: '/p/b', dockerfile: 'Dockerfile' }, image: 'child' },
    ],
    [
      'same file, mapping form, chained',
      {
        '/p/compose.yaml':
          'services:\n  a:\n    build: {context: ./a, platforms: [x]}\n  b:\n    extends: {service: a}\n    build: {platforms: [y]}\n  c:\n    extends: b\n    build: {args: {K: v}}\n',
      },
      'c',
      { build: { context: '/p/a', dockerfile: 'Dockerfile', platforms: ['x', 'y'], args: { K: 'v' } } },
    ],
    [
      'other file: paths rebased on its folder, dockerfile kept',
      {
        '/p/compose.yaml': 'services:\n  svc:\n    extends: {file: lib/base.yaml, service: base}\n',
        '/p/lib/base.yaml':
          'services:\n  base:\n    build:\n      context: ./ctx\n      dockerfile: ../Dockerfile\n      additional_contexts: {tools: ../tools, s: "service:x"}\n',
      },
      'svc',
      { build: { context: '/p/lib/ctx', dockerfile: '../Dockerfile', additional_contexts: { tools: '/p/tools', s: 'service:x' } } },
    ],
    [
      'other file that extends a third file (nested rebasing)',
      {
        '/p/compose.yaml': 'services:\n  svc:\n    extends: {file: lib/base.yaml, service: mid}\n',
        '/p/lib/base.yaml': 'services:\n  mid:\n    extends: {file: deep/d.yaml, service: deep}\n    build: {args: {MID: "1"}}\n',
        '/p/lib/deep/d.yaml': 'services:\n  deep:\n    build: ./dctx\n',
      },
      'svc',
      { build: { context: '/p/lib/deep/dctx', dockerfile: 'Dockerfile', args: { MID: '1' } } },
    ],
    [
      'extended service without context uses the project folder',
      {
        '/p/compose.yaml': 'services:\n  svc:\n    extends: {file: o/f.yaml, service: x}\n',
        '/p/o/f.yaml': 'services:\n  x:\n    build: {dockerfile: D}\n',
      },
      'svc',
      { build: { context: '/p', dockerfile: 'D' } },
    ],
    [
      '!reset in the extending service',
      {
        '/p/compose.yaml':
          'services:\n  a:\n    build: {context: ., args: {A: "1"}}\n    image: a\n  b:\n    extends: a\n    build: {args: !reset {}}\n    image: !reset\n',
      },
      'b',
      { build: { context: '/p', dockerfile: 'Dockerfile' } },
    ],
  ])('%s', (_name, files, service, expected) => {
    const s = load(files).services[service];
    expect({ build: s.build, ...(s.image !== undefined ? { image: s.image } : {}) }).toEqual(expected);
  });

  it('records variables and sources from the extended definitions', () => {
    const p = load(
      {
        '/p/compose.yaml': 'services:\n  svc:\n    extends: {file: lib/base.yaml, service: base}\n    image: ${IMG}\n',
        '/p/lib/base.yaml': 'services:\n  other:\n    image: ${NOT_MINE}\n  base:\n    build: ./${CTX:-ctx}\n',
      },
      { IMG: 'i' },
    );
    expect(p.services.svc.variables).toEqual(['CTX', 'IMG']);
    expect(p.services.svc.sources).toEqual([
      { file: '/p/lib/base.yaml', line: 4 },
      { file: '/p/compose.yaml', line: 2 },
    ]);
    expect(p.files).toEqual(['/p/compose.yaml', '/p/lib/base.yaml']);
  });

  it.each([
    [
      'cycle',
      'services:\n  a:\n    extends: b\n  b:\n    extends: c\n  c:\n    extends: a\n',
      /circular extends: a \(\/p\/compose.yaml\) -> b .* -> c .* -> a/,
      3,
    ],
    ['self', 'services:\n  a:\n    extends: a\n', /circular extends/, 3],
    ['unknown service', 'services:\n  a:\n    extends: zz\n', /service "zz" not found in \/p\/compose.yaml/, 3],
    ['missing file', 'services:\n  a:\n    extends: {file: nope.yaml, service: x}\n', /compose file not found: \/p\/nope.yaml/, 3],
  ])('error: %s', (_name, text, message, line) => {
    let error: unknown;
    try {
      load({ '/p/compose.yaml': text });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeError);
    expect(error).toMatchObject({ file: '/p/compose.yaml', line, service: 'a' });
    expect((error as Error).message).toMatch(message);
  });
});
