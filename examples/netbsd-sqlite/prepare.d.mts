/** Types of prepare.mjs (used by @rumpxen/image-linker's test and bench). */
export declare const EXAMPLE_DIR: string;
export declare const MANIFEST: string;
export declare const SQLITE_PACKAGE: { name: string; version: string; integrity: string; sqliteVersion: string };
export declare class PrepareError extends Error {
  constructor(subject: string, problem: string, fix: string);
}
export interface PreparedSqlite {
  tarball: string;
  version: string;
  sqlite3c: string;
  sqlite3h: string;
  script: string;
}
export declare function prepareSqlite(opts?: { onProgress?: (line: string) => void }): PreparedSqlite;
export declare function sqliteCflags(): string[];
export declare function buildHostProgram(outDir: string, opts?: { onProgress?: (line: string) => void }): { program: string; compileSeconds: number; sqliteObject: string };
export declare function runHostProgram(program: string): { code: number; stdout: string; stderr: string };
export declare function buildWithDriver(target: 'xen-pv' | 'xen-pvh', outDir: string, opts?: { onProgress?: (line: string) => void }): Promise<{ app: string; components: string[]; compileSeconds: number; sqliteObject: string }>;
