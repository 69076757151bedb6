/**
 * A small HTTP/1.1 client for checking and measuring examples/httpd, written on node:net so
 * that every byte on the wire is ours (keep-alive, a malformed request line, a client that
 * leaves mid-transfer). Runs anywhere node does; the tests run it in the testbed's dom0
 * (`hostrun node client.mjs ...`).
 *
 *   client.mjs get HOST PORT [--head] PATH...   the paths one after another on ONE connection
 *   client.mjs raw HOST PORT TEXT                sends TEXT (\r and \n as escapes) and reads
 *                                                what comes back until the server closes
 *   client.mjs concurrent HOST PORT N PATH       N connections at once, one GET each
 *   client.mjs abort HOST PORT PATH BYTES        GET, read BYTES of the body, then reset
 *
 * (The bench's load generator is load.c: node under QEMU TCG is too slow to load a server.)
 *
 * Prints one line `httpd-client: {json}` and exits 0 when the exchange itself worked (the
 * caller judges statuses and bodies), 1 otherwise.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';

const TIMEOUT_MS = 120_000;

function connect(host, port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.setNoDelay(true);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads responses off a socket: next(isHead) resolves with one whole response. */
function reader(sock) {
  let buf = Buffer.alloc(0);
  let ended = false;
  let error;
  let wake;
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    wake?.();
  });
  sock.on('end', () => {
    ended = true;
    wake?.();
  });
  sock.on('error', (e) => {
    error = e;
    wake?.();
  });
  const more = () => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no data for ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    wake = () => {
      clearTimeout(t);
      wake = undefined;
      resolve();
    };
  });
  return {
    async next(isHead, onBody) {
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) < 0) {
        if (ended || error) throw new Error(`connection ended before a response head (${error?.message ?? 'closed'})`);
        await more();
      }
      const head = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 4);
      const [statusLine, ...lines] = head.split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
      if (!m) throw new Error(`malformed status line: ${JSON.stringify(statusLine)}`);
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = isHead ? 0 : Number(headers['content-length'] ?? 0);
      const hash = createHash('sha256');
      let got = 0;
      const text = [];
      while (got < length) {
        if (!buf.length) {
          if (ended || error) throw new Error(`connection ended after ${got} of ${length} body bytes`);
          await more();
          continue;
        }
        const take = buf.subarray(0, Math.min(buf.length, length - got));
        buf = buf.subarray(take.length);
        hash.update(take);
        if (got < 4096) text.push(take.subarray(0, 4096 - got));
        got += take.length;
        if (onBody && onBody(got)) return { status: Number(m[1]), headers, got };
      }
      return { status: Number(m[1]), headers, length: got, sha256: hash.digest('hex'), text: Buffer.concat(text).toString('utf8') };
    },
    get ended() {
      return ended;
    },
  };
}

async function get(host, port, args) {
  const isHead = args[0] === '--head';
  const paths = isHead ? args.slice(1) : args;
  const s = await connect(host, port);
  const r = reader(s);
  const responses = [];
  for (const p of paths) {
    s.write(`${isHead ? 'HEAD' : 'GET'} ${p} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: rumpxen-httpd-client\r\n\r\n`);
    responses.push({ path: p, ...(await r.next(isHead)) });
  }
  s.end();
  return { responses };
}

async function raw(host, port, text) {
  const s = await connect(host, port);
  const chunks = [];
  const done = new Promise((resolve) => {
    s.on('data', (d) => chunks.push(d));
    s.on('close', resolve);
    s.on('error', resolve);
  });
  s.write(text.replace(/\\r/g, '\r').replace(/\\n/g, '\n'));
  const t = setTimeout(() => s.destroy(), 30_000);
  await done;
  clearTimeout(t);
  const reply = Buffer.concat(chunks).toString('latin1');
  return { reply: reply.slice(0, 2000), closed: true, statusLine: reply.split('\r\n')[0] };
}

async function concurrent(host, port, n, path) {
  const t0 = Date.now();
  const one = async (i) => {
    const s = await connect(host, port);
    const r = reader(s);
    s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nX-Client: ${i}\r\n\r\n`);
    const res = await r.next(false);
    s.end();
    return { client: i, status: res.status, length: res.length, sha256: res.sha256 };
  };
  const results = await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  return { results, ms: Date.now() - t0 };
}

async function abort(host, port, path, bytes) {
  const s = await connect(host, port);
  const r = reader(s);
  s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const res = await r.next(false, (got) => got >= bytes);
  s.resetAndDestroy();
  return { status: res.status, read: res.got, of: Number(res.headers['content-length']) };
}

const [cmd, host, portArg, ...rest] = process.argv.slice(2);
const port = Number(portArg);
const usage = 'usage: client.mjs get|raw|concurrent|abort HOST PORT ... (see the comment at the top)';
if (!cmd || !host || !(port > 0)) {
  console.error(usage);
  process.exit(2);
}
try {
  let out;
  if (cmd === 'get') out = await get(host, port, rest);
  else if (cmd === 'raw') out = await raw(host, port, rest[0] ?? '');
  else if (cmd === 'concurrent') out = await concurrent(host, port, Number(rest[0]), rest[1]);
  else if (cmd === 'abort') out = await abort(host, port, rest[0], Number(rest[1]));
  else {
    console.error(usage);
    process.exit(2);
  }
  console.log(`httpd-client: ${JSON.stringify(out)}`);
} catch (e) {
  console.log(`httpd-client: ${JSON.stringify({ error: String(e?.message ?? e) })}`);
  process.exit(1);
}
