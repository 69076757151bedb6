/** xenstore: reads, writes, directories, permissions, transactions and watches. */
import { call, fromNative, XenConfigError, XenError } from './errors.js';
import type { NativeAddon, NativeSession, NativeWatch } from './native.js';

/** One entry of a node's permission list; the first entry is the owner and the default for everyone else. */
export interface XenStorePermission {
  domid: number;
  access: 'none' | 'read' | 'write' | 'both';
}

export interface WatchEvent {
  /** The node that changed (at or under the watched path), or the special path (`@releaseDomain`...). */
  path: string;
  token: string;
}

const ACCESS_BITS: Record<XenStorePermission['access'], number> = { none: 0, read: 1, write: 2, both: 3 };
const MAX_PATH = 3072;
const PATH_CHARS = /^[A-Za-z0-9\-/_@.:]+$/;

/** Checks a xenstore path; relative paths are refused so no call depends on the caller's domain. */
export function checkPath(path: unknown, field = 'path', allowSpecial = false): string {
  const fix = "use an absolute path such as '/local/domain/0/name'";
  if (typeof path !== 'string' || path.length === 0) throw new XenConfigError(field, `must be a non-empty string, got ${JSON.stringify(path)}`, fix);
  if (allowSpecial && (path === '@introduceDomain' || path === '@releaseDomain')) return path;
  if (!path.startsWith('/')) throw new XenConfigError(field, `${JSON.stringify(path)} is not absolute`, fix);
  if (path.length > MAX_PATH) throw new XenConfigError(field, `is ${path.length} characters, over xenstore's ${MAX_PATH}`, 'shorten it');
  if (!PATH_CHARS.test(path)) throw new XenConfigError(field, `${JSON.stringify(path)} has characters xenstore refuses`, 'use letters, digits and - / _ @ . : only');
  if (path !== '/' && path.endsWith('/')) throw new XenConfigError(field, `${JSON.stringify(path)} ends with '/'`, 'drop the trailing slash');
  if (path.includes('//')) throw new XenConfigError(field, `${JSON.stringify(path)} has an empty component ('//')`, 'remove the doubled slash');
  return path;
}

function toBits(perms: XenStorePermission[]): { domid: number; bits: number }[] {
  if (!Array.isArray(perms) || perms.length === 0) {
    throw new XenConfigError('permissions', 'must be a non-empty array', "pass at least the owner, e.g. [{ domid: 0, access: 'none' }]");
  }
  return perms.map((p, i) => {
    if (!Number.isInteger(p.domid) || p.domid < 0 || p.domid > 0x7fef) {
      throw new XenConfigError(`permissions[${i}].domid`, `${JSON.stringify(p.domid)} is not a domain id`, 'use an integer from 0 to 32751');
    }
    const bits = ACCESS_BITS[p.access];
    if (bits === undefined) throw new XenConfigError(`permissions[${i}].access`, `unknown access ${JSON.stringify(p.access)}`, "use 'none', 'read', 'write' or 'both'");
    return { domid: p.domid, bits };
  });
}

function fromBits(list: { domid: number; bits: number }[]): XenStorePermission[] {
  const names = ['none', 'read', 'write', 'both'] as const;
  return list.map((p) => ({ domid: p.domid, access: names[p.bits & 3]! }));
}

/** Operations shared by the store itself and a transaction on it. */
class XenStoreOps {
  constructor(
    protected readonly session: () => NativeSession,
    protected readonly tx: number,
  ) {}

  /** The node's value as UTF-8 text. */
  async read(path: string): Promise<string> {
    return (await this.readBuffer(path)).toString('utf8');
  }

  async readBuffer(path: string): Promise<Buffer> {
    return call(this.session().xsRead(this.tx, checkPath(path)));
  }

  /** The value, or undefined when the node does not exist. */
  async readOptional(path: string): Promise<string | undefined> {
    try {
      return await this.read(path);
    } catch (e) {
      if (e instanceof XenError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async write(path: string, value: string | Buffer): Promise<void> {
    const buf = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (!Buffer.isBuffer(buf)) throw new XenConfigError('value', 'must be a string or a Buffer', 'convert it first');
    return call(this.session().xsWrite(this.tx, checkPath(path), buf));
  }

  async mkdir(path: string): Promise<void> {
    return call(this.session().xsMkdir(this.tx, checkPath(path)));
  }

  /** Removes the node and everything under it. */
  async rm(path: string): Promise<void> {
    return call(this.session().xsRm(this.tx, checkPath(path)));
  }

  /** The names of the node's children. */
  async ls(path: string): Promise<string[]> {
    return call(this.session().xsLs(this.tx, checkPath(path)));
  }

  async getPermissions(path: string): Promise<XenStorePermission[]> {
    return fromBits(await call(this.session().xsGetPerms(this.tx, checkPath(path))));
  }

  async setPermissions(path: string, perms: XenStorePermission[]): Promise<void> {
    return call(this.session().xsSetPerms(this.tx, checkPath(path), toBits(perms)));
  }
}

/** Operations inside one xenstore transaction (see `XenStore.transaction`). */
export class XenStoreTransaction extends XenStoreOps {
  get id(): number {
    return this.tx;
  }
}

/** An async iterator of watch events; the first event fires at once for the watched path (xenstore's rule). */
export class XenStoreWatch implements AsyncIterableIterator<WatchEvent>, Disposable {
  private closed = false;
  constructor(private readonly w: NativeWatch, readonly path: string) {}

  async next(): Promise<IteratorResult<WatchEvent>> {
    if (this.closed) return { done: true, value: undefined };
    try {
      return { done: false, value: await this.w.next() };
    } catch (e) {
      if (this.closed) return { done: true, value: undefined };
      throw fromNative(e);
    }
  }

  async return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.w.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export interface TransactionOptions {
  /** How many times to rerun the body when another writer wins (EAGAIN). Default 16. */
  retries?: number;
}

export class XenStore extends XenStoreOps {
  private watchCount = 0;
  constructor(
    session: () => NativeSession,
    private readonly addon: NativeAddon,
    private readonly track: (h: { close(): void }) => () => void,
  ) {
    super(session, 0);
  }

  /**
   * Runs body in a transaction and commits it; when the commit fails with
   * EAGAIN (a concurrent writer), runs body again from scratch.  A throw
   * from body aborts the transaction.
   */
  async transaction<T>(body: (tx: XenStoreTransaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const retries = opts.retries ?? 16;
    if (!Number.isInteger(retries) || retries < 0) throw new XenConfigError('retries', `must be a non-negative integer, got ${retries}`, 'pass e.g. { retries: 16 }');
    for (let attempt = 0; ; attempt++) {
      const id = await call(this.session().xsTxStart());
      let result: T;
      try {
        result = await body(new XenStoreTransaction(this.session, id));
      } catch (e) {
        await call(this.session().xsTxEnd(id, true)).catch(() => undefined);
        throw e;
      }
      try {
        await call(this.session().xsTxEnd(id, false));
        return result;
      } catch (e) {
        if (e instanceof XenError && e.code === 'EAGAIN' && attempt < retries) continue;
        throw e;
      }
    }
  }

  /** Watches path (and everything under it) on a connection of its own. Close it when done. */
  async watch(path: string, token?: string): Promise<XenStoreWatch> {
    checkPath(path, 'path', true);
    const tok = token ?? `rumpxen-${process.pid}-${++this.watchCount}`;
    const native = await call(this.addon.openWatch(path, tok));
    const watch = new XenStoreWatch(native, path);
    const untrack = this.track(watch);
    const close = watch.close.bind(watch);
    watch.close = () => {
      untrack();
      close();
    };
    return watch;
  }
}
