export interface InitGeneratorSchema {
  builder?: string;
  buildTargetName?: string;
  pushTargetName?: string;
  verifyTargetName?: string;
  skipFormat?: boolean;
}
