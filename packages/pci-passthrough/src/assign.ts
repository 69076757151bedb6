import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeBdf, type PciAddress } from './bdf.js';
import { PciError } from './errors.js';
import { requireIommu, type IommuOptions, type IommuStatus } from './iommu.js';
import { currentDriver, driversDir, PCIBACK_DRIVER, readDevice, sysfsRootOf, type SysfsOptions } from './sysfs.js';

/**
 * Making a device assignable to a Xen guest: unbind it from its host driver and bind it to
 * xen-pciback, remembering the original driver so `restore` can give it back.
 *
 * Split in two: `plan*` functions are pure (facts in, list of steps with their undo out) and
 * `executePlan` performs steps against sysfs, undoing the completed ones in reverse when a
 * step fails, so a device is never left half-assigned.
 */

/** What `makeAssignable` remembers about a device, one JSON file per device in the state folder. */
export interface AssignmentState {
  bdf: string;
  /** Driver bound before assignment; null when the device was unbound. */
  originalDriver: string | null;
  assignedAt: string;
}

/** One action on sysfs or the state folder. Paths are relative to the sysfs root. */
export type AssignStep =
  | { op: 'save-state'; state: AssignmentState }
  | { op: 'delete-state'; bdf: string }
  /** Write `bdf` to `bus/pci/drivers/<driver>/unbind` unless the device is not bound to it. */
  | { op: 'unbind'; bdf: string; driver: string }
  /** Write `bdf` to `bus/pci/drivers/<driver>/bind` unless the device is already bound to it. */
  | { op: 'bind'; bdf: string; driver: string }
  /** Write a value to a driver attribute (pciback `new_slot` / `remove_slot`). */
  | { op: 'write'; path: string; value: string }
  /** Check the device's `driver` link names `driver` (null = unbound). */
  | { op: 'expect-driver'; bdf: string; driver: string | null };

export interface PlannedStep {
  step: AssignStep;
  /** Steps that undo this one, run if a later step fails. */
  undo: AssignStep[];
}

export interface AssignPlan {
  bdf: string;
  action: 'assign' | 'restore' | 'none';
  /** The driver the device returns to on restore. */
  originalDriver: string | null;
  /** The driver bound when the plan was made (what a rollback returns to). */
  fromDriver: string | null;
  steps: PlannedStep[];
  /** Why nothing needs doing, or other remarks for the user. */
  notes: string[];
}

/** Facts `planMakeAssignable` decides from; the executor's caller gathers them from sysfs. */
export interface AssignFacts {
  bdf: string;
  driver: string | null;
  pcibackLoaded: boolean;
  /** A state file from an earlier assignment, if any. */
  state: AssignmentState | null;
  now?: Date;
}

export interface RestoreFacts {
  bdf: string;
  driver: string | null;
  state: AssignmentState | null;
  /** Driver to return to when there is no state file (user override). */
  driverOverride?: string | null;
  /** Names of drivers currently registered in bus/pci/drivers. */
  loadedDrivers: string[];
}

/** Driver names become sysfs path components: refuse anything that could leave bus/pci/drivers. */
const DRIVER_NAME_RE = /^(?!\.\.?$)[A-Za-z0-9_.+-]{1,64}$/;

export function isValidDriverName(name: string): boolean {
  return DRIVER_NAME_RE.test(name);
}

const pcibackAttr = (name: string) => `bus/pci/drivers/${PCIBACK_DRIVER}/${name}`;

function bindPcibackSteps(bdf: string): PlannedStep[] {
  return [
    {
      step: { op: 'write', path: pcibackAttr('new_slot'), value: bdf },
      undo: [{ op: 'write', path: pcibackAttr('remove_slot'), value: bdf }],
    },
    { step: { op: 'bind', bdf, driver: PCIBACK_DRIVER }, undo: [{ op: 'unbind', bdf, driver: PCIBACK_DRIVER }] },
    { step: { op: 'expect-driver', bdf, driver: PCIBACK_DRIVER }, undo: [] },
  ];
}

/** Plans unbind-from-host-driver, bind-to-pciback. Pure; throws PciError NO_PCIBACK. */
export function planMakeAssignable(facts: AssignFacts): AssignPlan {
  const { bdf } = facts;
  if (facts.driver === PCIBACK_DRIVER) {
    return {
      bdf,
      action: 'none',
      originalDriver: facts.state?.originalDriver ?? null,
      fromDriver: facts.driver,
      steps: [],
      notes: [`${bdf} is already bound to ${PCIBACK_DRIVER}; nothing to do`],
    };
  }
  if (!facts.pcibackLoaded) {
    throw new PciError(
      'NO_PCIBACK',
      `cannot make ${bdf} assignable: xen-pciback is not loaded (no bus/pci/drivers/${PCIBACK_DRIVER} in sysfs); ` +
        `load it in dom0 with 'modprobe xen-pciback' and retry`,
    );
  }
  const state: AssignmentState = {
    bdf,
    originalDriver: facts.driver,
    assignedAt: (facts.now ?? new Date()).toISOString(),
  };
  const steps: PlannedStep[] = [{ step: { op: 'save-state', state }, undo: [{ op: 'delete-state', bdf }] }];
  if (facts.driver !== null) {
    steps.push({
      step: { op: 'unbind', bdf, driver: facts.driver },
      undo: [
        { op: 'bind', bdf, driver: facts.driver },
        { op: 'expect-driver', bdf, driver: facts.driver },
      ],
    });
  }
  steps.push(...bindPcibackSteps(bdf));
  return { bdf, action: 'assign', originalDriver: facts.driver, fromDriver: facts.driver, steps, notes: [] };
}

/** Plans unbind-from-pciback, bind-to-original-driver. Pure; throws NOT_ASSIGNED / BAD_STATE. */
export function planRestore(facts: RestoreFacts): AssignPlan {
  const { bdf } = facts;
  const target = facts.driverOverride !== undefined ? facts.driverOverride : (facts.state?.originalDriver ?? undefined);
  if (target === undefined) {
    if (facts.driver !== PCIBACK_DRIVER) {
      return { bdf, action: 'none', originalDriver: facts.driver, fromDriver: facts.driver, steps: [], notes: [`${bdf} is not assigned (driver: ${facts.driver ?? 'none'}); nothing to do`] };
    }
    throw new PciError(
      'NOT_ASSIGNED',
      `cannot restore ${bdf}: it is bound to ${PCIBACK_DRIVER} but there is no record of its original driver ` +
        `(it was not made assignable by rumpxen, or the state folder changed); name the driver to return to ` +
        `(restore(bdf, { driver: 'NAME' }), or driver: null to leave it unbound)`,
      2,
    );
  }
  if (target !== null && !isValidDriverName(target)) {
    throw new PciError('BAD_OPTION', `cannot restore ${bdf} to driver '${target}': not a driver name (letters, digits, '_', '-', '.', '+'); name one listed in /sys/bus/pci/drivers`, 2);
  }
  const cleanup: PlannedStep[] = facts.state ? [{ step: { op: 'delete-state', bdf }, undo: [{ op: 'save-state', state: facts.state }] }] : [];
  if (facts.driver === target) {
    return { bdf, action: 'none', originalDriver: target, fromDriver: facts.driver, steps: cleanup, notes: [`${bdf} is already bound to ${target ?? 'no driver'}`] };
  }
  if (facts.driver !== PCIBACK_DRIVER && facts.driver !== null) {
    throw new PciError(
      'BAD_STATE',
      `cannot restore ${bdf} to ${target ?? 'no driver'}: it is bound to '${facts.driver}', not ${PCIBACK_DRIVER}; ` +
        `something else rebound it. Unbind it by hand (echo ${bdf} > /sys/bus/pci/drivers/${facts.driver}/unbind) if that is wrong`,
    );
  }
  if (target !== null && !facts.loadedDrivers.includes(target)) {
    throw new PciError(
      'BAD_STATE',
      `cannot restore ${bdf} to driver '${target}': that driver is not loaded (no bus/pci/drivers/${target}); ` +
        `load its module (modprobe ${target}) and retry`,
    );
  }
  const steps: PlannedStep[] = [];
  if (facts.driver === PCIBACK_DRIVER) {
    steps.push(
      {
        step: { op: 'unbind', bdf, driver: PCIBACK_DRIVER },
        undo: [
          { op: 'bind', bdf, driver: PCIBACK_DRIVER },
          { op: 'expect-driver', bdf, driver: PCIBACK_DRIVER },
        ],
      },
      // Without this pciback would seize the device again on the next probe.
      { step: { op: 'write', path: pcibackAttr('remove_slot'), value: bdf }, undo: [{ op: 'write', path: pcibackAttr('new_slot'), value: bdf }] },
    );
  }
  if (target !== null) {
    steps.push(
      { step: { op: 'bind', bdf, driver: target }, undo: [{ op: 'unbind', bdf, driver: target }] },
      { step: { op: 'expect-driver', bdf, driver: target }, undo: [] },
    );
  }
  steps.push(...cleanup);
  return { bdf, action: 'restore', originalDriver: target, fromDriver: facts.driver, steps, notes: [] };
}

/** One line per step, for dry runs and error reports. */
export function describeStep(step: AssignStep): string {
  switch (step.op) {
    case 'save-state':
      return `remember ${step.state.bdf}'s driver (${step.state.originalDriver ?? 'none'})`;
    case 'delete-state':
      return `forget the remembered driver of ${step.bdf}`;
    case 'unbind':
      return `echo ${step.bdf} > /sys/bus/pci/drivers/${step.driver}/unbind`;
    case 'bind':
      return `echo ${step.bdf} > /sys/bus/pci/drivers/${step.driver}/bind`;
    case 'write':
      return `echo ${step.value} > /sys/${step.path}`;
    case 'expect-driver':
      return `check ${step.bdf} is bound to ${step.driver ?? 'no driver'}`;
  }
}

/** How the executor writes a sysfs attribute; tests substitute a kernel stand-in over a temp tree. */
export type SysfsWrite = (absolutePath: string, value: string) => Promise<void>;

export interface ExecuteOptions extends SysfsOptions {
  /** Folder of state files (default `$RUMPXEN_PCI_STATE_DIR` or `/var/lib/rumpxen/pci`). */
  stateDir?: string;
  writeAttribute?: SysfsWrite;
  /** How long `expect-driver` waits for the kernel to settle (default 2000 ms). */
  verifyTimeoutMs?: number;
}

export function stateDirOf(options: ExecuteOptions): string {
  return options.stateDir ?? process.env.RUMPXEN_PCI_STATE_DIR ?? '/var/lib/rumpxen/pci';
}

function statePath(bdf: string, options: ExecuteOptions): string {
  return join(stateDirOf(options), `${bdf}.json`);
}

/** The remembered state of a device, or null. Throws BAD_STATE for an unreadable file. */
export async function readAssignmentState(bdf: string, options: ExecuteOptions = {}): Promise<AssignmentState | null> {
  const path = statePath(bdf, options);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new PciError('BAD_STATE', `cannot read the state file ${path}: ${(e as Error).message}; name a readable folder with the stateDir option (--state-dir, or RUMPXEN_PCI_STATE_DIR)`);
  }
  try {
    const parsed = JSON.parse(text) as AssignmentState;
    const driverOk = parsed.originalDriver === null || (typeof parsed.originalDriver === 'string' && isValidDriverName(parsed.originalDriver));
    if (parsed.bdf !== bdf || !driverOk) throw new Error('fields');
    return parsed;
  } catch {
    throw new PciError('BAD_STATE', `state file ${path} is not a valid assignment record for ${bdf}; delete it and name the driver to restore explicitly`);
  }
}

async function defaultWrite(path: string, value: string): Promise<void> {
  await writeFile(path, value, { flag: 'w' });
}

async function runStep(step: AssignStep, options: ExecuteOptions): Promise<void> {
  const root = sysfsRootOf(options);
  const write = options.writeAttribute ?? defaultWrite;
  const attempt = async (path: string, value: string) => {
    try {
      await write(path, value);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new PciError('SYSFS_WRITE_FAILED', `writing '${value}' to ${path} failed: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '));
    }
  };
  switch (step.op) {
    case 'save-state': {
      const path = statePath(step.state.bdf, options);
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        await mkdir(stateDirOf(options), { recursive: true });
        await writeFile(tmp, JSON.stringify(step.state, null, 2) + '\n');
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true }).catch(() => {});
        throw new PciError(
          'BAD_STATE',
          `cannot record ${step.state.bdf}'s original driver in ${path}: ${(e as Error).message}; ` +
            `name a writable folder with the stateDir option (--state-dir, or RUMPXEN_PCI_STATE_DIR)`,
        );
      }
      return;
    }
    case 'delete-state':
      await rm(statePath(step.bdf, options), { force: true });
      return;
    case 'unbind':
      if ((await currentDriver(step.bdf, options)) !== step.driver) return;
      await attempt(join(root, 'bus/pci/drivers', step.driver, 'unbind'), step.bdf);
      return;
    case 'bind':
      if ((await currentDriver(step.bdf, options)) === step.driver) return;
      await attempt(join(root, 'bus/pci/drivers', step.driver, 'bind'), step.bdf);
      return;
    case 'write':
      await attempt(join(root, step.path), step.value);
      return;
    case 'expect-driver': {
      const deadline = Date.now() + (options.verifyTimeoutMs ?? 2000);
      let seen = await currentDriver(step.bdf, options);
      while (seen !== step.driver && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        seen = await currentDriver(step.bdf, options);
      }
      if (seen !== step.driver) {
        throw new PciError('VERIFY_FAILED', `${step.bdf} should now be bound to ${step.driver ?? 'no driver'} but is bound to ${seen ?? 'no driver'}`);
      }
      return;
    }
  }
}

export interface ExecutionResult {
  plan: AssignPlan;
  /** Steps performed, in order (skipped no-op binds included). */
  done: AssignStep[];
}

/**
 * Performs a plan. When a step fails, runs the undo steps of the completed ones in reverse
 * and throws the step's PciError, its message extended with the rollback outcome.
 */
export async function executePlan(plan: AssignPlan, options: ExecuteOptions = {}): Promise<ExecutionResult> {
  const done: PlannedStep[] = [];
  for (const planned of plan.steps) {
    try {
      await runStep(planned.step, options);
      done.push(planned);
    } catch (e) {
      const failures: string[] = [];
      for (const prior of [...done].reverse()) {
        for (const undo of prior.undo) {
          try {
            await runStep(undo, options);
          } catch (u) {
            failures.push(`${describeStep(undo)}: ${(u as Error).message}`);
          }
        }
      }
      const base = e instanceof PciError ? e : new PciError('SYSFS_WRITE_FAILED', (e as Error).message);
      const outcome =
        failures.length === 0
          ? `rolled back: ${plan.bdf} is as it was before (driver ${plan.fromDriver ?? 'none'})`
          : `ROLLBACK INCOMPLETE, fix by hand: ${failures.join('; ')}`;
      throw new PciError(base.code, `${plan.action} of ${plan.bdf} failed at '${describeStep(planned.step)}': ${base.message}; ${outcome}`, base.exitCode);
    }
  }
  return { plan, done: done.map((d) => d.step) };
}

export interface AssignOptions extends ExecuteOptions, IommuOptions {
  /** Check for an IOMMU first (default true: Xen refuses passthrough without one). */
  requireIommu?: boolean;
  /** Plan only; change nothing. */
  dryRun?: boolean;
}

export interface AssignResult extends ExecutionResult {
  bdf: string;
  iommu: IommuStatus | null;
  /** Driver bound now. */
  driver: string | null;
}

async function loadedDrivers(options: SysfsOptions): Promise<string[]> {
  try {
    return await readdir(driversDir(options));
  } catch {
    return [];
  }
}

/**
 * Binds a device to xen-pciback so `xl create` with `pci=[...]` can hand it to a guest:
 * checks the device exists and that an IOMMU is present, remembers the host driver, unbinds it,
 * binds pciback, verifies. Idempotent; rolls back on failure.
 */
export async function makeAssignable(bdf: string | PciAddress, options: AssignOptions = {}): Promise<AssignResult> {
  const device = await readDevice(bdf, options);
  const iommu = options.requireIommu === false ? null : await requireIommu(device.bdf, options);
  let pcibackLoaded = true;
  try {
    await stat(join(driversDir(options), PCIBACK_DRIVER));
  } catch {
    pcibackLoaded = false;
  }
  const plan = planMakeAssignable({
    bdf: device.bdf,
    driver: device.driver,
    pcibackLoaded,
    state: await readAssignmentState(device.bdf, options),
  });
  if (options.dryRun) return { bdf: device.bdf, iommu, driver: device.driver, plan, done: [] };
  const result = await executePlan(plan, options);
  return { ...result, bdf: device.bdf, iommu, driver: await currentDriver(device.bdf, options) };
}

export interface RestoreOptions extends ExecuteOptions {
  /** Driver to return to, overriding the remembered one (null: leave unbound). */
  driver?: string | null;
  dryRun?: boolean;
}

/** Gives a device made assignable back to its original host driver. Rolls back on failure. */
export async function restore(bdf: string | PciAddress, options: RestoreOptions = {}): Promise<AssignResult> {
  const device = await readDevice(bdf, options);
  const plan = planRestore({
    bdf: device.bdf,
    driver: device.driver,
    state: await readAssignmentState(device.bdf, options),
    ...(options.driver !== undefined ? { driverOverride: options.driver } : {}),
    loadedDrivers: await loadedDrivers(options),
  });
  if (options.dryRun) return { bdf: device.bdf, iommu: null, driver: device.driver, plan, done: [] };
  const result = await executePlan(plan, options);
  return { ...result, bdf: device.bdf, iommu: null, driver: await currentDriver(device.bdf, options) };
}

/**
 * For a guest config naming `bdf` when no assignment was requested: throws unless the device is
 * bound to pciback (BOUND_TO_HOST_DRIVER names the driver and the two ways to fix it).
 */
export async function assertAssignable(bdf: string | PciAddress, options: SysfsOptions = {}): Promise<void> {
  const device = await readDevice(bdf, options);
  if (device.driver === PCIBACK_DRIVER) return;
  const bound = device.driver === null ? 'is not bound to any driver' : `is still bound to host driver '${device.driver}'`;
  throw new PciError(
    'BOUND_TO_HOST_DRIVER',
    `PCI device ${normalizeBdf(bdf)} ${bound}; Xen passes through only devices bound to xen-pciback. ` +
      `Make it assignable first: 'xl pci-assignable-add ${device.bdf}' in dom0, or makeAssignable('${device.bdf}') from @rumpxen/pci-passthrough`,
    2,
  );
}
