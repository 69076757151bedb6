/*
 * The driver shared by the host fuzz harnesses (test/blk/blkring-fuzz.c,
 * test/net/netring-fuzz.c). A harness defines FUZZ_NAME ("blkring-fuzz", the prefix of
 * every line it prints) and FUZZ_MAX_INPUT (the largest generated input, in bytes), includes
 * this header, and defines fuzz_one_input and fuzz_selftest.
 *
 * Built with -DFUZZ_LIBFUZZER the program is a libFuzzer target; otherwise it is a plain
 * program: `NAME --selftest` runs the known answers, `NAME N` runs N inputs of
 * 1..FUZZ_MAX_INPUT bytes from a fixed-seed xorshift generator and prints
 * `NAME: N inputs, no finding`. A disagreement aborts with a message (FAIL, REQUIRE).
 */
#ifndef RUMPXEN_TEST_FUZZ_H
#define RUMPXEN_TEST_FUZZ_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)
#define REQUIRE(c, ...) do { if (!(c)) FAIL(__VA_ARGS__); } while (0)

/* One input: checks every verdict it leads to, aborting through FAIL on a disagreement. */
static void fuzz_one_input(const uint8_t *data, size_t size);
/* Known answers: returns only if all hold. */
static __attribute__((unused)) void fuzz_selftest(void);

/* The unread rest of an input; reading past its end gives zeros. */
struct input {
	const uint8_t *p;
	size_t left;
};

static __attribute__((unused)) uint8_t take8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* A slice of 0-23 bytes of the input as a string (not NUL-terminated: the parsers take lengths). */
static __attribute__((unused)) const char *take_str(struct input *in, size_t *len)
{
	size_t n = take8(in) % 24;
	if (n > in->left)
		n = in->left;
	const char *s = (const char *)in->p;
	in->p += n;
	in->left -= n;
	*len = n;
	return s;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one_input(data, size);
	return 0;
}
#else
int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--selftest") == 0) {
		fuzz_selftest();
		printf(FUZZ_NAME ": selftest passed\n");
		return 0;
	}
	unsigned long runs = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	static uint8_t buf[FUZZ_MAX_INPUT];
	for (unsigned long i = 0; i < runs; i++) {
		size_t n = 1 + (size_t)(x % sizeof(buf));
		for (size_t k = 0; k < n; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[k] = (uint8_t)(x >> 24);
		}
		fuzz_one_input(buf, n);
	}
	printf(FUZZ_NAME ": %lu inputs, no finding\n", runs);
	return 0;
}
#endif

#endif
