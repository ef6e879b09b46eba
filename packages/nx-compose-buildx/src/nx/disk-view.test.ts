import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskView } from './disk-view';

/** A folder with a file, a sub-folder, a link to the file and a dangling link. */
function layout(): string {
  const root = mkdtempSync(join(tmpdir(), 'nxcb-disk-view-'));
  writeFileSync(join(root, 'file.txt'), 'x');
  mkdirSync(join(root, 'sub'));
  symlinkSync(join(root, 'file.txt'), join(root, 'link.txt'));
  symlinkSync(join(root, 'gone.txt'), join(root, 'dangling.txt'));
  return root;
}

describe('diskView', () => {
  const root = layout();
  it.each([
    ['file.txt', true],
    ['sub', true],
    ['link.txt', true],
    ['dangling.txt', false], // existsSync follows the link
    ['missing.txt', false],
    ['sub/missing.txt', false],
    ['missing-dir/x.txt', false],
    ['file.txt/x', false],
  ])('exists(%s) answers as existsSync: %s', (path, expected) => {
    expect(existsSync(join(root, path))).toBe(expected);
    expect(diskView().exists(join(root, path))).toBe(expected);
  });

  it('lists and stats each path once, and keeps what it saw for the whole computation', () => {
    const disk = diskView();
    const before = disk.list(root);
    expect(before?.map((e) => e.name).sort()).toEqual(['dangling.txt', 'file.txt', 'link.txt', 'sub']);
    expect(disk.stat(join(root, 'later.txt'))).toBeUndefined();
    writeFileSync(join(root, 'later.txt'), 'y');
    expect(disk.list(root)).toBe(before);
    expect(disk.stat(join(root, 'later.txt'))).toBeUndefined();
    expect(disk.exists(join(root, 'later.txt'))).toBe(false);
    expect(diskView().exists(join(root, 'later.txt'))).toBe(true);
    expect(disk.stat(join(root, 'sub'))?.isDirectory()).toBe(true);
    expect(disk.list(join(root, 'nope'))).toBeUndefined();
  });

  it("seen: what it already stat'ed or listed, without touching the disk", () => {
    const disk = diskView();
    expect(disk.seen(join(root, 'file.txt'))).toBeUndefined(); // not looked at yet
    disk.list(root);
    expect(disk.seen(join(root, 'nothing-here'))).toBeNull(); // absent from the listing
    expect(disk.seen(join(root, 'file.txt'))).toBeUndefined(); // listed, but its stat was not taken
    expect(disk.seen(join(root, 'sub/x'))).toBeUndefined(); // its folder was not listed
    expect(disk.seen(join(root, 'file.txt'))).toBeUndefined();
    const stat = disk.stat(join(root, 'file.txt'));
    expect(disk.seen(join(root, 'file.txt'))).toBe(stat);
    disk.stat(join(root, 'sub/missing'));
    expect(disk.seen(join(root, 'sub/missing'))).toBeNull();
  });
});
