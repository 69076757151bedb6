/**
 * Another domain's pages, mapped by grant reference (libxengnttab) or by
 * guest frame number (libxenforeignmemory).  Read-only unless asked; reads
 * copy out, since the guest may change the page under us.
 */
import { call, XenConfigError } from './errors.js';
import { checkDomid } from './domains.js';
import type { NativeMapper, NativeMapping } from './native.js';

export interface MapOptions {
  /** Map for writing too. Default false. */
  writable?: boolean;
}

export class GuestMapping implements Disposable {
  constructor(private readonly m: NativeMapping) {}

  /** Bytes mapped (pages × 4096). */
  get size(): number {
    return this.m.size();
  }

  /** A copy of length bytes at offset. */
  read(offset: number, length: number): Buffer {
    return this.m.read(offset, length);
  }

  write(offset: number, data: Buffer): void {
    this.m.write(offset, data);
  }

  close(): void {
    this.m.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function checkFrames(field: string, list: unknown, max: number): number[] {
  if (!Array.isArray(list) || list.length === 0 || list.length > 1024) {
    throw new XenConfigError(field, 'must be an array of 1 to 1024 numbers', 'pass the grant references or frame numbers to map');
  }
  return list.map((v, i) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
      throw new XenConfigError(`${field}[${i}]`, `${JSON.stringify(v)} is out of range`, `use integers from 0 to ${max}`);
    }
    return v;
  });
}

class Mapper implements Disposable {
  constructor(
    private readonly h: NativeMapper,
    private readonly untrack: () => void,
    private readonly field: string,
    private readonly max: number,
  ) {}

  protected async mapFrames(domid: number, frames: number[], opts: MapOptions): Promise<GuestMapping> {
    return new GuestMapping(await call(this.h.map(checkDomid(domid), checkFrames(this.field, frames, this.max), opts.writable === true)));
  }

  close(): void {
    this.untrack();
    this.h.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export class GrantTable extends Mapper {
  constructor(h: NativeMapper, untrack: () => void) {
    super(h, untrack, 'refs', 0xffffffff);
  }

  /** Maps the pages domid granted us, contiguously. */
  map(domid: number, refs: number[], opts: MapOptions = {}): Promise<GuestMapping> {
    return this.mapFrames(domid, refs, opts);
  }
}

export class ForeignMemory extends Mapper {
  constructor(h: NativeMapper, untrack: () => void) {
    super(h, untrack, 'gfns', Number.MAX_SAFE_INTEGER);
  }

  /** Maps guest frames of domid (privileged: dom0 only), contiguously. */
  map(domid: number, gfns: number[], opts: MapOptions = {}): Promise<GuestMapping> {
    return this.mapFrames(domid, gfns, opts);
  }
}
