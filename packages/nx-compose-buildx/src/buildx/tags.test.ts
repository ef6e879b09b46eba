import { describe, expect, test } from 'vitest';
import { generateTags, imageNames, isValidDockerTag, parseSemverTag, sanitizeTag, tagValues, type GitFacts, type TagRule } from './tags';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const onMain: GitFacts = { branch: 'main', sha: SHA, defaultBranch: 'main' };
const onFeature: GitFacts = { branch: 'feature/Add-Login_2', sha: SHA, defaultBranch: 'main' };
const onTag: GitFacts = { tag: 'v1.2.3', sha: SHA, defaultBranch: 'main' };
const onPre: GitFacts = { tag: 'v2.0.0-rc.1', sha: SHA, defaultBranch: 'main' };
const onZero: GitFacts = { tag: '0.4.1', sha: SHA, defaultBranch: 'main' };
const onOddTag: GitFacts = { tag: 'release-2024', sha: SHA, defaultBranch: 'main' };

const semverRules: TagRule[] = [
  { type: 'semver', pattern: '{{version}}' },
  { type: 'semver', pattern: '{{major}}.{{minor}}' },
  { type: 'semver', pattern: '{{major}}' },
];

describe('tagValues', () => {
  test.each<[string, TagRule[], GitFacts, string[]]>([
    ['semver on a release tag', semverRules, onTag, ['1.2.3', '1.2', '1']],
    ['semver on a pre-release: only {{version}}', semverRules, onPre, ['2.0.0-rc.1']],
    ['semver 0.x: no bare {{major}}', semverRules, onZero, ['0.4.1', '0.4']],
    ['semver on a branch: nothing', semverRules, onMain, []],
    ['semver on a non-semver tag: nothing', semverRules, onOddTag, []],
    ['semver prefix kept in pattern', [{ type: 'semver', pattern: 'v{{major}}.{{minor}}.{{patch}}' }], onTag, ['v1.2.3']],
    ['branch ref sanitised', [{ type: 'ref', event: 'branch' }], onFeature, ['feature-Add-Login_2']],
    ['branch ref on a tag build: nothing', [{ type: 'ref', event: 'branch' }], onTag, []],
    ['tag ref', [{ type: 'ref', event: 'tag' }], onOddTag, ['release-2024']],
    ['sha default', [{ type: 'sha' }], onMain, ['sha-0123456']],
    ['sha custom', [{ type: 'sha', prefix: '', length: 12 }], onMain, ['0123456789ab']],
    ['raw', [{ type: 'raw', value: 'edge' }], onFeature, ['edge']],
    ['latest on the default branch', [{ type: 'latest' }], onMain, ['latest']],
    ['no latest elsewhere', [{ type: 'latest' }], onFeature, []],
    ['no latest on a tag build', [{ type: 'latest' }], onTag, []],
    [
      'rule order, duplicates dropped',
      [{ type: 'raw', value: 'latest' }, { type: 'latest' }, { type: 'ref', event: 'branch' }, { type: 'sha' }],
      onMain,
      ['latest', 'main', 'sha-0123456'],
    ],
  ])('%s', (_n, rules, facts, expected) => {
    expect(tagValues(rules, facts)).toEqual(expected);
  });
});

describe('sanitizeTag', () => {
  test.each([
    ['feature/x', 'feature-x'],
    ['a b  c', 'a-b-c'],
    ['Fix/ÜBER#1', 'Fix-BER-1'],
    ['-dash', 'dash'],
    ['.dot', 'dot'],
    ['x'.repeat(200), 'x'.repeat(128)],
    ['dependabot/npm_and_yarn/vite-5.0.1', 'dependabot-npm_and_yarn-vite-5.0.1'],
  ])('%s → %s', (input, expected) => {
    expect(sanitizeTag(input)).toBe(expected);
    expect(isValidDockerTag(sanitizeTag(input))).toBe(true);
  });
});

describe('parseSemverTag', () => {
  test.each([
    ['v1.2.3', { major: 1, minor: 2, patch: 3, raw: '1.2.3' }],
    ['1.2.3-beta.2+build.7', { major: 1, minor: 2, patch: 3, prerelease: 'beta.2', build: 'build.7', raw: '1.2.3-beta.2+build.7' }],
    ['v1.2', undefined],
    ['01.2.3', undefined],
    ['=1.2.3', undefined],
    ['release', undefined],
    [undefined, undefined],
  ])('%s', (input, expected) => {
    expect(parseSemverTag(input)).toEqual(expected);
  });
});

describe('image names and generateTags', () => {
  test('distinct names, first tag first', () => {
    expect(imageNames(['r/a:1', 'r/a:2', 'other/a:1'])).toEqual(['r/a', 'other/a']);
  });

  test('applied to each image name, existing tags not repeated', () => {
    expect(
      generateTags([{ type: 'latest' }, { type: 'sha' }], onMain, [
        '127.0.0.1:5000/api:1.0',
        '127.0.0.1:5000/api:latest',
        'mirror/api:1.0',
      ]),
    ).toEqual(['127.0.0.1:5000/api:sha-0123456', 'mirror/api:latest', 'mirror/api:sha-0123456']);
  });

  test('no tags → no images → nothing', () => {
    expect(generateTags([{ type: 'sha' }], onMain, [])).toEqual([]);
  });
});
