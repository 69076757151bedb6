/** Builds config-space images byte by byte for decoder tests. */
export class ConfigBuilder {
  readonly bytes: Uint8Array;
  constructor(length = 256) {
    this.bytes = new Uint8Array(length);
  }
  u8(off: number, v: number): this {
    this.bytes[off] = v & 0xff;
    return this;
  }
  u16(off: number, v: number): this {
    return this.u8(off, v).u8(off + 1, v >>> 8);
  }
  u32(off: number, v: number): this {
    return this.u16(off, v & 0xffff).u16(off + 2, v >>> 16);
  }
  /** Common header fields of a type-0 function with a capability list at `capPtr` (0 = none). */
  endpoint(vendor: number, device: number, classCode: number, capPtr = 0): this {
    this.u16(0x00, vendor).u16(0x02, device).u8(0x08, 0x10);
    this.u8(0x09, classCode).u8(0x0a, classCode >>> 8).u8(0x0b, classCode >>> 16);
    this.u8(0x0e, 0x00);
    if (capPtr) this.u16(0x06, 0x0010).u8(0x34, capPtr);
    return this;
  }
  cap(off: number, id: number, next: number): this {
    return this.u8(off, id).u8(off + 1, next);
  }
}
