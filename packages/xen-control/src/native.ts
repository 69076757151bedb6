/**
 * Loading the addon (native/build/Release/rumpxen_xen.node) and, on first use,
 * its C library librxctl.so, which is what links against the Xen libraries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CheckedDomainConfig } from '@rumpxen/protocol';

export interface NativeDomainInfo {
  domid: number;
  name: string;
  uuid: string;
  running: boolean;
  blocked: boolean;
  paused: boolean;
  shutdown: boolean;
  dying: boolean;
  shutdownReason: number;
  memoryKb: number;
  maxMemoryKb: number;
  vcpus: number;
  cpuTimeNs: number;
}

export interface NativeCreateResult {
  domid: number;
  buildMs: number;
  xenstoreMs: number;
  unpauseMs: number;
  /** The direct path's phases (0 on the libxl path), ms on the C library's monotonic clock. */
  domainMs: number;
  imageMs: number;
  memoryMs: number;
  loadMs: number;
  nodesMs: number;
  introduceMs: number;
  /** Mapping the console ring before unpause (0 unless asked for). */
  attachMs: number;
  /** The console ring reader, when asked for (how.consoleRing), and when it was mapped (C monotonic ms). */
  ring?: NativeConsoleRing;
  ringAttachedAtMs?: number;
  /** When the C call began and returned (CLOCK_MONOTONIC ms). */
  startedAtMs: number;
  endedAtMs: number;
  imageCached: boolean;
  nodesBatched: boolean;
  nodesTries: number;
}

/** xc_physinfo's page counts (4 KiB pages). */
export interface NativePhysinfo {
  totalPages: number;
  freePages: number;
  scrubPages: number;
  outstandingPages: number;
}

/** One look at a console ring: the bytes (copied), bytes lost to the ring wrapping, whether the domain ended, when (C monotonic ms). */
export interface NativeRingChunk {
  data: Buffer;
  lost: number;
  ended: boolean;
  atMs: number;
}

export interface NativeConsoleRing {
  /** Waits up to timeoutMs for output; an empty chunk that has not ended means the time ran out. */
  read(timeoutMs: number): Promise<NativeRingChunk>;
  close(): void;
}

export interface NativeSession {
  close(): void;
  domainList(): Promise<NativeDomainInfo[]>;
  domainInfo(domid: number): Promise<NativeDomainInfo>;
  domainLookup(name: string): Promise<number>;
  domainPause(domid: number): Promise<void>;
  domainUnpause(domid: number): Promise<void>;
  domainShutdown(domid: number, reboot: boolean): Promise<void>;
  domainDestroy(domid: number): Promise<void>;
  /** Builds the domain from the checked config (read field by field by native/src/addon/domain_config.cc). */
  domainCreate(config: CheckedDomainConfig, how: { direct: boolean; paused: boolean; consoleRing?: boolean }): Promise<NativeCreateResult>;
  domainWaitShutdown(domid: number): Promise<number>;
  freeMemory(): Promise<number>;
  physinfo(): Promise<NativePhysinfo>;
  /** Maps domid's console ring read-only (grant 0, else console/ring-ref). attachedAtMs: C monotonic clock. */
  consoleRingOpen(domid: number): Promise<{ ring: NativeConsoleRing; attachedAtMs: number; attachMs: number }>;
  xsRead(tx: number, path: string): Promise<Buffer>;
  xsWrite(tx: number, path: string, value: Buffer): Promise<void>;
  xsMkdir(tx: number, path: string): Promise<void>;
  xsRm(tx: number, path: string): Promise<void>;
  xsLs(tx: number, path: string): Promise<string[]>;
  xsGetPerms(tx: number, path: string): Promise<{ domid: number; bits: number }[]>;
  xsSetPerms(tx: number, path: string, perms: { domid: number; bits: number }[]): Promise<void>;
  xsTxStart(): Promise<number>;
  xsTxEnd(tx: number, abort: boolean): Promise<void>;
}

export interface NativeWatch {
  next(): Promise<{ path: string; token: string }>;
  close(): void;
}

export interface NativeEvtchn {
  bindInterdomain(domid: number, remotePort: number): Promise<number>;
  bindUnbound(domid: number): Promise<number>;
  unbind(port: number): Promise<void>;
  notify(port: number): Promise<void>;
  wait(timeoutMs: number): Promise<number | null>;
  close(): void;
}

export interface NativeMapping {
  read(offset: number, length: number): Buffer;
  write(offset: number, data: Buffer): void;
  size(): number;
  close(): void;
}

export interface NativeMapper {
  map(domid: number, frames: number[], writable: boolean): Promise<NativeMapping>;
  close(): void;
}

export interface NativeAddon {
  abiVersion: number;
  load(libraryPath: string): void;
  isLoaded(): boolean;
  drainLog(): string;
  /** cfmakeraw on a tty fd (no echo, no CR/LF rewriting either way). */
  ttyMakeRaw(fd: number): void;
  /** Destroys, synchronously, every domain a create is still building; the number destroyed. */
  abortCreations(): number;
  openSession(): Promise<NativeSession>;
  openWatch(path: string, token: string): Promise<NativeWatch>;
  openEvtchn(): Promise<NativeEvtchn>;
  openGnttab(): Promise<NativeMapper>;
  openForeignMemory(): Promise<NativeMapper>;
}

const PACKAGE_NAME = '@rumpxen/xen-control';

/** The package root: the nearest folder up from this module whose package.json is ours. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        /* not ours: keep going up */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Where the addon and librxctl.so are: RUMPXEN_XEN_ADDON_DIR, or native/build/Release in the package. */
export function addonDir(): string {
  return process.env.RUMPXEN_XEN_ADDON_DIR ?? join(packageRoot(), 'native', 'build', 'Release');
}

let addon: NativeAddon | undefined;

/** The addon itself; it has no Xen dependencies, so this works on any Linux host once built. */
export function loadAddon(): NativeAddon {
  if (addon) return addon;
  const file = join(addonDir(), 'rumpxen_xen.node');
  if (!existsSync(file)) {
    throw new Error(
      `${file} does not exist: the Xen addon has not been built; run \`npm run build\` in packages/xen-control (needs cmake, g++, libxen-dev)`,
    );
  }
  const require = createRequire(join(packageRoot(), 'package.json'));
  addon = require(file) as NativeAddon;
  return addon;
}

/** The path of librxctl.so next to the addon. */
export function libraryPath(): string {
  return join(addonDir(), 'librxctl.so');
}
