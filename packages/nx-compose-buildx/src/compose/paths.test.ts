import { describe, expect, it } from 'vitest';
import { absContextPath, isRemoteContext, resolveModelPaths, resolveServicePaths } from './paths';

describe('paths', () => {
  it.each([
    ['.', '/proj'],
    ['./api', '/proj/api'],
    ['api/', '/proj/api'],
    ['../shared', '/shared'],
    ['/abs/ctx', '/abs/ctx'],
    ['~/ctx', '/home/me/ctx'],
    ['~', '/home/me'],
    ['service:base', 'service:base'],
    ['docker-image://alpine', 'docker-image://alpine'],
    ['oci-layout:///x', 'oci-layout:///x'],
    ['https://github.com/a/b.git#main', 'https://github.com/a/b.git#main'],
    ['http://example.com/ctx.tar.gz', 'http://example.com/ctx.tar.gz'],
    ['git@github.com:a/b.git', 'git@github.com:a/b.git'],
    ['git://host/repo', 'git://host/repo'],
    ['ssh://git@host/repo', 'ssh://git@host/repo'],
    ['github.com/a/b', 'github.com/a/b'],
  ])('context %s → %s', (ctx, expected) => {
    expect(absContextPath(ctx, '/proj', '/home/me')).toBe(expected);
  });

  it('isRemoteContext', () => {
    expect(isRemoteContext('./x')).toBe(false);
    expect(isRemoteContext('service:x')).toBe(true);
  });

  it('resolves build, additional contexts, env_file and extends.file; leaves dockerfile alone', () => {
    const out = resolveServicePaths(
      {
        build: { context: 'ctx', dockerfile: 'docker/Dockerfile', additional_contexts: ['a=./a', 'b=service:x'] },
        env_file: ['./a.env', { path: 'b.env', required: false }],
        extends: { file: 'base.yaml', service: 'x' },
      },
      '/proj/sub',
    );
    expect(out).toEqual({
      build: { context: '/proj/sub/ctx', dockerfile: 'docker/Dockerfile', additional_contexts: ['a=/proj/sub/a', 'b=service:x'] },
      env_file: ['/proj/sub/a.env', { path: '/proj/sub/b.env', required: false }],
      extends: { file: '/proj/sub/base.yaml', service: 'x' },
    });
    expect(resolveServicePaths({ build: './x' }, '/p')).toEqual({ build: '/p/x' });
  });

  it('resolves top-level secret and config files', () => {
    expect(
      resolveModelPaths({ secrets: { s: { file: './s.txt' }, e: { environment: 'E' } }, configs: { c: { file: '/abs' } } }, '/p'),
    ).toEqual({
      secrets: { s: { file: '/p/s.txt' }, e: { environment: 'E' } },
      configs: { c: { file: '/abs' } },
    });
  });
});
