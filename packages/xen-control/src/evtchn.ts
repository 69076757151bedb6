/** Event channels (libxenevtchn): bind, notify, wait. */
import { call, XenConfigError } from './errors.js';
import { checkDomid } from './domains.js';
import type { NativeEvtchn } from './native.js';

function checkPort(port: unknown, field = 'port'): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 0xffffff) {
    throw new XenConfigError(field, `${JSON.stringify(port)} is not an event channel port`, 'pass a port returned by a bind call');
  }
  return port;
}

export class EventChannels implements Disposable {
  constructor(private readonly h: NativeEvtchn, private readonly untrack: () => void) {}

  /** Connects to remotePort of domid; returns the local port. */
  async bindInterdomain(domid: number, remotePort: number): Promise<number> {
    return call(this.h.bindInterdomain(checkDomid(domid), checkPort(remotePort, 'remotePort')));
  }

  /** Allocates a port that domid can bind to; returns the local port. */
  async bindUnbound(domid: number): Promise<number> {
    return call(this.h.bindUnbound(checkDomid(domid)));
  }

  async unbind(port: number): Promise<void> {
    return call(this.h.unbind(checkPort(port)));
  }

  async notify(port: number): Promise<void> {
    return call(this.h.notify(checkPort(port)));
  }

  /** The next port that fired (unmasked again), or null after timeoutMs (-1: no timeout). Waits on a thread. */
  async wait(timeoutMs = -1): Promise<number | null> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < -1 || timeoutMs > 0x7fffffff) {
      throw new XenConfigError('timeoutMs', `${timeoutMs} is not a timeout`, 'pass milliseconds, or -1 to wait without one');
    }
    return call(this.h.wait(timeoutMs));
  }

  close(): void {
    this.untrack();
    this.h.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
