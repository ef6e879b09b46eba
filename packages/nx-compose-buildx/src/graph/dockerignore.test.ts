import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { contextInputs, createPrunePredicate, escapeNxGlob, includedFiles, parseIgnoreRules, selectIgnoreFile } from './dockerignore';

describe('selectIgnoreFile', () => {
  const table: Array<[string, string | undefined, string, string[], string | undefined]> = [
    [
      'Dockerfile-specific file wins',
      'build/api.Dockerfile',
      'svc',
      ['build/api.Dockerfile.dockerignore', 'svc/.dockerignore'],
      'build/api.Dockerfile.dockerignore',
    ],
    [
      'default Dockerfile name also has a specific file',
      'svc/Dockerfile',
      'svc',
      ['svc/Dockerfile.dockerignore', 'svc/.dockerignore'],
      'svc/Dockerfile.dockerignore',
    ],
    ['falls back to the context .dockerignore', 'build/api.Dockerfile', 'svc', ['svc/.dockerignore'], 'svc/.dockerignore'],
    ['root context ""', 'Dockerfile', '', ['.dockerignore'], '.dockerignore'],
    ['root context "."', 'Dockerfile', '.', ['.dockerignore'], '.dockerignore'],
    ['context with trailing slash', 'a/Dockerfile', 'a/', ['a/.dockerignore'], 'a/.dockerignore'],
    ['inline Dockerfile: context file only', undefined, 'svc', ['svc/.dockerignore'], 'svc/.dockerignore'],
    [
      'a .dockerignore beside the Dockerfile but outside the context is not used',
      'build/Dockerfile',
      'svc',
      ['build/.dockerignore'],
      undefined,
    ],
    ['none', 'svc/Dockerfile', 'svc', [], undefined],
  ];
  it.each(table)('%s', (_name, dockerfile, ctx, existing, expected) => {
    const set = new Set(existing);
    expect(selectIgnoreFile(dockerfile, ctx, (p) => set.has(p))).toBe(expected);
  });
});

describe('parseIgnoreRules (moby ignorefile.ReadAll)', () => {
  it.each<[string, string, Array<[string, boolean]>]>([
    [
      'comments, blank lines, trimming',
      '# c\n\n  node_modules  \n\t*.log\t\n',
      [
        ['node_modules', false],
        ['*.log', false],
      ],
    ],
    ['" #" is a pattern, not a comment', ' # not a comment', [['# not a comment', false]]],
    ['negation with spaces', '!  keep.txt', [['keep.txt', true]]],
    [
      './ prefix and trailing / are cleaned',
      './tmp/\n/dist/\n//abs',
      [
        ['tmp', false],
        ['dist', false],
        ['abs', false],
      ],
    ],
    ['lone ! is dropped', '!\n!   ', []],
    [
      'CRLF and BOM',
      '\uFEFFa\r\nb\r\n',
      [
        ['a', false],
        ['b', false],
      ],
    ],
    [
      '.. is cleaned',
      'a/../b\n../c',
      [
        ['b', false],
        ['../c', false],
      ],
    ],
  ])('%s', (_n, text, expected) => {
    expect(parseIgnoreRules(text).map((r) => [r.pattern, r.negated])).toEqual(expected);
  });
});

/** Tricky cases; expectations follow moby/patternmatcher (BuildKit), which @balena/dockerignore agrees with. */
const matchCases: Array<{ name: string; patterns: string[]; files: string[]; included: string[] }> = [
  {
    name: '! re-include: *.md then !README.md',
    patterns: ['*.md', '!README.md'],
    files: ['CHANGELOG.md', 'README.md', 'docs/a.md', 'src/x.ts'],
    included: ['README.md', 'docs/a.md', 'src/x.ts'],
  },
  {
    name: '** with re-includes',
    patterns: ['**/*.md', '!**/README.md'],
    files: ['README.md', 'a.md', 'docs/README.md', 'docs/b.md', 'docs/deep/c.md', 'x.ts'],
    included: ['README.md', 'docs/README.md', 'x.ts'],
  },
  {
    name: 'folder excluded then one file re-included',
    patterns: ['docs', '!docs/keep.md'],
    files: ['a', 'docs/keep.md', 'docs/other.md', 'docs/sub/x.md'],
    included: ['a', 'docs/keep.md'],
  },
  {
    name: '* then !dir',
    patterns: ['*', '!dir'],
    files: ['a', 'b/c', 'dir/x', 'dir/y/z'],
    included: ['dir/x', 'dir/y/z'],
  },
  {
    name: 'leading / and trailing /',
    patterns: ['/build', 'logs/'],
    files: ['build/a', 'logs/1', 'src/build/b', 'src/logs/2'],
    included: ['src/build/b', 'src/logs/2'],
  },
  { name: './ prefix', patterns: ['./tmp'], files: ['a/tmp/x', 'tmp/x'], included: ['a/tmp/x'] },
  {
    name: '? matches one non-slash character',
    patterns: ['file?.txt'],
    files: ['file.txt', 'file1.txt', 'file10.txt'],
    included: ['file.txt', 'file10.txt'],
  },
  { name: '[a-c] class', patterns: ['[a-c].txt'], files: ['a.txt', 'c.txt', 'd.txt'], included: ['d.txt'] },
  {
    name: '** then !src then a narrower exclude',
    patterns: ['**', '!src', 'src/**/*.tmp'],
    files: ['a', 'lib/q', 'src/d/z.tmp', 'src/x.ts', 'src/y.tmp'],
    included: ['src/x.ts'],
  },
  {
    name: 'comments and spaces',
    patterns: ['# comment', '', '   node_modules   ', ' # spaced'],
    files: ['# comment', '# spaced', 'a', 'node_modules/x/y.js'],
    included: ['# comment', 'a'],
  },
  { name: '* does not cross /', patterns: ['*.log'], files: ['a.log', 'd/b.log'], included: ['d/b.log'] },
  { name: 'dir/* excludes the subtree', patterns: ['d/*'], files: ['d/a', 'd/e/f', 'dd/a'], included: ['dd/a'] },
  { name: 'matching is case-sensitive', patterns: ['*.MD'], files: ['A.MD', 'a.md'], included: ['a.md'] },
  {
    name: 'regex metacharacters are literal (modern BuildKit escapes + ( ) | { })',
    patterns: ['foo(1).txt', 'a+b', 'x|y', '{z}'],
    files: ['a+b', 'aab', 'foo(1).txt', 'foo1.txt', 'x', 'x|y', 'y', '{z}', 'z'],
    included: ['aab', 'foo1.txt', 'x', 'y', 'z'],
  },
  { name: 'escaped * is literal', patterns: ['\\*.txt'], files: ['*.txt', 'a.txt'], included: ['a.txt'] },
  {
    name: 'last matching rule wins (re-exclude after re-include)',
    patterns: ['*.md', '!README.md', 'README.md'],
    files: ['README.md', 'x'],
    included: ['x'],
  },
  {
    name: 're-including a file below a re-excluded folder',
    patterns: ['a', '!a/b', 'a/b/c', '!a/b/c/keep'],
    files: ['a/b/c/keep', 'a/b/c/lose', 'a/b/x', 'a/y'],
    included: ['a/b/c/keep', 'a/b/x'],
  },
  {
    name: 'Dockerfile and .dockerignore listed are left out of the sent files',
    patterns: ['Dockerfile', '.dockerignore'],
    files: ['.dockerignore', 'Dockerfile', 'app.js'],
    included: ['app.js'],
  },
];

describe('includedFiles (BuildKit semantics through @balena/dockerignore)', () => {
  it.each(matchCases)('$name', ({ patterns, files, included }) => {
    expect(includedFiles(files, patterns)).toEqual(included);
  });
  it('accepts the ignore file text', () => {
    expect(includedFiles(['a.md', 'b'], '# x\n*.md\n')).toEqual(['b']);
  });
});

// -----------------------------------------------------------------------------------------
// Nx's own glob engine (native build_glob_set, used for task inputs), when it loads here.
type MatchGlobPaths = (globs: string[], paths: string[]) => boolean[];
let nxMatch: MatchGlobPaths | undefined;
try {
  nxMatch = (createRequire(__filename)('nx/src/native') as { matchGlobPaths?: MatchGlobPaths }).matchGlobPaths;
} catch {
  nxMatch = undefined;
}

/** Which workspace files an Nx input list selects (inputs are {workspaceRoot}/… filesets). */
function nxSelected(inputs: string[], wsFiles: string[]): string[] {
  const globs = inputs.map((g) => g.replace('{workspaceRoot}/', ''));
  const hits = (nxMatch as MatchGlobPaths)(globs, wsFiles);
  return wsFiles.filter((_, i) => hits[i]);
}

// Never skipped: without Nx's matcher these tests would prove nothing, so its absence is a failure.
it("Nx's native glob matcher loads (the Nx-vs-BuildKit tests need it)", () => {
  expect(nxMatch).toBeTypeOf('function');
});

describe('Nx glob forms (native matcher)', () => {
  it.each<[string, string[], string[]]>([
    ['dir/**/* covers every depth and dotfiles, not the folder name', ['d/**/*'], ['d/.env', 'd/a', 'd/x/.y/z']],
    ['dir/** is equivalent', ['d/**'], ['d/.env', 'd/a', 'd/x/.y/z']],
    ['a negation beats the positive', ['d/**/*', '!d/x/**/*'], ['d/.env', 'd/a']],
    ['a file negation', ['d/**/*', '!d/a'], ['d/.env', 'd/x/.y/z']],
  ])('%s', (_n, globs, expected) => {
    expect(
      nxSelected(
        globs.map((g) => (g.startsWith('!') ? `!{workspaceRoot}/${g.slice(1)}` : `{workspaceRoot}/${g}`)),
        ['d', 'd/.env', 'd/a', 'd/x/.y/z', 'e/a'],
      ),
    ).toEqual(expected);
  });

  const weird = [
    'a/!(b).txt',
    '!x.txt',
    'a/@(b).txt',
    'a/+(b).txt',
    'a/*(b).txt',
    'a/?(b).txt',
    'a/[x].txt',
    'a/{b,c}.txt',
    'a/b\\c',
    'a/(b)',
    'a/((b',
    'a/b,c',
    'a/ sp ace',
    'a/é',
    'a/x|y',
    'a/*',
    'a/**',
    'a/?',
  ];
  it.each(weird)('escapeNxGlob(%j) matches exactly that path', (p) => {
    expect(nxSelected([`{workspaceRoot}/${escapeNxGlob(p)}`], weird)).toEqual([p]);
  });
});

// -----------------------------------------------------------------------------------------
interface InputsCase {
  name: string;
  contextDir: string;
  files: string[];
  patterns: string[];
  alwaysInclude?: string[];
  expected: string[];
}

const inputCases: InputsCase[] = [
  {
    name: 'no ignore file: the context glob only',
    contextDir: 'svc',
    files: ['a', 'b/c'],
    patterns: [],
    alwaysInclude: ['svc/Dockerfile'],
    expected: ['{workspaceRoot}/svc/**/*'],
  },
  {
    name: '*.md then !README.md: files negated one by one',
    contextDir: 'svc',
    files: ['CHANGELOG.md', 'Dockerfile', 'README.md', 'docs/a.md', 'x.md'],
    patterns: ['*.md', '!README.md'],
    alwaysInclude: ['svc/Dockerfile'],
    expected: ['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/CHANGELOG.md', '!{workspaceRoot}/svc/x.md'],
  },
  {
    name: 'node_modules folder negated as a whole',
    contextDir: 'svc',
    files: ['index.js', 'node_modules/a/index.js', 'node_modules/b/x/y.js'],
    patterns: ['node_modules'],
    expected: ['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/node_modules/**/*'],
  },
  {
    name: 'folder excluded then one file re-included: recurse, negate the others',
    contextDir: 'svc',
    files: ['a', 'docs/keep.md', 'docs/other.md', 'docs/sub/x.md'],
    patterns: ['docs', '!docs/keep.md'],
    expected: ['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/docs/other.md', '!{workspaceRoot}/svc/docs/sub/**/*'],
  },
  {
    name: '* then !dir at the workspace root',
    contextDir: '',
    files: ['a', 'b/c', 'b/d/e', 'dir/x', 'dir/y/z'],
    patterns: ['*', '!dir'],
    expected: ['{workspaceRoot}/**/*', '!{workspaceRoot}/a', '!{workspaceRoot}/b/**/*'],
  },
  {
    name: '** then !src then a narrower exclude',
    contextDir: '.',
    files: ['a', 'lib/q', 'src/d/z.tmp', 'src/x.ts', 'src/y.tmp'],
    patterns: ['**', '!src', 'src/**/*.tmp'],
    expected: [
      '{workspaceRoot}/**/*',
      '!{workspaceRoot}/a',
      '!{workspaceRoot}/lib/**/*',
      '!{workspaceRoot}/src/d/z.tmp',
      '!{workspaceRoot}/src/y.tmp',
    ],
  },
  {
    name: '!**/keep re-include anywhere: no folder can be negated wholesale',
    contextDir: 'c',
    files: ['d/keep', 'd/lose', 'e/f/lose'],
    patterns: ['*', '!**/keep'],
    expected: ['{workspaceRoot}/c/**/*', '!{workspaceRoot}/c/d/lose', '!{workspaceRoot}/c/e/f/lose'],
  },
  {
    name: 'the Dockerfile and .dockerignore listed in .dockerignore stay inputs',
    contextDir: 'svc',
    files: ['.dockerignore', 'Dockerfile', 'app.js', 'secret.txt'],
    patterns: ['Dockerfile', '.dockerignore', 'secret.txt'],
    alwaysInclude: ['svc/Dockerfile', 'svc/.dockerignore'],
    expected: ['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/secret.txt'],
  },
  {
    name: 'a kept file inside an ignored folder blocks the folder negation',
    contextDir: 'svc',
    files: ['build/Dockerfile', 'build/junk', 'build/sub/junk', 'src/a'],
    patterns: ['build'],
    alwaysInclude: ['svc/build/Dockerfile'],
    expected: ['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/build/junk', '!{workspaceRoot}/svc/build/sub/**/*'],
  },
  {
    name: 'Dockerfile-specific ignore file and Dockerfile outside the context become positive inputs',
    contextDir: 'svc',
    files: ['a', 'b.log'],
    patterns: ['*.log'],
    alwaysInclude: ['build/api.Dockerfile.dockerignore', 'build/api.Dockerfile'],
    expected: [
      '{workspaceRoot}/svc/**/*',
      '{workspaceRoot}/build/api.Dockerfile',
      '{workspaceRoot}/build/api.Dockerfile.dockerignore',
      '!{workspaceRoot}/svc/b.log',
    ],
  },
  {
    name: 'metacharacters in names are escaped',
    contextDir: 'sv[c]',
    files: ['a (1).log', 'k.txt'],
    patterns: ['*.log'],
    expected: ['{workspaceRoot}/sv\\[c\\]/**/*', '!{workspaceRoot}/sv\\[c\\]/a \\(1\\).log'],
  },
  {
    name: 'leading / rule only hits the context root',
    contextDir: 'svc',
    files: ['dist/a', 'src/dist/b'],
    patterns: ['/dist/'],
    expected: ['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/dist/**/*'],
  },
  {
    name: 'nested folder negation is not repeated below an excluded folder',
    contextDir: 'svc',
    files: ['out/a/b/c', 'out/d'],
    patterns: ['out', 'out/a'],
    expected: ['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/out/**/*'],
  },
];

describe('contextInputs', () => {
  it.each(inputCases)('$name', ({ contextDir, files, patterns, alwaysInclude, expected }) => {
    expect(contextInputs({ contextDir, files, ignorePatterns: patterns, alwaysInclude: alwaysInclude ?? [] })).toEqual(expected);
  });

  it('is deterministic for any file order', () => {
    const files = ['z.log', 'a/b.log', 'a/c', 'm.log', 'node_modules/x'];
    const opts = { contextDir: 'svc', ignorePatterns: ['**/*.log', 'node_modules'], alwaysInclude: [] };
    expect(contextInputs({ ...opts, files })).toEqual(contextInputs({ ...opts, files: [...files].reverse() }));
  });

  it('negates folders a walker pruned, only when they are wholly excluded', () => {
    const out = contextInputs({
      contextDir: 'svc',
      files: ['a.js'],
      prunedDirs: ['node_modules', 'src'],
      ignorePatterns: ['node_modules'],
      alwaysInclude: [],
    });
    expect(out).toEqual(['{workspaceRoot}/svc/**/*', '!{workspaceRoot}/svc/node_modules/**/*']);
  });

  // Differential: what Nx selects with these inputs == what BuildKit sends, plus always-included files.
  describe('Nx selects exactly the files BuildKit sends', () => {
    const cases = [
      ...matchCases.map((c) => ({ ...c, alwaysInclude: [] as string[] })),
      ...inputCases
        .filter((c) => c.contextDir === 'svc')
        .map((c) => ({ name: c.name, patterns: c.patterns, files: c.files, alwaysInclude: c.alwaysInclude ?? [] })),
    ];
    it.each(cases)('$name', ({ patterns, files, alwaysInclude }) => {
      for (const ctx of ['', 'ctx/sub']) {
        const prefix = ctx === '' ? '' : `${ctx}/`;
        const keep = alwaysInclude.map((p) => p.replace(/^svc\//, prefix));
        const inputs = contextInputs({ contextDir: ctx, files, ignorePatterns: patterns, alwaysInclude: keep });
        const ws = [...files.map((f) => prefix + f), ...(ctx === '' ? [] : ['elsewhere/file'])];
        const want = new Set([...includedFiles(files, patterns).map((f) => prefix + f), ...keep.filter((k) => ws.includes(k))]);
        expect(nxSelected(inputs, ws)).toEqual(ws.filter((f) => want.has(f)));
      }
    });
  });
});

describe('createPrunePredicate', () => {
  it.each<[string, string[], string[], string, boolean]>([
    ['plain excluded folder', ['node_modules'], [], 'node_modules', true],
    ['folder not excluded', ['node_modules'], [], 'src', false],
    ['a re-include below blocks pruning', ['docs', '!docs/keep.md'], [], 'docs', false],
    ['a re-include elsewhere does not', ['docs', '!src/keep.md'], [], 'docs', true],
    ['a ** re-include blocks every folder', ['*', '!**/keep'], [], 'x', false],
    ['a wildcard re-include that could match below blocks', ['*', '!*/keep'], [], 'x', false],
    ['a re-include of the folder itself placed earlier does not block', ['!a', 'a'], [], 'a', true],
    ['a kept file below blocks', ['build'], ['build/Dockerfile'], 'build', false],
    ['nested folder under an excluded one', ['out'], [], 'out/a/b', true],
  ])('%s', (_n, patterns, keep, dir, expected) => {
    expect(createPrunePredicate(patterns, keep)(dir)).toBe(expected);
  });
});

describe('performance', () => {
  // Measured on the dev container (Node 20): 50-file context ≈ 0.05 ms per call;
  // 20k-file context with node_modules (19,950 files) ignored ≈ 8 ms, dominated by
  // building the folder tree; the matcher never runs on node_modules files.
  it('1,000 services x 50 files, and one 20k-file context with node_modules ignored (figures printed)', () => {
    const small = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? `logs/f${i}.log` : `src/m${i % 7}/f${i}.ts`));
    let t = performance.now();
    for (let s = 0; s < 1000; s++) {
      contextInputs({
        contextDir: `svc${s}`,
        files: small,
        ignorePatterns: ['*.md', '!README.md', 'logs', '**/*.tmp'],
        alwaysInclude: [`svc${s}/Dockerfile`],
      });
    }
    const smallMs = performance.now() - t;

    const big = [
      'Dockerfile',
      ...Array.from({ length: 49 }, (_, i) => `src/f${i}.ts`),
      ...Array.from({ length: 19_950 }, (_, i) => `node_modules/p${i % 400}/lib/f${i}.js`),
    ];
    t = performance.now();
    const out = contextInputs({
      contextDir: 'big',
      files: big,
      ignorePatterns: ['node_modules', '*.md', '!README.md'],
      alwaysInclude: ['big/Dockerfile'],
    });
    const bigMs = performance.now() - t;
    expect(out).toEqual(['{workspaceRoot}/big/**/*', '!{workspaceRoot}/big/node_modules/**/*']);
    // Figures only: no timed assertion (the machines are shared); bench:graph measures the budget.
    console.info(`contextInputs: 1000 x 50 files ${smallMs.toFixed(1)} ms; 20k files ${bigMs.toFixed(1)} ms`);
  });
});
