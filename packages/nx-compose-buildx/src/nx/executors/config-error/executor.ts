import { logger, type ExecutorContext } from '@nx/devkit';

export interface ConfigErrorOptions {
  message: string;
}

/** Stands in for the targets of a compose file or service that could not be read: fails with its error. */
export default async function configErrorExecutor(options: ConfigErrorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  logger.error(`${context.projectName}: ${options.message}`);
  return { success: false };
}
