/** Full mode: Xen + a Linux dom0 with xl, the host's folders over 9p, DomUs with devices. */
export { bootDomU, type BootDomUOptions, type BootDomUResult } from './boot-domu.js';
export { Testbed, EDU_BDF, PASSTHROUGH_NICS, type PassthroughNic, type PassthroughNicModel, type TestbedOptions, type BootTimings, type Dom0 } from './testbed.js';
export type { ExecOptions, ExecResult } from './control.js';
export { DomU, judgeDomU, checkDomUOptions, type DomUOptions, type DomUDisk, type DomUVif, type DomUEnd, type DomUResult, type WaitOptions } from './domu.js';
export { buildDom0Initramfs, buildLinuxDomUInitramfs, DOM0_MODULES, DOM0_XEN_PROGRAMS, LINUX_DOMU_MODULES, type Initramfs } from './initramfs.js';
