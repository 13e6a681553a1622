/*
 * check.h — a tiny test harness: ASSERT-style macros and a test table.
 *
 * Each test runs in a child process (a crash fails that test only).
 */
#ifndef PYL_CHECK_H
#define PYL_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define PYL_FAIL(...)                                                          \
  do {                                                                         \
    fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                            \
    fprintf(stderr, __VA_ARGS__);                                              \
    fputc('\n', stderr);                                                       \
    exit(1);                                                                   \
  } while (0)

#define ASSERT_TRUE(x)                                                         \
  do {                                                                         \
    if (!(x)) {                                                                \
      PYL_FAIL("expected true: %s", #x);                                       \
    }                                                                          \
  } while (0)

#define ASSERT_FALSE(x)                                                        \
  do {                                                                         \
    if (x) {                                                                   \
      PYL_FAIL("expected false: %s", #x);                                      \
    }                                                                          \
  } while (0)

#define ASSERT_EQ(a, b)                                                        \
  do {                                                                         \
    unsigned long long va_ = (unsigned long long)(a);                          \
    unsigned long long vb_ = (unsigned long long)(b);                          \
    if (va_ != vb_) {                                                          \
      PYL_FAIL("%s == %s: %llu != %llu", #a, #b, va_, vb_);                    \
    }                                                                          \
  } while (0)

#define ASSERT_NE(a, b)                                                        \
  do {                                                                         \
    unsigned long long va_ = (unsigned long long)(a);                          \
    unsigned long long vb_ = (unsigned long long)(b);                          \
    if (va_ == vb_) {                                                          \
      PYL_FAIL("%s != %s: both %llu", #a, #b, va_);                            \
    }                                                                          \
  } while (0)

#define ASSERT_STREQ(a, b)                                                     \
  do {                                                                         \
    const char *sa_ = (a);                                                     \
    const char *sb_ = (b);                                                     \
    if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) {                 \
      PYL_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, sa_ ? sa_ : "(null)",     \
               sb_ ? sb_ : "(null)");                                          \
    }                                                                          \
  } while (0)

/* Whether AddressSanitizer owns malloc and the address space. */
#if defined(__SANITIZE_ADDRESS__)
#define PYL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PYL_TEST_ASAN 1
#endif
#endif
#ifndef PYL_TEST_ASAN
#define PYL_TEST_ASAN 0
#endif

struct pyl_test {
  const char *name;
  void (*fn)(void);
};

/* Each test file defines its table; unit.c lists the tables. */
#define PYL_TESTS_END                                                          \
  { NULL, NULL }

/* A deterministic generator for synthetic data. */
static inline unsigned long long pyl_test_rand(unsigned long long *state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return *state >> 17;
}

#endif /* PYL_CHECK_H */
