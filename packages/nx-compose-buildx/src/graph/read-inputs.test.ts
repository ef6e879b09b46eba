import { describe, expect, it } from 'vitest';
import { ignoredPaths } from './dockerignore';
import type { ContextReads } from './dockerfile-reads';
import { followLinks, linkTargetInContext, patternReads, readInputs } from './read-inputs';

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

describe('linkTargetInContext: a symlink target resolved inside the context, as BuildKit resolves it', () => {
  it.each<[string, string, string]>([
    ['link.txt', 'real.txt', 'real.txt'],
    ['sub/l', '../real.txt', 'real.txt'],
    ['sub/l', 'deeper/x', 'sub/deeper/x'],
    ['abs.txt', '/real.txt', 'real.txt'], // absolute: from the context root (checked against BuildKit)
    ['sub/l', '../../../etc/passwd', 'etc/passwd'], // `..` stops at the root
    ['l', '/', ''],
    ['sub/l', '..', ''],
  ])('%s -> %s reads %j', (link, target, want) => expect(linkTargetInContext(link, target)).toBe(want));
});

describe('followLinks: what a COPY of a symlink reads', () => {
  const paths = (...p: string[]): ContextReads => ({ whole: false, paths: p });
  it.each<[string, ContextReads, Record<string, string>, ContextReads]>([
    ['no links: the same reads', paths('src'), {}, paths('src')],
    ['a copied link reads its target', paths('link.txt'), { 'link.txt': 'real.txt' }, paths('link.txt', 'real.txt')],
    ['a wildcard that matches a link', paths('l*.txt'), { 'link.txt': 'real.txt', 'other/l.txt': 'x' }, paths('l*.txt', 'real.txt')],
    ['through a linked folder', paths('linkdir/f.txt'), { linkdir: 'realdir' }, paths('linkdir/f.txt', 'realdir/f.txt')],
    [
      'a wildcard after a linked folder stays a wildcard',
      paths('linkdir/*.js'),
      { linkdir: 'lib/real' },
      paths('linkdir/*.js', 'lib/real/*.js'),
    ],
    ['a link below a copied folder is copied as a link', paths('sub'), { 'sub/l': '../real.txt' }, paths('sub')],
    ['an absolute target', paths('abs.txt'), { 'abs.txt': '/conf/app.conf' }, paths('abs.txt', 'conf/app.conf')],
    ['a chain of links', paths('a'), { a: 'b', b: 'c/d' }, paths('a', 'b', 'c/d')],
    ['a loop ends', paths('a'), { a: 'b', b: 'a' }, paths('a', 'b')],
    ['a target already read adds nothing', paths('link.txt', 'real.txt'), { 'link.txt': 'real.txt' }, paths('link.txt', 'real.txt')],
    ['a target with a pattern character: everything below its last plain folder', paths('l'), { l: 'dir/we*rd/x' }, paths('l', 'dir')],
    ['a link to the context root: the whole context', paths('root/src'), { root: '..' }, paths('root/src', 'src')],
    [
      'a copied link to the context root: the whole context',
      paths('root'),
      { root: '/' },
      { whole: true, reasons: ['root links to the context root'] },
    ],
    ['whole stays whole', { whole: true, reasons: ['COPY . .'] }, { l: 'x' }, { whole: true, reasons: ['COPY . .'] }],
  ])('%s', (_name, reads, links, want) => expect(followLinks(reads, links)).toEqual(want));

  it('the followed path is read by the instructions that read the link (for docker-explain)', () => {
    const site = { line: 3, instruction: 'COPY link.txt' };
    const reads: ContextReads = { whole: false, paths: ['link.txt'], readBy: { 'link.txt': [site] } };
    expect(followLinks(reads, { 'link.txt': 'real.txt' })).toEqual({
      whole: false,
      paths: ['link.txt', 'real.txt'],
      readBy: { 'link.txt': [site], 'real.txt': [site] },
    });
  });

  it('so many links that they cannot all be followed: the whole context', () => {
    const links = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`l${i}`, `l${i + 1}`]));
    expect(followLinks(paths('l0'), links)).toEqual({ whole: true, reasons: ['more than 256 symlinks to follow'] });
  });
});
