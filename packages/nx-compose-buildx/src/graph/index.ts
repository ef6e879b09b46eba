/**
 * The build-graph stage: exact input sets for each build context, image references in
 * Dockerfiles, and service → service edges. Pure over plain data; `fs-edge` is the only
 * module that touches the file system.
 */
export {
  contextGlobPrefix,
  contextInputs,
  ignoredGlob,
  ignoredPaths,
  createIgnoreMatcher,
  createPrunePredicate,
  escapeNxGlob,
  includedFiles,
  parseIgnoreRules,
  selectIgnoreFile,
  type ContextInputsOptions,
  type ExistsFn,
  type IgnoreMatcher,
  type IgnoreRule,
  type IgnoredPath,
  type IgnoredPathsOptions,
} from './dockerignore';
export {
  baseTriggerSite,
  dockerfileReads,
  instructionSite,
  sourcePattern,
  withBaseTriggers,
  type ContextReads,
  type DockerfileReads,
  type DockerfileReadsOptions,
  type ReadSite,
} from './dockerfile-reads';
export { followLinks, patternReads, readInputs } from './read-inputs';
export {
  DockerfileSyntaxError,
  dockerfileImageRefs,
  dockerfileRefs,
  expandWord,
  parseDockerfileSafe,
  type DockerfileProblem,
  type DockerfileRefs,
  type ParseDockerfileResult,
} from './dockerfile-refs';
export {
  detectCycles,
  imageEdgeReasons,
  imageEdges,
  serviceIndex,
  type EdgeRecord,
  type ImageEdgeReason,
  type ImageNode,
  type ServiceRef,
} from './image-edges';
export { fileExistsIn, listContext, listContextFiles, type ContextListing } from './fs-edge';
