export declare const PACKAGE_DIR: string;
export declare function buildDomUFixture(): string;
