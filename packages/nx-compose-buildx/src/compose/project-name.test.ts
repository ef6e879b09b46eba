import { describe, expect, it } from 'vitest';
import { normalizeProjectName, resolveProjectName } from './project-name';

describe('project name', () => {
  it.each([
    ['My_Proj.X', 'my_projx'],
    ['My_Project.Name', 'my_projectname'],
    ['-_lead', 'lead'],
    ['a b;c$(d)', 'abcd'],
    ['ÄÖ', ''],
  ])('normalize %s → %s', (input, expected) => expect(normalizeProjectName(input)).toBe(expected));

  it.each([
    [{ explicit: 'Explicit', fromFiles: 'files', projectDir: '/x/Folder' }, 'explicit'],
    [{ fromFiles: 'From.Files', projectDir: '/x/Folder' }, 'fromfiles'],
    [{ fromFiles: 3, projectDir: '/x/My Folder' }, 'myfolder'],
    [{ projectDir: '/x/ÄÖ' }, undefined],
  ])('%j → %s', (input, expected) => expect(resolveProjectName(input)).toBe(expected));
});
