/*
 * The project's test runner: named tests in one static table per test
 * binary, file:line and both values on failure, one test runnable by name.
 *
 * A test binary is built from the .c files of one tests/<module>/ directory
 * plus tests/runner.c. One of those files defines the table:
 *
 *     TEST(chain_hex_roundtrip) { CHECK_EQ_INT(1, 1); }
 *     const struct test_case test_table[] = {
 *         { "chain_hex_roundtrip", test_chain_hex_roundtrip },
 *         { NULL, NULL } };
 *
 * Each test runs in its own child process (a crash or a timeout fails that
 * test only). A failing CHECK prints file:line and both values and returns
 * from the test function, so CHECKs belong in functions returning void.
 * Arguments select tests by exact name or by prefix ending in '*'.
 * Environment: BASED_BIN (default "bin") is where the programs are,
 * BASED_BUILD (default "build") holds the test-only programs in tests/,
 * BASED_TEST_TIMEOUT (seconds, default 600) bounds each test.
 */
#ifndef BASED_TESTS_RUNNER_H
#define BASED_TESTS_RUNNER_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

/* Defined by each test binary, terminated by { NULL, NULL }. */
extern const struct test_case test_table[];

#define TEST(name) void test_##name(void); void test_##name(void)

/* Marks the running test failed (used by the CHECK macros). */
void test_fail_(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Per-test scratch directory (created on first use, removed afterwards). */
const char *test_tmpdir(void);
/* "BASED_BIN/<prog>" in a static buffer. */
const char *test_bin(const char *prog);
/* "BASED_BUILD/tests/<prog>" (default build/): the test-only programs. */
const char *test_prog(const char *prog);

#define CHECK(cond) do { if (!(cond)) { \
    test_fail_(__FILE__, __LINE__, "CHECK(%s) failed", #cond); return; } } while (0)

#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { test_fail_(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
        #a, #b, a_, b_); return; } } while (0)

#define CHECK_EQ_U64(a, b) do { uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
    if (a_ != b_) { test_fail_(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, \
        #a, #b, a_, b_); return; } } while (0)

#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { test_fail_(__FILE__, __LINE__, \
        "%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        return; } } while (0)

#define CHECK_EQ_MEM(a, b, n) do { if (memcmp((a), (b), (n)) != 0) { \
    test_fail_(__FILE__, __LINE__, "%s == %s: %zu bytes differ", #a, #b, (size_t)(n)); \
    return; } } while (0)

#define CHECK_NEAR(a, b, tol) do { double a_ = (double)(a), b_ = (double)(b); \
    double d_ = a_ > b_ ? a_ - b_ : b_ - a_; if (!(d_ <= (double)(tol))) { \
    test_fail_(__FILE__, __LINE__, "%s ~= %s: %.9g vs %.9g (tolerance %g)", \
        #a, #b, a_, b_, (double)(tol)); return; } } while (0)

#endif
