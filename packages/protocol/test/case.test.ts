/**
 * The C case harness (c/include/rumpxen/case.h): programs built on it print what verdict.ts
 * reads, and exit with the status the result line names.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCaseLine, parseResultLine, protocolIncludeDir, XTF_EXIT_CODES, XTF_RESULTS } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'protocol-case-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOSTED = `#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#define CASE_VSNPRINTF vsnprintf
#define CASE_PUTLINE(text) puts(text)
#include <rumpxen/case.h>
#include <string.h>
`;

/** Compiles a hosted program on case.h (warnings are errors) and runs it with `args`. */
function run(label: string, body: string, args: string[] = []): { lines: string[]; status: number | null } {
  const src = join(dir, `${label}.c`);
  writeFileSync(src, `${HOSTED}${body}`);
  const exe = join(dir, label);
  execFileSync('gcc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-I', protocolIncludeDir, src, '-o', exe]);
  const r = spawnSync(exe, args, { encoding: 'utf8' });
  return { lines: r.stdout.trimEnd().split('\n'), status: r.status };
}

const RUNNER = `
static bool positive(int x) { CHECK(x > 0, "helper got %d", x); return true; }
static bool case_ok(void) { CHECK(1 + 1 == 2, "arithmetic"); return true; }
static bool case_nested(void) { if (!positive(-3)) return false; return true; }
static bool case_reason(void) { int n = 41; CHECK(n == 42, "n is %d, expected %d", n, 42); return true; }
static bool case_skipped(void) { case_skip("needs %s", "two edus"); return false; }
static bool case_silent(void) { return false; }
int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "mixed")) {
		case_run("ok", case_ok);
		case_run("nested", case_nested);
		case_run("reason", case_reason);
		case_run("skipped", case_skipped);
		case_run("silent", case_silent);
		case_report("by_hand", CASE_SKIP, "one edu only");
	} else if (!strcmp(mode, "pass")) {
		case_run("ok", case_ok);
		case_run("skipped", case_skipped);
	} else if (!strcmp(mode, "skip")) {
		case_run("skipped", case_skipped);
	}
	return case_finish();
}
`;

describe('rumpxen/case.h', () => {
  it('prints one case line per case and the result line verdict.ts reads, and exits with its status', () => {
    const r = run('runner', RUNNER, ['mixed']);
    expect(r.lines).toEqual([
      'case ok: PASS',
      'case nested: FAIL helper got -3',
      'case reason: FAIL n is 41, expected 42',
      'case skipped: SKIP needs two edus',
      'case silent: FAIL ',
      'case by_hand: SKIP one edu only',
      'Test result: FAILURE',
    ]);
    expect(r.lines.slice(0, -1).map((l) => parseCaseLine(l)?.outcome)).toEqual(['PASS', 'FAIL', 'FAIL', 'SKIP', 'FAIL', 'SKIP']);
    expect(parseResultLine(r.lines.at(-1)!)).toBe('FAILURE');
    expect(r.status).toBe(XTF_EXIT_CODES.FAILURE);
  });

  it('ends with SUCCESS when a case passed and none failed, SKIP when none passed', () => {
    expect(run('runner', RUNNER, ['pass'])).toEqual({ lines: ['case ok: PASS', 'case skipped: SKIP needs two edus', 'Test result: SUCCESS'], status: XTF_EXIT_CODES.SUCCESS });
    expect(run('runner', RUNNER, ['skip'])).toEqual({ lines: ['case skipped: SKIP needs two edus', 'Test result: SKIP'], status: XTF_EXIT_CODES.SKIP });
  });

  it("names each result with verdict.ts's word and exit status", () => {
    const r = run(
      'results',
      `int main(void) {
	enum case_result all[] = { CASE_RESULT_SUCCESS, CASE_RESULT_SKIP, CASE_RESULT_ERROR, CASE_RESULT_FAILURE, CASE_RESULT_CRASH };
	int status[5];
	for (unsigned i = 0; i < 5; i++)
		status[i] = case_print_result(all[i]);
	printf("%d %d %d %d %d\\n", status[0], status[1], status[2], status[3], status[4]);
	return 0;
}
`,
    );
    const words = r.lines.slice(0, -1).map((l) => parseResultLine(l));
    expect(words).toEqual([...XTF_RESULTS]);
    expect(r.lines.at(-1)!.trim().split(' ').map(Number)).toEqual(XTF_RESULTS.map((w) => XTF_EXIT_CODES[w]));
  });

  it("serves a suite with its own runner: void cases, CHECK's failure sent where the suite says", () => {
    const src = join(dir, 'suite.c');
    writeFileSync(
      src,
      `#include <stdarg.h>
#include <stdio.h>
void suite_fail(const char *fmt, ...);
#define CASE_VSNPRINTF vsnprintf
#define CASE_PUTLINE(text) puts(text)
#define CASE_CHECK_FAIL suite_fail
#define CASE_CHECK_RETURN
#include <rumpxen/case.h>
void suite_fail(const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	case_vclaim(CASE_FAIL, fmt, ap);
	__builtin_va_end(ap);
}
static void t_first(void) { CHECK(0, "first %s", "reason"); }
static void t_second(void) { case_fail("second"); }
int main(void)
{
	const char *why;
	int failed = 0;
	case_begin();
	t_first();
	t_second();
	failed += case_end(&why) == CASE_FAIL;
	case_print("t", case_end(&why), why);
	return case_print_result(case_result_of(0, failed));
}
`,
    );
    const exe = join(dir, 'suite');
    execFileSync('gcc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-I', protocolIncludeDir, src, '-o', exe]);
    const r = spawnSync(exe, { encoding: 'utf8' });
    expect(r.stdout).toBe('case t: FAIL first reason\nTest result: FAILURE\n');
    expect(r.status).toBe(5);
  });

  it('is freestanding: a file that includes it and uses none of it compiles without libc and without a warning', () => {
    const src = join(dir, 'freestanding.c');
    writeFileSync(src, `int fmt(char *buf, __SIZE_TYPE__ size, const char *f, __builtin_va_list ap);
void line(const char *text);
#define CASE_VSNPRINTF fmt
#define CASE_PUTLINE line
#include <rumpxen/case.h>
int unrelated(void) { return 0; }
`);
    execFileSync('gcc', ['-std=gnu11', '-ffreestanding', '-nostdinc', '-Wall', '-Wextra', '-Werror', '-I', protocolIncludeDir, '-c', src, '-o', join(dir, 'freestanding.o')]);
    const noHooks = join(dir, 'nohooks.c');
    writeFileSync(noHooks, '#include <rumpxen/case.h>\n');
    const r = spawnSync('gcc', ['-I', protocolIncludeDir, '-c', noHooks, '-o', join(dir, 'nohooks.o')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/define CASE_VSNPRINTF\(buf, size, fmt, ap\) and CASE_PUTLINE\(text\)/);
  });
});
