#!/usr/bin/env node
// TCP throughput peer for bench/netbsd-io.mjs, run in the full testbed's dom0 by the host's
// node (`hostrun node tcp-peer.mjs ...`). Each mode prints one JSON line.
//   send HOST PORT BYTES      connects, writes BYTES (64 KiB writes, with back-pressure), waits
//                             for the peer to close: ms from connect to the peer's FIN (it
//                             closes once it has read BYTES)
//   recv HOST PORT BYTES      connects, reads until BYTES arrived: ms from connect to the last byte
//   serve-sink PORT BYTES     one connection: reads BYTES, then closes (io.c's port 5001)
//   serve-source PORT BYTES   one connection: writes BYTES, then closes (io.c's port 5002)
//   loopback BYTES            the baseline: serve-sink and serve-source in a child node process
//                             on 127.0.0.1, against send and recv in this one (two lines)
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
const [mode, ...args] = process.argv.slice(2);

function fail(why) {
  console.error(`tcp-peer: ${why}`);
  process.exit(1);
}

function count(v, what) {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) fail(`${what} must be a positive whole number, not ${v}`);
  return n;
}

/** Writes bytes to the socket in 64 KiB pieces, waiting for 'drain' when its buffer is full. */
async function writeAll(sock, bytes) {
  let left = bytes;
  while (left > 0) {
    const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
    left -= piece.length;
    if (!sock.write(piece)) await new Promise((r) => sock.once('drain', r));
  }
}

function result(m, bytes, ms) {
  return { mode: m, bytes, ms: Math.round(ms * 10) / 10, mbps: Math.round((bytes / 1e6 / (ms / 1000)) * 100) / 100 };
}

function send(host, port, bytes) {
  return new Promise((resolve, reject) => {
    let t0;
    const sock = connect({ host, port }, async () => {
      t0 = performance.now();
      await writeAll(sock, bytes);
      sock.end();
    });
    sock.on('data', () => {});
    sock.on('end', () => resolve(result('send', bytes, performance.now() - t0)));
    sock.on('error', reject);
    sock.setTimeout(120_000, () => {
      reject(new Error('no progress for 120 s'));
      sock.destroy();
    });
  });
}

function recv(host, port, bytes) {
  return new Promise((resolve, reject) => {
    let t0;
    let got = 0;
    let done = false;
    const sock = connect({ host, port }, () => {
      t0 = performance.now();
    });
    sock.on('data', (b) => {
      got += b.length;
      if (!done && got >= bytes) {
        done = true;
        resolve(result('recv', got, performance.now() - t0));
        sock.end();
      }
    });
    sock.on('end', () => {
      if (!done) reject(new Error(`the peer closed after ${got} of ${bytes} bytes`));
    });
    sock.on('error', (e) => {
      if (!done) reject(e);
    });
    sock.setTimeout(120_000, () => {
      reject(new Error('no progress for 120 s'));
      sock.destroy();
    });
  });
}

/** One connection on 127.0.0.1 (port 0: any); prints `listening PORT`. */
function serve(port, bytes, source) {
  const server = createServer((sock) => {
    server.close();
    sock.on('error', (e) => fail(e.message));
    if (source) {
      sock.on('data', () => {});
      writeAll(sock, bytes).then(() => sock.end());
      return;
    }
    let got = 0;
    sock.on('data', (b) => {
      got += b.length;
      if (got >= bytes) sock.end();
    });
  });
  server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

/** A serve-* child process; resolves with its port once it listens. */
function child(which, bytes) {
  const c = spawn(process.execPath, [fileURLToPath(import.meta.url), which, '0', String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    c.stdout.on('data', (b) => {
      out += b;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), exited: new Promise((r) => c.on('exit', r)) });
    });
    c.on('exit', (code) => reject(new Error(`${which} exited with ${code} before listening`)));
  });
}

try {
  switch (mode) {
    case 'send':
      console.log(JSON.stringify(await send(args[0], count(args[1], 'PORT'), count(args[2], 'BYTES'))));
      break;
    case 'recv':
      console.log(JSON.stringify(await recv(args[0], count(args[1], 'PORT'), count(args[2], 'BYTES'))));
      break;
    case 'serve-sink':
    case 'serve-source':
      serve(Number(args[0]), count(args[1], 'BYTES'), mode === 'serve-source');
      break;
    case 'loopback': {
      const bytes = count(args[0], 'BYTES');
      const sink = await child('serve-sink', bytes);
      console.log(JSON.stringify(await send('127.0.0.1', sink.port, bytes)));
      await sink.exited;
      const source = await child('serve-source', bytes);
      console.log(JSON.stringify(await recv('127.0.0.1', source.port, bytes)));
      await source.exited;
      break;
    }
    default:
      fail('usage: tcp-peer.mjs send|recv HOST PORT BYTES | serve-sink|serve-source PORT BYTES | loopback BYTES');
  }
} catch (e) {
  fail(e.message);
}
