export { Xen, type XenOpenOptions } from './xen.js';
export { XenError, XenUnavailableError, XenConfigError } from './errors.js';
export {
  toNativeSpec,
  parseDiskSpec,
  parseVifSpec,
  parsePciSpec,
  actionFor,
  type DomainConfig,
  type DiskConfig,
  type VifConfig,
  type ShutdownAction,
} from './config.js';
export {
  Domains,
  shutdownReasonName,
  EXIT_STATUS_NODE,
  parseExitStatusNode,
  type DomainInfo,
  type DomainState,
  type CreatedDomain,
  type ShutdownReason,
  type ShutdownResult,
} from './domains.js';
export { XenStore, XenStoreTransaction, XenStoreWatch, checkPath, type XenStorePermission, type WatchEvent, type TransactionOptions } from './xenstore.js';
export { DomainConsole, type ConsoleOptions } from './console.js';
export { EventChannels } from './evtchn.js';
export { GrantTable, ForeignMemory, GuestMapping, type MapOptions } from './memory.js';
export { probeXen, DEFAULT_PROBE_PATHS, type ProbePaths } from './probe.js';
export { loadAddon, addonDir, type NativeDomainSpec } from './native.js';
export { creationsInFlight } from './inflight.js';
