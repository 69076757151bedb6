export declare const PACKAGE_DIR: string;
export declare function buildDomUFixture(): string;
export declare const DOM0_PREP: string;
