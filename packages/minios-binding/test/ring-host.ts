/**
 * The host checks of a frontend's protocol code, no Xen needed, shared by
 * blkring-host.test.ts and netring-host.test.ts:
 * - mk/<abi>.h has Xen's own numbers and layouts (test/<dir>/<abi>-abi.c against
 *   /usr/include/xen/io/<abi>.h; a planted wrong assertion must break the compile);
 * - c/kern/<ring>.c, the checks of everything a backend hands the frontend, builds as plain
 *   host C with no guest kernel symbol;
 * - its known answers and FUZZ_RUNS fuzz inputs under ASan and UBSan
 *   (test/<dir>/<ring>-fuzz.c, on test/host/fuzz.h): the plain program with gcc always, and
 *   clang's libFuzzer (coverage-guided) when clang is installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestIncludeDir } from '../src/index.js';

/** One frontend's protocol code as the host checks see it. */
export interface RingOnHost {
  /** 'blkring': c/kern/<ring>.c, test/<dir>/<ring>-fuzz.c, whose lines start `<ring>-fuzz:`. */
  ring: string;
  /** 'blkif': mk/<abi>.h, checked by test/<dir>/<abi>-abi.c against Xen's io/<abi>.h. */
  abi: string;
  /** 'blk': the folder under test/ with the harness and the ABI check. */
  dir: string;
  /** Part of the message of the wrong assertion -DABI_SELF_TEST plants. */
  abiSelfTestMessage: string;
  /** What the selftest checks, for the test's name: '(ring verdicts, xenstore values)'. */
  knownAnswers: string;
}

const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];
export const FUZZ_RUNS = 100_000;
const hostInclude = join(__dirname, 'host');

function hasLibFuzzer(dir: string): boolean {
  const r = spawnSync('clang', ['-fsanitize=fuzzer', '-x', 'c', '-', '-o', join(dir, 'probe')], {
    input: 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }',
    encoding: 'utf8',
  });
  return r.status === 0;
}

/** Declares the ABI, host-build and fuzz tests of one frontend's protocol code. */
export function describeRingOnHost(c: RingOnHost): void {
  const source = join(__dirname, '..', 'c', 'kern', `${c.ring}.c`);
  const harness = join(__dirname, c.dir, `${c.ring}-fuzz.c`);
  const abiCheck = join(__dirname, c.dir, `${c.abi}-abi.c`);
  const dir = mkdtempSync(join(tmpdir(), `rumpxen-${c.ring}-`));
  const includes = ['-I', guestIncludeDir, '-I', hostInclude];

  describe(`mk/${c.abi}.h against Xen's io/${c.abi}.h`, () => {
    it('every constant, offset and size is Xen\'s', () => {
      const r = spawnSync('gcc', ['-std=gnu11', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', ...includes, abiCheck], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });

    it('a wrong assertion breaks the compile (the checks are live)', () => {
      const r = spawnSync('gcc', ['-std=gnu11', '-fsyntax-only', '-DABI_SELF_TEST', ...includes, abiCheck], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(c.abiSelfTestMessage);
    });
  });

  describe(`c/kern/${c.ring}.c on the host`, () => {
    it('builds as plain host C and needs no guest kernel symbol', () => {
      const obj = join(dir, `${c.ring}.o`);
      execFileSync('gcc', ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', guestIncludeDir, '-c', source, '-o', obj]);
      const undefinedSymbols = execFileSync('nm', ['-u', obj], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/).pop()).filter(Boolean);
      // At most what the compiler itself may call for a struct copy.
      expect(undefinedSymbols.filter((s) => !['memset', 'memcpy'].includes(s!))).toEqual([]);
    });

    const plain = join(dir, `${c.ring}-fuzz`);
    it(`passes its known answers ${c.knownAnswers} under ASan and UBSan`, () => {
      execFileSync('gcc', ['-std=gnu11', '-O1', '-g', '-Wall', '-Wextra', '-Werror', ...SANITIZE, ...includes, harness, source, '-o', plain]);
      const r = spawnSync(plain, ['--selftest'], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`${c.ring}-fuzz: selftest passed`);
      expect(r.status).toBe(0);
    }, 60_000);

    it(`${FUZZ_RUNS} generated inputs: every verdict agrees with the model, no sanitizer report (gcc)`, () => {
      const r = spawnSync(plain, [String(FUZZ_RUNS)], { encoding: 'utf8', timeout: 240_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`${c.ring}-fuzz: ${FUZZ_RUNS} inputs, no finding`);
      expect(r.status).toBe(0);
    }, 300_000);

    it.skipIf(!hasLibFuzzer(dir))(`${FUZZ_RUNS} libFuzzer inputs, coverage-guided (clang)`, () => {
      const bin = join(dir, `${c.ring}-libfuzzer`);
      // clang's stdarg.h and mk/types.h define va_start alike.
      execFileSync('clang', ['-std=gnu11', '-O1', '-g', '-DFUZZ_LIBFUZZER', '-Wall', '-Wno-macro-redefined', '-fsanitize=fuzzer', ...SANITIZE, ...includes, harness, source, '-o', bin]);
      const r = spawnSync(bin, [`-runs=${FUZZ_RUNS}`, '-seed=1', '-max_len=1024'], { encoding: 'utf8', timeout: 240_000 });
      expect(r.stderr, r.stderr.slice(-3000)).toMatch(new RegExp(`Done ${FUZZ_RUNS} runs in`));
      expect(r.stderr).not.toMatch(new RegExp(`ERROR: AddressSanitizer|runtime error|${c.ring}-fuzz:`));
      expect(r.status).toBe(0);
    }, 300_000);
  });
}
