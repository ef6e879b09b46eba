export interface CiGeneratorSchema {
  provider: 'github' | 'gitlab';
  registry?: string;
  defaultBranch?: string;
  nodeVersion?: string;
  overwrite?: boolean;
  /** qemu (default): one job builds every platform, foreign ones emulated; native: one job per platform, then a merge. */
  runners?: 'qemu' | 'native';
  /** --runners=native: the platforms to build (default: those the workspace's compose services declare). */
  platforms?: string | string[];
  /** --runners=native: runner label (GitHub runs-on) or tag (GitLab) of the x86-64 and 64-bit ARM legs. */
  amd64Runner?: string;
  arm64Runner?: string;
}
