import type { BuildExecutorOptions } from '../shared/options';

/** docker-push options: the same as docker-build (`loadMultiPlatform` is ignored). */
export type DockerPushExecutorSchema = BuildExecutorOptions;
