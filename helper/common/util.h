/*
 * util.h — string helpers that do not touch libc's locale or allocator.
 *
 * Entry points may not call the printf family (it can take locks and
 * malloc), so messages are built into fixed buffers with these.
 */
#ifndef PYL_UTIL_H
#define PYL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No index: a dense id (object, type, row) that does not exist. */
#define PYL_NONE UINT32_MAX

static inline int pyl_hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Whether [p, end) starts with the NUL-terminated prefix. */
static inline bool pyl_has_prefix(const char *p, const char *end,
                                  const char *prefix) {
  while (*prefix != '\0') {
    if (p >= end || *p != *prefix) {
      return false;
    }
    p++;
    prefix++;
  }
  return true;
}

size_t pyl_strlen(const char *s);

/* What follows the last '.' of s (s itself when it has none). */
const char *pyl_last_component(const char *s);
int pyl_strcmp(const char *a, const char *b);
bool pyl_streq(const char *a, const char *b);

/* A bounded text buffer: appends truncate, the text stays NUL-terminated. */
struct pyl_sbuf {
  char *p;
  size_t len;
  size_t cap; /* including the NUL */
};

void pyl_sbuf_init(struct pyl_sbuf *b, char *mem, size_t cap);
void pyl_sbuf_str(struct pyl_sbuf *b, const char *s);
void pyl_sbuf_dec(struct pyl_sbuf *b, uint64_t v);
void pyl_sbuf_hex(struct pyl_sbuf *b, uint64_t v); /* 0x... */

/* Nanoseconds of CLOCK_MONOTONIC (0 if the clock fails). */
uint64_t pyl_now_ns(void);

#endif /* PYL_UTIL_H */
