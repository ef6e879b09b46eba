/** Options accepted in nx.json: `{ "plugin": "nx-compose-buildx", "options": { ... } }`. */
export interface ComposeBuildxPluginOptions {
  /** Target names. */
  buildTargetName?: string;
  pushTargetName?: string;
  verifyTargetName?: string;
  /**
   * Extra compose file sets, each loaded as its own compose project (like `docker compose -f a -f b`).
   * Paths are workspace-relative; the first file's folder is the project folder.
   */
  composeFiles?: Array<string[] | { files: string[]; projectName?: string }>;
}
