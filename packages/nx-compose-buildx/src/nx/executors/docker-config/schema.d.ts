export interface DockerConfigExecutorSchema {
  /** Workspace-relative base config (JSON, or YAML for .yaml/.yml). */
  base: string;
  /** Workspace-relative overlay deep-merged over the base. */
  overlay?: string;
  /** File name written in outputPath (JSON, or YAML for .yaml/.yml). */
  name: string;
  /** Workspace-relative folder; replaced on each run. */
  outputPath: string;
}
