/*
 * linetable.h — the source line of an instruction, from a code object's
 * line table, in each format CPython 3.8-3.13 uses.
 *
 * Pure functions over the table's bytes (no target memory), so they are
 * unit-tested on synthetic tables.  Each mirrors the interpreter's own
 * PyCode_Addr2Line of that version:
 *
 *   3.8/3.9  co_lnotab: (address delta u8, line delta s8) pairs; the
 *            offset is in bytes (f_lasti).
 *   3.10     co_linetable: (address delta u8, line delta s8) pairs, each
 *            closing the range [start, start + delta); a line delta of
 *            -128 means "no line"; the offset is in bytes (2 * f_lasti).
 *   3.11+    PEP 657 location table: entries of (code, length in code
 *            units) with varint payloads; the offset is in code units.
 */
#ifndef PYL_LINETABLE_H
#define PYL_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

enum pyl_linetable_format {
  PYL_LINES_LNOTAB = 1,    /* 3.8, 3.9 */
  PYL_LINES_LINETABLE = 2, /* 3.10 */
  PYL_LINES_LOCATIONS = 3, /* 3.11+ */
};

/* The line of the instruction at `offset` (bytes for LNOTAB and
 * LINETABLE, code units for LOCATIONS); -1 when the table says the
 * instruction has no line or does not cover it.  A negative offset (a
 * frame that has not started) gives firstlineno, as in CPython. */
int64_t pyl_line_for(enum pyl_linetable_format format, const uint8_t *table,
                     size_t len, int64_t firstlineno, int64_t offset);

#endif /* PYL_LINETABLE_H */
