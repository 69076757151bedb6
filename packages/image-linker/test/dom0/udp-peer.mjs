/**
 * The dom0 side of examples/netbsd-net's UDP echo, run with the host's node inside dom0
 * (`hostrun node udp-peer.mjs HOST PORT SIZE...`): for each size, a datagram of that many
 * random bytes goes to HOST:PORT and its echo must come back byte for byte. UDP may lose a
 * datagram, so each size is sent again (new random bytes) when no echo came within
 * TIMEOUT_MS, up to TRIES times; an echo of an earlier try is recognised and set aside
 * (late, not wrong), anything else that comes back counts as corrupt. Then "quit" (echoed
 * too) ends the echo server.
 *
 * Prints a line per size and last `udp-peer: {json}`; exits 0 only when every size (and
 * "quit") came back right and nothing corrupt came.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

const TRIES = 5;
const TIMEOUT_MS = 3000;

const [host, portArg, ...sizeArgs] = process.argv.slice(2);
const port = Number(portArg);
const sizes = sizeArgs.map(Number);
if (!host || !(port > 0) || !sizes.length || sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 65507)) {
  console.error('usage: udp-peer.mjs HOST PORT SIZE... (sizes 1..65507)');
  process.exit(2);
}

const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
const inbox = [];
let waiter;
sock.on('message', (msg, rinfo) => {
  if (rinfo.address !== host || rinfo.port !== port) return;
  inbox.push(msg);
  waiter?.();
});
await new Promise((resolve, reject) => {
  sock.once('error', reject);
  sock.bind(0, () => {
    sock.off('error', reject);
    resolve();
  });
});
sock.on('error', (e) => console.log(`udp-peer: socket error ${e.message}`));

/** The next datagram from the peer, or undefined after ms. */
function next(ms) {
  if (inbox.length) return Promise.resolve(inbox.shift());
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiter = undefined;
      resolve(undefined);
    }, ms);
    waiter = () => {
      clearTimeout(timer);
      waiter = undefined;
      resolve(inbox.shift());
    };
  });
}

const sent = []; // every payload sent so far, to tell a late echo from a corrupt one
let late = 0;
let corrupt = 0;

/** Sends payload (again and again, fresh bytes each time, through make) until it comes back. */
async function exchange(make) {
  const t0 = performance.now();
  for (let tries = 1; tries <= TRIES; tries++) {
    const payload = make();
    sent.push(payload);
    try {
      await new Promise((resolve, reject) => sock.send(payload, port, host, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      return { ok: false, tries, why: `send: ${e.message}` };
    }
    const end = performance.now() + TIMEOUT_MS;
    for (let left = TIMEOUT_MS; left > 0; left = end - performance.now()) {
      const echo = await next(left);
      if (!echo) break;
      if (echo.equals(payload)) return { ok: true, tries, ms: Math.round(performance.now() - t0) };
      if (sent.some((p) => p.equals(echo))) {
        late++;
        continue;
      }
      corrupt++;
      const at = [...echo].findIndex((b, i) => b !== payload[i]);
      console.log(`udp-peer: corrupt echo (${echo.length} bytes for ${payload.length}, first difference at byte ${at})`);
    }
  }
  return { ok: false, tries: TRIES, why: `no right echo in ${TRIES} tries of ${TIMEOUT_MS} ms` };
}

const results = [];
for (const size of sizes) {
  const r = { size, ...(await exchange(() => randomBytes(size))) };
  results.push(r);
  console.log(`udp ${size} bytes: ${r.ok ? `echoed, ${r.tries} ${r.tries === 1 ? 'try' : 'tries'}, ${r.ms} ms` : `FAIL ${r.why}`}`);
}
const quit = await exchange(() => Buffer.from('quit'));
console.log(`udp quit: ${quit.ok ? 'echoed' : `FAIL ${quit.why}`}`);
sock.close();
const ok = results.every((r) => r.ok) && quit.ok && corrupt === 0;
console.log(`udp-peer: ${JSON.stringify({ ok, results, quit: quit.ok, late, corrupt })}`);
process.exit(ok ? 0 : 1);
