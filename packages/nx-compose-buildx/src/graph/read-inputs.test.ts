import { describe, expect, it } from 'vitest';
import { ignoredPaths } from './dockerignore';
import { patternReads, readInputs } from './read-inputs';

describe('readInputs', () => {
  const files = [
    'compose.yaml',
    'src/api/main.go',
    'src/api/debug.log',
    'src/web/app.js',
    'pb/api.proto',
    'pb/gen/x.pb.go',
    'node_modules/x/i.js',
    'README.md',
    'a[1].txt',
  ];
  const ignored = ignoredPaths({ files, ignorePatterns: ['**/*.log', 'node_modules', 'compose.yaml', '*.md'], keep: [] });

  it('lists ignored files and wholly ignored folders', () => {
    expect(ignored).toEqual([
      { path: 'README.md', folder: false },
      { path: 'compose.yaml', folder: false },
      { path: 'node_modules', folder: true },
      { path: 'src/api/debug.log', folder: false },
    ]);
  });

  it.each([
    {
      name: 'a literal folder: itself, everything below, the ignored files below it',
      ctx: '.',
      paths: ['src/api'],
      globs: ['{workspaceRoot}/src/api', '{workspaceRoot}/src/api/**/*', '!{workspaceRoot}/src/api/debug.log'],
    },
    {
      name: 'several reads in a sub-folder context',
      ctx: 'apps',
      paths: ['pb', 'src/web/app.js'],
      globs: [
        '{workspaceRoot}/apps/pb',
        '{workspaceRoot}/apps/pb/**/*',
        '{workspaceRoot}/apps/src/web/app.js',
        '{workspaceRoot}/apps/src/web/app.js/**/*',
      ],
    },
    {
      name: 'wildcards map to globset; the ignored files they reach are negated',
      ctx: '',
      paths: ['*.md', 'src/[^w]*'],
      globs: [
        '{workspaceRoot}/*.md',
        '{workspaceRoot}/*.md/**/*',
        '{workspaceRoot}/src/[!w]*',
        '{workspaceRoot}/src/[!w]*/**/*',
        '!{workspaceRoot}/README.md',
        '!{workspaceRoot}/src/api/debug.log',
      ],
    },
    {
      name: 'a read inside an ignored folder keeps the folder negation',
      ctx: '',
      paths: ['node_modules/x'],
      globs: ['{workspaceRoot}/node_modules/x', '{workspaceRoot}/node_modules/x/**/*', '!{workspaceRoot}/node_modules/**/*'],
    },
    {
      name: 'metacharacters in names are escaped',
      ctx: '',
      paths: ['a(1)+b!.txt'],
      globs: ['{workspaceRoot}/a\\(1\\)\\+b\\!.txt', '{workspaceRoot}/a\\(1\\)\\+b\\!.txt/**/*'],
    },
  ])('$name', ({ ctx, paths, globs }) => {
    expect(readInputs(ctx, { whole: false, paths }, ignored)).toEqual(globs);
  });

  it('the whole context: the context glob and every negation', () => {
    expect(readInputs('.', { whole: true, reasons: [] }, ignored)).toEqual([
      '{workspaceRoot}/**/*',
      '!{workspaceRoot}/README.md',
      '!{workspaceRoot}/compose.yaml',
      '!{workspaceRoot}/node_modules/**/*',
      '!{workspaceRoot}/src/api/debug.log',
    ]);
  });

  it.each([
    ['src', 'src/api/main.go', true],
    ['src/api', 'src/api', true],
    ['src/*.go', 'src/main.go', true],
    ['src/*.go', 'src/sub/x.go', false],
    ['src/[a-c]?.go', 'src/b1.go', true],
    ['src/api', 'src/apiary/x', false],
    ['go.mod', 'go.sum', false],
  ])('patternReads(%s, %s) is %s', (pattern, path, reads) => {
    expect(patternReads(pattern, path)).toBe(reads);
  });

  it('nothing read: no context input at all', () => {
    expect(readInputs('.', { whole: false, paths: [] }, ignored)).toEqual([]);
  });

  it('keep files are never negated', () => {
    const kept = ignoredPaths({
      files,
      ignorePatterns: ['compose.yaml', 'node_modules', 'src'],
      keep: ['compose.yaml', 'src/api/main.go'],
    });
    expect(kept).toEqual([
      { path: 'node_modules', folder: true },
      { path: 'src/api/debug.log', folder: false },
      { path: 'src/web', folder: true },
    ]);
  });
});
