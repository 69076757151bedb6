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
  constructor(asset: string, debPackage: string, path: string, cacheDir: string) {
    super(
      `missing testbed asset '${asset}' (${path}), from Debian package ${debPackage}.\n` +
        `Fetch it with: rumpxen-testbed fetch` +
        (process.env.RUMPXEN_CACHE ? ` (with RUMPXEN_CACHE=${cacheDir})` : '') +
        `\n(or from this repository: npx rumpxen-testbed fetch; it runs apt-get download ${debPackage} and dpkg -x into ${cacheDir})`,
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
