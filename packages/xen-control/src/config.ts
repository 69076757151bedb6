/**
 * What `domains.create()` takes: the one domain model, `DomainConfig` of @rumpxen/protocol,
 * plus how to create it (`CreateOptions`). `createRequest` checks both before anything reaches
 * Xen and gives what the addon takes: the checked config itself, and the path to build it by.
 */
import { checkDomainConfig, DomainConfigError, type CheckedDomainConfig, type DomainConfig } from '@rumpxen/protocol';
import { XenConfigError } from './errors.js';

export interface CreateOptions {
  /** Leave the domain paused after creation. */
  paused?: boolean;
  /**
   * How to build it.  `direct`: libxenctrl + libxenguest's PV builder and the
   * xenstore nodes xenconsoled needs (PV with no disks, vifs or PCI; several
   * times faster than libxl).  `libxl`: libxl_domain_create_new (any config).
   * `auto` (default): direct when it can, libxl otherwise.
   */
  engine?: 'auto' | 'direct' | 'libxl';
  /**
   * Also map the guest's console ring, after the domain is built and before it first runs, and
   * resolve with a reader of it in `CreatedDomain.consoleRing` (see `Xen.consoleRing`): the
   * quickest way to a new domain's first line, and none of its output can be missed. The caller
   * closes it (destroy and waitForShutdown do). Default false.
   */
  consoleRing?: boolean;
}

/** A domain config with its create options: what `domains.create()` takes. */
export type CreateConfig = DomainConfig & CreateOptions;

/** What the addon's `domainCreate` takes: the checked config, unchanged in shape, and how to build it. */
export interface CreateRequest {
  config: CheckedDomainConfig;
  /** true: the direct builder (rxc_domain_create_direct); false: libxl. */
  direct: boolean;
  paused: boolean;
  /** Open the console ring before unpausing (CreateOptions.consoleRing); absent when not asked for. */
  consoleRing?: true;
}

/** The domain model's refusal as this API's XenConfigError (same field, problem and fix). */
export function asXenConfigError(e: unknown): unknown {
  return e instanceof DomainConfigError && !(e instanceof XenConfigError) ? new XenConfigError(e.field, e.problem, e.fix) : e;
}

/** Checks a config and its create options; throws XenConfigError naming the bad field. */
export function createRequest(cfg: CreateConfig): CreateRequest {
  let config: CheckedDomainConfig;
  try {
    config = checkDomainConfig(cfg);
  } catch (e) {
    throw asXenConfigError(e);
  }
  const engine = cfg.engine ?? 'auto';
  if (engine !== 'auto' && engine !== 'direct' && engine !== 'libxl') {
    throw new XenConfigError('engine', `unknown engine ${JSON.stringify(engine)}`, "use 'auto', 'direct' or 'libxl'");
  }
  const directPossible = config.type === 'pv' && config.disks.length === 0 && config.vifs.length === 0 && config.pci.length === 0;
  if (engine === 'direct' && !directPossible) {
    throw new XenConfigError('engine', "'direct' builds PV domains without disks, vifs or PCI devices", "use engine 'libxl' (or 'auto') for this config");
  }
  if (cfg.consoleRing !== undefined && typeof cfg.consoleRing !== 'boolean') {
    throw new XenConfigError('consoleRing', `must be true or false, got ${JSON.stringify(cfg.consoleRing)}`, 'pass consoleRing: true to get the console ring reader with the domain');
  }
  const req: CreateRequest = { config, direct: engine !== 'libxl' && directPossible, paused: cfg.paused === true };
  if (cfg.consoleRing === true) req.consoleRing = true;
  return req;
}
