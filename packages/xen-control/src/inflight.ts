/**
 * A process that ends while `domains.create` runs must not leave a half-built
 * domain.  While at least one create is in flight this installs an `exit`
 * listener (which also runs after an uncaught exception) and SIGINT, SIGTERM
 * and SIGHUP listeners.  Each calls the addon's `abortCreations()`
 * synchronously: the C side destroys every domain a create is still building
 * (found by the UUID each create registered before reaching Xen), with Xen
 * handles of its own because the create's worker thread is mid-call, and flags
 * the creates so that one which gets past the abort destroys what it made and
 * rejects instead of finishing.  A signal listener then re-raises the signal
 * (the process ends as it would have) unless the application listens for that
 * signal too, in which case the application decides.  After an abort no new
 * create starts in this process (it rejects with ECANCELED).
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Signal = (typeof SIGNALS)[number];

let inFlight = 0;
let abortFn: (() => number) | undefined;
let installed = false;

function abortNow(): void {
  if (!abortFn) return;
  try {
    abortFn();
  } catch (e) {
    process.stderr.write(`rumpxen: could not destroy the domains being created as the process ends: ${(e as Error).message}\n`);
  }
}

function onExit(): void {
  abortNow();
}

const signalListeners = Object.fromEntries(
  SIGNALS.map((sig) => [
    sig,
    () => {
      abortNow();
      uninstall();
      // Nobody else listens: end the process the way the signal would have.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    },
  ]),
) as Record<Signal, () => void>;

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const sig of SIGNALS) process.on(sig, signalListeners[sig]);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.removeListener('exit', onExit);
  for (const sig of SIGNALS) process.removeListener(sig, signalListeners[sig]);
}

/** Marks a create as in flight (hooks installed while any is); call the returned function when it settles. */
export function enterCreation(abort: () => number): () => void {
  abortFn = abort;
  inFlight++;
  install();
  let left = false;
  return () => {
    if (left) return;
    left = true;
    if (--inFlight === 0) uninstall();
  };
}

/** How many creates are in flight in this process (for tests and diagnostics). */
export function creationsInFlight(): number {
  return inFlight;
}
