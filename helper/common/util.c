/* util.c — allocation-free string helpers, and the clock. */
#define _GNU_SOURCE
#include "util.h"

#include <time.h>

uint64_t pyl_now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    return 0;
  }
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t pyl_strlen(const char *s) {
  size_t n = 0;
  while (s[n] != '\0') {
    n++;
  }
  return n;
}

const char *pyl_last_component(const char *s) {
  const char *last = s;
  for (const char *p = s; *p != '\0'; p++) {
    if (*p == '.') {
      last = p + 1;
    }
  }
  return last;
}

int pyl_strcmp(const char *a, const char *b) {
  const unsigned char *x = (const unsigned char *)a;
  const unsigned char *y = (const unsigned char *)b;
  while (*x != '\0' && *x == *y) {
    x++;
    y++;
  }
  return (int)*x - (int)*y;
}

bool pyl_streq(const char *a, const char *b) { return pyl_strcmp(a, b) == 0; }

void pyl_sbuf_init(struct pyl_sbuf *b, char *mem, size_t cap) {
  b->p = mem;
  b->len = 0;
  b->cap = cap;
  if (cap > 0) {
    mem[0] = '\0';
  }
}

static void sbuf_char(struct pyl_sbuf *b, char c) {
  if (b->len + 1 < b->cap) {
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
  }
}

void pyl_sbuf_str(struct pyl_sbuf *b, const char *s) {
  while (*s != '\0') {
    sbuf_char(b, *s++);
  }
}

void pyl_sbuf_dec(struct pyl_sbuf *b, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) {
    sbuf_char(b, tmp[--n]);
  }
}

void pyl_sbuf_hex(struct pyl_sbuf *b, uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = digits[v & 0xf];
    v >>= 4;
  } while (v != 0);
  sbuf_char(b, '0');
  sbuf_char(b, 'x');
  while (n > 0) {
    sbuf_char(b, tmp[--n]);
  }
}
