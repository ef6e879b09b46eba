import { describe, expect, it } from 'vitest';
import { loadComposeProject } from './load';
import { memoryFs } from './__fixtures__/memory-fs';
import { ComposeError } from './types';

const BASE = '/p/compose.yaml';
const OVERRIDE = '/p/compose.override.yaml';

function load(
  files: Record<string, string>,
  opts: { process?: Record<string, string>; dotenv?: Record<string, string>; name?: string } = {},
) {
  const fileList = [BASE, OVERRIDE].filter((f) => f in files);
  return loadComposeProject(
    { projectDir: '/p', files: fileList, projectName: opts.name },
    { process: opts.process ?? {}, dotenv: opts.dotenv ?? {}, dotenvFiles: opts.dotenv ? ['/p/.env'] : undefined },
    memoryFs(files),
  );
}

describe('loadComposeProject', () => {
  it('merges files in order and records sources, locations and variables per service', () => {
    const p = load(
      {
        [BASE]:
          'services:\n  web:\n    build:\n      context: ./web\n      platforms: ["${P1:-linux/amd64}"]\n    image: web:${TAG}\n  db:\n    image: postgres\n',
        [OVERRIDE]: '\nservices:\n  web:\n    build:\n      platforms: [linux/arm64]\n      args: [FROM_ENV]\n',
      },
      { process: { TAG: '1', FROM_ENV: 'x' }, dotenv: { P1: 'linux/riscv64' } },
    );
    const web = p.services.web;
    expect(web.build).toEqual({
      context: '/p/web',
      dockerfile: 'Dockerfile',
      platforms: ['linux/riscv64', 'linux/arm64'],
      args: { FROM_ENV: 'x' },
    });
    expect(web.image).toBe('web:1');
    expect(web.variables).toEqual(['FROM_ENV', 'P1', 'TAG']);
    expect(web.sources).toEqual([
      { file: BASE, line: 2 },
      { file: OVERRIDE, line: 3 },
    ]);
    expect(web.locations?.['build.platforms']).toEqual({ file: OVERRIDE, line: 5 });
    expect(web.locations?.['build.args.FROM_ENV']).toEqual({ file: OVERRIDE, line: 6 }); // each arg's own line (docker-explain)
    expect(web.locations?.image).toEqual({ file: BASE, line: 6 });
    expect(p.services.db).toMatchObject({ image: 'postgres', variables: [], sources: [{ file: BASE, line: 7 }] });
    expect(p.services.db.build).toBeUndefined();
    expect(p.files).toEqual([BASE, OVERRIDE, '/p/.env']);
  });

  it('records the line of each x-nx-buildx key, for warnings about one key', () => {
    const p = load({
      [BASE]: 'services:\n  api:\n    build: .\n    x-nx-buildx:\n      verify: [true]\n      platformArg: {}\n',
    });
    expect(p.services.api.locations?.['x-nx-buildx']).toEqual({ file: BASE, line: 4 });
    expect(p.services.api.locations?.['x-nx-buildx.platformArg']).toEqual({ file: BASE, line: 6 });
  });

  it('process env wins over .env', () => {
    const p = load({ [BASE]: 'services:\n  a:\n    image: "${V}"\n' }, { process: { V: 'process' }, dotenv: { V: 'dotenv' } });
    expect(p.services.a.image).toBe('process');
  });

  it('lenientRequired turns missing required variables into empty values', () => {
    const p = loadComposeProject(
      { projectDir: '/p', files: [BASE] },
      { process: {}, dotenv: {} },
      memoryFs({ [BASE]: 'services:\n  a:\n    image: "x${TAG:?set TAG}"\n' }),
      { lenientRequired: true },
    );
    expect(p.services.a).toMatchObject({ image: 'x', variables: ['TAG'] });
  });

  it('keeps services that have profiles', () => {
    const p = load({ [BASE]: 'services:\n  a:\n    image: x\n    profiles: [debug]\n' });
    expect(p.services.a.profiles).toEqual(['debug']);
  });

  it.each([
    [{ name: 'Explicit' }, 'name: FromFile\nservices: {}\n', 'explicit'],
    [{}, 'name: From.File\nservices: {}\n', 'fromfile'],
    [{}, 'name: ${PROJECT}\nservices: {}\n', 'fromenv'],
    [{}, 'services: {}\n', 'p'],
  ])('project name %j', (opts, text, expected) => {
    expect(load({ [BASE]: text }, { ...opts, process: { PROJECT: 'FromEnv' } }).name).toBe(expected);
  });

  it('values with shell metacharacters are plain data', () => {
    const p = load({ [BASE]: 'services:\n  a:\n    build:\n      context: "./$$(x)"\n      args: {X: "`id` && $$(id)"}\n' });
    expect(p.services.a.build).toMatchObject({ context: '/p/$(x)', args: { X: '`id` && $(id)' } });
  });

  it.each([
    ['a;rm -rf $HOME', /services Additional property a;rm -rf \$HOME is not allowed/, 2],
    ['a b', /services Additional property a b is not allowed/, 2],
  ])('service name %j is an error of that service (file, line, service); the others load', (name, message, line) => {
    const p = load({ [BASE]: `services:\n  "${name}":\n    build: .\n  ok:\n    build: .\n` });
    expect(p.services.ok.error).toBeUndefined();
    expect(p.services[name].error).toMatchObject({ file: BASE, line, service: name });
    expect(p.services[name].error!.message).toMatch(message);
  });

  it.each([
    [
      'an unknown service-level key (platforms: belongs under build:)',
      'services:\n  a:\n    build: .\n    platforms: [linux/amd64]\n',
      /services\.a Additional property platforms is not allowed/,
      4,
    ],
    [
      'build.platforms not a list',
      'services:\n  a:\n    build:\n      context: .\n      platforms: linux/amd64\n',
      /services\.a\.build\.platforms must be a list/,
      5,
    ],
    ['ports not a list', 'services:\n  a:\n    image: x\n    ports: {a: 1}\n', /services\.a\.ports must be a list/, 4],
    [
      'a pull_policy Compose 2.26 does not know',
      'services:\n  a:\n    image: x\n    pull_policy: refresh\n',
      /services\.a\.pull_policy must be one of the following: "always", "never", "if_not_present", "build", "missing"/,
      4,
    ],
  ])("compose-spec schema: %s is an error of that service, with Compose's reason", (_name, text, message, line) => {
    const p = load({ [BASE]: `${text}  ok:\n    build: .\n` });
    expect(p.services.ok.error).toBeUndefined();
    expect(p.services.a.error).toMatchObject({ file: BASE, line, service: 'a' });
    expect(p.services.a.error!.message).toMatch(message);
  });

  it('a schema problem outside services fails the file, naming the line', () => {
    expect(() => load({ [BASE]: 'services: {}\nnetworks: [a]\n' })).toThrow(/compose\.yaml:2: networks must be a mapping/);
  });

  it('resolves secrets files and names them like Compose', () => {
    const p = load({ [BASE]: 'name: proj\nservices: {}\nsecrets:\n  s:\n    file: ./s.txt\n  e:\n    environment: E\n' });
    expect(p.secrets).toEqual({ s: { file: '/p/s.txt', name: 'proj_s' }, e: { environment: 'E', name: 'proj_e' } });
  });

  it.each<[string, Record<string, string>, RegExp, { file: string; line?: number; service?: string }]>([
    ['YAML syntax error', { [BASE]: 'services:\n  a:\n    build: .\n   image: x\n' }, /invalid YAML/, { file: BASE, line: 4 }],
    ['YAML error in the override', { [BASE]: 'services: {}\n', [OVERRIDE]: 'services:\n  a: [\n' }, /invalid YAML/, { file: OVERRIDE }],
    [
      'unset ${X:?msg}',
      { [BASE]: 'services:\n  api:\n    build: .\n    image: ${X:?X must be set}\n' },
      /error while interpolating services\.api\.image: required variable X is missing a value: X must be set/,
      { file: BASE, line: 4, service: 'api' },
    ],
    [
      '${} in a list item',
      { [BASE]: 'services:\n  api:\n    build:\n      tags:\n        - ok\n        - "${}"\n' },
      /invalid interpolation format/,
      { file: BASE, line: 6, service: 'api' },
    ],
    ['${X?} outside services', { [BASE]: 'name: ${X?}\nservices: {}\n' }, /required variable X/, { file: BASE, line: 1 }],
    [
      'extends cycle',
      { [BASE]: 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n' },
      /circular extends/,
      { file: BASE, line: 3, service: 'a' },
    ],
    [
      'missing extended file',
      { [BASE]: 'services:\n  a:\n    extends:\n      file: missing.yaml\n      service: x\n' },
      /compose file not found: \/p\/missing.yaml/,
      { file: BASE, line: 3, service: 'a' },
    ],
    [
      'include conflict',
      { [BASE]: 'include: [lib.yaml]\nservices:\n  a:\n    image: x\n', '/p/lib.yaml': 'services:\n  a:\n    image: y\n' },
      /services\.a conflicts with imported resource/,
      { file: BASE, line: 3, service: 'a' },
    ],
    [
      'merge type mismatch',
      {
        [BASE]: 'services:\n  a:\n    build: {context: ., platforms: [x]}\n',
        [OVERRIDE]: 'services:\n  a:\n    build:\n      platforms: y\n',
      },
      /cannot override services\.a\.build\.platforms/,
      { file: OVERRIDE, line: 4, service: 'a' },
    ],
    ['services not a mapping', { [BASE]: 'services: [a]\n' }, /services must be a mapping/, { file: BASE, line: 1 }],
  ])('error: %s', (_name, files, message, where) => {
    let error: unknown;
    try {
      load(files);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as Error).message).toMatch(message);
    expect(error).toMatchObject(where);
    expect((error as Error).message.startsWith(where.file)).toBe(true);
  });

  it("a service of the wrong shape is that service's error, at the key's line; the others load", () => {
    const project = load({ [BASE]: 'services:\n  a:\n    build:\n      context: .\n      platforms: linux/amd64\n  b:\n    build: .\n' });
    expect(project.services.a.error).toBeInstanceOf(ComposeError);
    expect(project.services.a.error).toMatchObject({
      file: BASE,
      line: 5,
      service: 'a',
      detail: 'services.a.build.platforms must be a list',
    });
    expect(project.services.b.build?.context).toBeDefined();
  });
});
