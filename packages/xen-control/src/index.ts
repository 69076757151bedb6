/**
 * @rumpxen/xen-control: the dom0 side. `Xen.open()` and the API over the Xen libraries
 * (domains, xenstore, consoles, event channels, mappings), and the one domain model with its
 * renderers, re-exported from @rumpxen/protocol: the config `domains.create()` takes is the
 * config `renderXlCfg`, `renderLibxlJson` and `renderLibvirtXml` write.
 */
export {
  checkDomainConfig,
  renderXlCfg,
  renderLibxlJson,
  renderLibvirtXml,
  parseDiskSpec,
  parseVifSpec,
  parsePciSpec,
  actionFor,
  DomainConfigError,
  SHUTDOWN_REASONS,
  type DomainConfig,
  type CheckedDomainConfig,
  type DiskConfig,
  type VifConfig,
  type PciDevice,
  type DomainType,
  type DiskFormat,
  type ShutdownAction,
} from '@rumpxen/protocol';
export { Xen, type XenOpenOptions } from './xen.js';
export { XenError, XenUnavailableError, XenConfigError } from './errors.js';
export { createRequest, type CreateOptions, type CreateConfig, type CreateRequest } from './config.js';
export {
  Domains,
  shutdownReasonName,
  EXIT_STATUS_NODE,
  parseExitStatusNode,
  monotonicMs,
  type DomainInfo,
  type DomainState,
  type CreatedDomain,
  type CreatePhases,
  type PhysInfo,
  type ShutdownReason,
  type ShutdownResult,
} from './domains.js';
export { XenStore, XenStoreTransaction, XenStoreWatch, checkPath, type XenStorePermission, type WatchEvent, type TransactionOptions } from './xenstore.js';
export { DomainConsole, type ConsoleOptions } from './console.js';
export { ConsoleRing, type ConsoleRingTimings } from './console-ring.js';
export { EventChannels } from './evtchn.js';
export { GrantTable, ForeignMemory, GuestMapping, type MapOptions } from './memory.js';
export { probeXen, DEFAULT_PROBE_PATHS, type ProbePaths } from './probe.js';
export { loadAddon, addonDir } from './native.js';
export { creationsInFlight } from './inflight.js';
