export interface CiGeneratorSchema {
  provider: 'github' | 'gitlab';
  registry?: string;
  defaultBranch?: string;
  nodeVersion?: string;
  overwrite?: boolean;
}
