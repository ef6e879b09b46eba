import { describe, expect, it } from 'vitest';
import { affectedRange } from './executor';

describe('affectedRange (the --base/--head of the nx affected command running the task)', () => {
  it.each<[string[], ReturnType<typeof affectedRange>]>([
    [['node', 'nx.js', 'affected', '-t', 'docker-explain', '--base=HEAD~1', '--head=HEAD'], { base: 'HEAD~1', head: 'HEAD' }],
    [['node', 'nx.js', 'affected', '-t', 'docker-explain', '--base', 'origin/main'], { base: 'origin/main' }],
    [['node', 'nx.js', 'affected', '--base', '--head=x'], { head: 'x' }],
    [['node', 'nx.js', 'affected', '-t', 'docker-explain'], {}],
    [['node', 'nx.js', 'run', 'api:docker-explain', '--base=HEAD~1'], undefined],
  ])('%j', (argv, expected) => {
    expect(affectedRange(argv)).toEqual(expected);
  });
});
