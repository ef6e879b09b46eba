import { describe, expect, test } from 'vitest';
import { ociLabels, rfc3339, stripCredentials, versionOf, withOciLabels } from './labels';

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
        'org.opencontainers.image.version': '1.2.3',
      },
    ],
    [
      'branch',
      { branch: 'feature/a', sha: SHA, defaultBranch: 'main' },
      {
        'org.opencontainers.image.created': '2024-05-01T12:34:56Z',
        'org.opencontainers.image.revision': SHA,
        'org.opencontainers.image.version': 'feature-a',
      },
    ],
    [
      'detached, non-semver tag',
      { tag: 'nightly', sha: SHA, defaultBranch: 'main' },
      {
        'org.opencontainers.image.created': '2024-05-01T12:34:56Z',
        'org.opencontainers.image.revision': SHA,
        'org.opencontainers.image.version': '0123456',
      },
    ],
    ['no git', undefined, { 'org.opencontainers.image.created': '2024-05-01T12:34:56Z' }],
  ])('%s', (_n, facts, expected) => {
    expect(ociLabels(facts, NOW)).toEqual(expected);
  });

  test('rfc3339 and version helpers', () => {
    expect(rfc3339(NOW)).toBe('2024-05-01T12:34:56Z');
    expect(versionOf({ sha: '', defaultBranch: 'main' })).toBeUndefined();
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
});
