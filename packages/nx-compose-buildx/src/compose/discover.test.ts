import { describe, expect, it } from 'vitest';
import { discoverComposeFiles } from './discover';

describe('discoverComposeFiles (checked against Compose 2.26)', () => {
  it.each([
    [[], []],
    [['compose.override.yaml'], []],
    [['docker-compose.yaml', 'docker-compose.yml'], ['docker-compose.yml']],
    [['compose.yml', 'compose.yaml'], ['compose.yaml']],
    [
      ['compose.yaml', 'compose.override.yml', 'compose.override.yaml'],
      ['compose.yaml', 'compose.override.yml'],
    ],
    [
      ['docker-compose.yml', 'compose.override.yaml'],
      ['docker-compose.yml', 'compose.override.yaml'],
    ],
    [
      ['compose.yaml', 'docker-compose.override.yml'],
      ['compose.yaml', 'docker-compose.override.yml'],
    ],
    [
      ['docker-compose.yaml', 'docker-compose.override.yaml', 'README.md'],
      ['docker-compose.yaml', 'docker-compose.override.yaml'],
    ],
  ])('%j → %j', (names, expected) => {
    expect(discoverComposeFiles(names)).toEqual(expected);
  });
});
