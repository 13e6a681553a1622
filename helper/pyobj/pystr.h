/*
 * pystr.h — reading CPython str objects (PEP 393 layouts).
 *
 * Compact ASCII (data after PyASCIIObject), compact UCS1/2/4 (data after
 * PyCompactUnicodeObject) and legacy non-compact strings (data pointer at
 * unicode_data_off; str subclass instances and, before 3.12, strings made
 * by the old API).  The state bit positions come from the layout.
 */
#ifndef PYL_PYSTR_H
#define PYL_PYSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pyl_view;

struct pyl_str {
  uint64_t length; /* code points */
  uint64_t data;   /* address of the characters, 0 if none */
  unsigned kind;   /* 1, 2 or 4 bytes per code point */
  bool compact;
  bool ascii;
};

/* Decode the header of the str at addr (its type already known to be
 * str or a subclass).  False if unreadable or inconsistent. */
bool pyl_str_header(struct pyl_view *c, uint64_t addr, struct pyl_str *out);

/* Whether addr is an object whose type is str or a subclass of it. */
bool pyl_is_str(struct pyl_view *c, uint64_t addr);

/* UTF-8 of the str into buf (NUL-terminated, at most cap-1 bytes; longer
 * strings are cut at a character boundary).  A NUL code point (a name
 * can hold one: setattr(cls, '__qualname__', 'a\0b')) is written as the
 * four characters \x00, so that the text is never silently cut there.
 * False if unreadable. */
bool pyl_str_utf8(struct pyl_view *c, uint64_t addr, char *buf, size_t cap);

/* The same with NUL code points as NUL bytes, for callers that escape
 * the text themselves; *len is its length in bytes. */
bool pyl_str_utf8_raw(struct pyl_view *c, uint64_t addr, char *buf, size_t cap,
                      size_t *len);

/* Whether the str equals the ASCII C string s. */
bool pyl_str_equals(struct pyl_view *c, uint64_t addr, const char *s);

/* Bytes the str owns besides tp_basicsize-independent parts: see
 * docs/sizes.md.  `basicsize` is the instance's tp_basicsize. */
uint64_t pyl_str_size(struct pyl_view *c, uint64_t addr, uint64_t basicsize);

#endif /* PYL_PYSTR_H */
