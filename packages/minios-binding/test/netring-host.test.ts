/**
 * The network frontend's protocol code on the host, no Xen needed:
 * - mk/netif.h has Xen's own numbers and layouts (test/net/netif-abi.c against
 *   /usr/include/xen/io/netif.h; a planted wrong assertion must break the compile);
 * - c/kern/netring.c, the checks of everything a backend hands the frontend, builds as
 *   plain host C with no guest kernel symbol;
 * - its known answers (ring verdicts, xenstore values) and 100 000 fuzz inputs under ASan
 *   and UBSan (test/net/netring-fuzz.c): the plain program with gcc always, and clang's
 *   libFuzzer (coverage-guided) when clang is installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestIncludeDir } from '../src/index.js';

const root = join(__dirname, '..');
const netring = join(root, 'c', 'kern', 'netring.c');
const harness = join(__dirname, 'net', 'netring-fuzz.c');
const abi = join(__dirname, 'net', 'netif-abi.c');
const dir = mkdtempSync(join(tmpdir(), 'rumpxen-netring-'));
const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];
const FUZZ_RUNS = 100_000;

function hasLibFuzzer(): boolean {
  const r = spawnSync('clang', ['-fsanitize=fuzzer', '-x', 'c', '-', '-o', join(dir, 'probe')], {
    input: 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }',
    encoding: 'utf8',
  });
  return r.status === 0;
}

describe('mk/netif.h against Xen\'s io/netif.h', () => {
  it('every constant, offset and size is Xen\'s', () => {
    const r = spawnSync('gcc', ['-std=gnu11', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-I', guestIncludeDir, abi], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a wrong assertion breaks the compile (the checks are live)', () => {
    const r = spawnSync('gcc', ['-std=gnu11', '-fsyntax-only', '-DABI_SELF_TEST', '-I', guestIncludeDir, abi], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('MK_NETIF_TX_RING_SIZE != __CONST_RING_SIZE(netif_tx, 8192)');
  });
});

describe('c/kern/netring.c on the host', () => {
  it('builds as plain host C and needs no guest kernel symbol', () => {
    const obj = join(dir, 'netring.o');
    execFileSync('gcc', ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', guestIncludeDir, '-c', netring, '-o', obj]);
    const undefinedSymbols = execFileSync('nm', ['-u', obj], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/).pop()).filter(Boolean);
    expect(undefinedSymbols.filter((s) => !['memset', 'memcpy'].includes(s!))).toEqual([]);
  });

  const plain = join(dir, 'netring-fuzz');
  it('passes its known answers (ring verdicts, xenstore values) under ASan and UBSan', () => {
    execFileSync('gcc', ['-std=gnu11', '-O1', '-g', '-Wall', '-Wextra', '-Werror', ...SANITIZE, '-I', guestIncludeDir, harness, netring, '-o', plain]);
    const r = spawnSync(plain, ['--selftest'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('netring-fuzz: selftest passed');
    expect(r.status).toBe(0);
  }, 60_000);

  it(`${FUZZ_RUNS} generated inputs: every verdict agrees with the model, no sanitizer report (gcc)`, () => {
    const r = spawnSync(plain, [String(FUZZ_RUNS)], { encoding: 'utf8', timeout: 240_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`netring-fuzz: ${FUZZ_RUNS} inputs, no finding`);
    expect(r.status).toBe(0);
  }, 300_000);

  it.skipIf(!hasLibFuzzer())(`${FUZZ_RUNS} libFuzzer inputs, coverage-guided (clang)`, () => {
    const bin = join(dir, 'netring-libfuzzer');
    execFileSync('clang', ['-std=gnu11', '-O1', '-g', '-DNETRING_LIBFUZZER', '-Wall', '-Wno-macro-redefined', '-fsanitize=fuzzer', ...SANITIZE, '-I', guestIncludeDir, harness, netring, '-o', bin]);
    const r = spawnSync(bin, [`-runs=${FUZZ_RUNS}`, '-seed=1', '-max_len=1024'], { encoding: 'utf8', timeout: 240_000 });
    expect(r.stderr, r.stderr.slice(-3000)).toMatch(new RegExp(`Done ${FUZZ_RUNS} runs in`));
    expect(r.stderr).not.toMatch(/ERROR: AddressSanitizer|runtime error|netring-fuzz:/);
    expect(r.status).toBe(0);
  }, 300_000);
});
