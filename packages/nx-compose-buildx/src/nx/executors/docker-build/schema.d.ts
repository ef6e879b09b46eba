import type { BuildExecutorOptions } from '../shared/options';

/** docker-build options: the service's resolved BuildOptions plus run settings. */
export type DockerBuildExecutorSchema = BuildExecutorOptions;
