export type ServiceLanguage = 'go' | 'node' | 'python' | 'rust' | 'static';

export interface ServiceGeneratorSchema {
  name: string;
  language: ServiceLanguage;
  /** Comma-separated, or a list when called programmatically. */
  platforms?: string | string[];
  compose?: string;
  directory?: string;
  image?: string;
  baseImage?: string;
  buildImage?: string;
  skipFormat?: boolean;
}
