import { describe, expect, it, test } from 'vitest';
import { createdAt, ociLabels, rfc3339, stripCredentials, withOciLabels } from './labels';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const NOW = new Date('2024-05-01T12:34:56.789Z');

describe('stripCredentials', () => {
  test.each([
    ['https://user:ghp_secret@github.com/o/r.git', 'https://github.com/o/r.git'],
    ['https://oauth2:tok@gitlab.example.com/g/r', 'https://gitlab.example.com/g/r'],
    ['https://github.com/o/r', 'https://github.com/o/r'],
    ['git@github.com:o/r.git', 'https://github.com/o/r.git'],
    ['ssh://git@host:22/o/r.git', 'ssh://host:22/o/r.git'],
  ])('%s → %s', (input, expected) => {
    expect(stripCredentials(input)).toBe(expected);
  });
});

describe('ociLabels', () => {
  test.each([
    [
      'semver tag',
      { tag: 'v1.2.3', sha: SHA, defaultBranch: 'main', remoteUrl: 'https://x:y@github.com/o/r' },
      {
        'org.opencontainers.image.created': '2024-05-01T12:34:56Z',
        'org.opencontainers.image.revision': SHA,
        'org.opencontainers.image.source': 'https://github.com/o/r',
      },
    ],
    [
      'branch',
      { branch: 'feature/a', sha: SHA, defaultBranch: 'main' },
      {
        'org.opencontainers.image.created': '2024-05-01T12:34:56Z',
        'org.opencontainers.image.revision': SHA,
      },
    ],
    [
      'detached, non-semver tag',
      { tag: 'nightly', sha: SHA, defaultBranch: 'main' },
      {
        'org.opencontainers.image.created': '2024-05-01T12:34:56Z',
        'org.opencontainers.image.revision': SHA,
      },
    ],
    ['no git', undefined, { 'org.opencontainers.image.created': '2024-05-01T12:34:56Z' }],
  ])('%s', (_n, facts, expected) => {
    expect(ociLabels(facts, NOW)).toEqual(expected);
  });

  test('rfc3339', () => {
    expect(rfc3339(NOW)).toBe('2024-05-01T12:34:56Z');
  });

  test("the inputs' last commit gives created and revision, whatever HEAD is; no version label", () => {
    const facts = { tag: 'v2.0.0', branch: 'main', sha: SHA, defaultBranch: 'main', commitTime: '2025-01-01T00:00:00Z' };
    const inputCommit = { sha: 'f'.repeat(40), time: 1700000000 };
    expect(ociLabels(facts, NOW, undefined, inputCommit)).toEqual({
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.revision': 'f'.repeat(40),
    });
    expect(ociLabels(facts, NOW, '1600000000', inputCommit)['org.opencontainers.image.created']).toBe('2020-09-13T12:26:40Z');
  });

  test('service labels win; switch off', () => {
    const facts = { branch: 'main', sha: SHA, defaultBranch: 'main' };
    expect(withOciLabels({ 'org.opencontainers.image.version': 'mine', a: '1' }, facts, NOW)).toMatchObject({
      'org.opencontainers.image.version': 'mine',
      'org.opencontainers.image.revision': SHA,
      a: '1',
    });
    expect(withOciLabels({ a: '1' }, facts, NOW, false)).toEqual({ a: '1' });
  });

  test('SOURCE_DATE_EPOCH comes from the caller, never from process.env', () => {
    const saved = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = '1';
    try {
      expect(ociLabels(undefined, NOW)).toEqual({ 'org.opencontainers.image.created': '2024-05-01T12:34:56Z' });
      expect(withOciLabels({}, undefined, NOW, true, '1700000000')).toEqual({ 'org.opencontainers.image.created': '2023-11-14T22:13:20Z' });
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = saved;
    }
  });
});

describe('createdAt', () => {
  const NOW_ = new Date('2026-01-02T03:04:05Z');
  it.each([
    {
      name: 'commit time of HEAD',
      facts: { sha: 'a', defaultBranch: 'main', commitTime: '2025-05-06T07:08:09+02:00' },
      epoch: undefined,
      expected: '2025-05-06T05:08:09.000Z',
    },
    {
      name: 'SOURCE_DATE_EPOCH wins',
      facts: { sha: 'a', defaultBranch: 'main', commitTime: '2025-05-06T07:08:09Z' },
      epoch: '1700000000',
      expected: '2023-11-14T22:13:20.000Z',
    },
    { name: 'the clock without git', facts: undefined, epoch: undefined, expected: NOW_.toISOString() },
    {
      name: 'the clock when the commit time is garbage',
      facts: { sha: 'a', defaultBranch: 'main', commitTime: 'nope' },
      epoch: 'x',
      expected: NOW_.toISOString(),
    },
  ])('$name', ({ facts, epoch, expected }) => {
    expect(createdAt(facts, NOW_, epoch).toISOString()).toBe(expected);
  });
});
