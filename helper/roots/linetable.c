/* linetable.c — the three line table formats of CPython 3.8-3.13. */
#include "linetable.h"

#include <stdbool.h>

enum {
  PYL_NO_LINE_310 = -128, /* 3.10 line delta meaning "no line" */
  PYL_LOC_NONE = 15,      /* 3.11+ entry codes */
  PYL_LOC_LONG = 14,
  PYL_LOC_NO_COLUMN = 13,
  PYL_LOC_ONE_LINE_0 = 10,
  PYL_LOC_ONE_LINE_2 = 12,
  PYL_LOC_ENTRY_BIT = 0x80,
  PYL_VARINT_MORE = 0x40,
  PYL_VARINT_BITS = 0x3f,
  PYL_VARINT_SHIFT = 6,
  PYL_VARINT_MAX_SHIFT = 60,
};

/* A byte of the table as the signed char CPython reads. */
static int s8(uint8_t v) { return v >= 0x80 ? (int)v - 0x100 : (int)v; }

/* 3.8/3.9 PyCode_Addr2Line: add line deltas until the address passes. */
static int64_t line_lnotab(const uint8_t *t, size_t len, int64_t line,
                           int64_t offset) {
  int64_t addr = 0;
  for (size_t i = 0; i + 1 < len; i += 2) {
    addr += t[i];
    if (addr > offset) {
      break;
    }
    line += s8(t[i + 1]);
  }
  return line;
}

/* 3.10 _PyCode_CheckLineNumber: every pair closes one address range. */
static int64_t line_linetable(const uint8_t *t, size_t len, int64_t line,
                              int64_t offset) {
  int64_t end = 0;
  for (size_t i = 0; i + 1 < len; i += 2) {
    int64_t start = end;
    int delta = s8(t[i + 1]);
    end += t[i];
    int64_t this_line = -1;
    if (delta != PYL_NO_LINE_310) {
      line += delta;
      this_line = line;
    }
    if (start <= offset && offset < end) {
      return this_line;
    }
  }
  return -1;
}

struct reader {
  const uint8_t *t;
  size_t len;
  size_t pos;
  bool bad;
};

static unsigned read_byte(struct reader *r) {
  if (r->pos >= r->len) {
    r->bad = true;
    return 0;
  }
  return r->t[r->pos++];
}

static uint64_t read_varint(struct reader *r) {
  unsigned b = read_byte(r);
  uint64_t v = b & PYL_VARINT_BITS;
  unsigned shift = 0;
  while ((b & PYL_VARINT_MORE) != 0 && !r->bad) {
    b = read_byte(r);
    shift += PYL_VARINT_SHIFT;
    if (shift <= PYL_VARINT_MAX_SHIFT) {
      v |= (uint64_t)(b & PYL_VARINT_BITS) << shift;
    }
  }
  return v;
}

static int64_t read_svarint(struct reader *r) {
  uint64_t v = read_varint(r);
  return (v & 1) != 0 ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
}

/* Apply one entry's line delta and skip its column payload.  Returns
 * false for an entry that has no location. */
static bool location_entry(struct reader *r, unsigned code, int64_t *line) {
  if (code == PYL_LOC_NONE) {
    return false;
  }
  if (code == PYL_LOC_LONG) {
    *line += read_svarint(r);
    (void)read_varint(r); /* end line delta */
    (void)read_varint(r); /* column + 1 */
    (void)read_varint(r); /* end column + 1 */
  } else if (code == PYL_LOC_NO_COLUMN) {
    *line += read_svarint(r);
  } else if (code >= PYL_LOC_ONE_LINE_0 && code <= PYL_LOC_ONE_LINE_2) {
    *line += code - PYL_LOC_ONE_LINE_0;
    (void)read_byte(r); /* column */
    (void)read_byte(r); /* end column */
  } else {
    (void)read_byte(r); /* short form: the column in code and this byte */
  }
  return true;
}

/* 3.11+ (Objects/locations.md): find the entry covering the offset. */
static int64_t line_locations(const uint8_t *t, size_t len, int64_t line,
                              int64_t offset) {
  struct reader r = {.t = t, .len = len};
  int64_t addr = 0;
  while (r.pos < len) {
    unsigned first = read_byte(&r);
    if ((first & PYL_LOC_ENTRY_BIT) == 0) {
      return -1; /* not at an entry: a corrupt table */
    }
    unsigned code = (first >> 3) & 15;
    int64_t end = addr + (first & 7) + 1;
    bool has_line = location_entry(&r, code, &line);
    if (r.bad) {
      return -1;
    }
    if (addr <= offset && offset < end) {
      return has_line ? line : -1;
    }
    addr = end;
  }
  return -1;
}

int64_t pyl_line_for(enum pyl_linetable_format format, const uint8_t *table,
                     size_t len, int64_t firstlineno, int64_t offset) {
  if (offset < 0) {
    return firstlineno;
  }
  switch (format) {
  case PYL_LINES_LNOTAB:
    return line_lnotab(table, len, firstlineno, offset);
  case PYL_LINES_LINETABLE:
    return line_linetable(table, len, firstlineno, offset);
  case PYL_LINES_LOCATIONS:
    return line_locations(table, len, firstlineno, offset);
  }
  return -1;
}
