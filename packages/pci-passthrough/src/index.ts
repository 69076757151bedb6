export { PciError, type PciErrorCode } from './errors.js';
export { parseBdf, formatBdf, normalizeBdf, type PciAddress } from './bdf.js';
export { decodeClassCode, type PciClass } from './classCodes.js';
export { parseResourceFile, IORESOURCE, type PciResource } from './resources.js';
export {
  decodeConfigSpace,
  barSizeFromProbe,
  romSizeFromProbe,
  type BarKind,
  type PciBar,
  type ExpansionRom,
  type BridgeWindows,
  type PciCapability,
  type PowerManagementCapability,
  type MsiCapability,
  type MsixCapability,
  type PcieCapability,
  type PcieDeviceType,
  type VendorCapability,
  type OtherCapability,
  type PciExtendedCapability,
  type HeaderLayout,
  type DecodedConfigSpace,
  type DecodeOptions,
} from './configSpace.js';
export {
  listDevices,
  readDevice,
  readConfigSpace,
  inspectDevice,
  currentDriver,
  PCIBACK_DRIVER,
  type PciDevice,
  type SysfsOptions,
} from './sysfs.js';
export { detectIommu, requireIommu, iommuFromXlInfo, type IommuStatus, type IommuOptions } from './iommu.js';
export {
  planMakeAssignable,
  planRestore,
  executePlan,
  describeStep,
  isValidDriverName,
  makeAssignable,
  restore,
  assertAssignable,
  readAssignmentState,
  stateDirOf,
  type AssignmentState,
  type AssignStep,
  type PlannedStep,
  type AssignPlan,
  type AssignFacts,
  type RestoreFacts,
  type SysfsWrite,
  type ExecuteOptions,
  type ExecutionResult,
  type AssignOptions,
  type AssignResult,
  type RestoreOptions,
} from './assign.js';
export {
  xlPciEntry,
  xlPciLine,
  libxlPcidev,
  libxlPcidevs,
  libvirtHostdevXml,
  type PassthroughSpec,
  type LibxlDevicePci,
} from './emit.js';
export { pciListCommand, PCI_LIST_HELP, toJson, formatSize, type CommandIo } from './listCommand.js';
export { preparePassthrough, type PrepareOptions, type PreparedDevice, type PreparedPassthrough } from './prepare.js';
export {
  pciCommand,
  pciAssignCommand,
  pciRestoreCommand,
  PCI_HELP,
  PCI_ASSIGN_HELP,
  PCI_RESTORE_HELP,
  type AssignCommandIo,
} from './assignCommand.js';
export { pciGuestLibrary, pciPackageRoot, type PciGuestLibrary, type PciGuestTarget } from './guest.js';
