/**
 * Errors a user can cause. Each carries the exit code the CLI uses for it, so that callers
 * of the library and the CLI agree on what went wrong.
 */
export class TestbedError extends Error {
  /** Exit code the CLI uses when this error ends a command. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'TestbedError';
    this.exitCode = exitCode;
  }
}

/** An asset (Xen, the dom0 kernel, a tool) is not in the cache. */
export class MissingAssetError extends TestbedError {
  readonly asset: string;
  readonly debPackage: string;
  /**
   * @param missingFile the file that should be there, when the package is in the cache but
   *   the file is not (a damaged cache); undefined when the package was never fetched.
   */
  constructor(asset: string, debPackage: string, cacheDir: string, missingFile?: string) {
    const what = missingFile
      ? `${missingFile} is missing although Debian package ${debPackage} is marked as fetched (damaged cache: delete ${cacheDir}/pkg/${debPackage} and fetch again)`
      : `Debian package ${debPackage} is not in the asset cache ${cacheDir}`;
    const env = process.env.RUMPXEN_CACHE ? `RUMPXEN_CACHE=${cacheDir} ` : '';
    super(
      `missing testbed asset '${asset}': ${what}.\n` +
        `Fetch it with: ${env}rumpxen-testbed fetch   (in this repository: ${env}npx rumpxen-testbed fetch; it runs apt-get download and dpkg -x)`,
      2,
    );
    this.name = 'MissingAssetError';
    this.asset = asset;
    this.debPackage = debPackage;
  }
}

/** The kernel image handed to `boot` cannot be booted by Xen as the only domain. */
export class BadKernelError extends TestbedError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'BadKernelError';
  }
}
