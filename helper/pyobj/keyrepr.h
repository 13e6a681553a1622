/*
 * keyrepr.h — short reprs read from memory, for labels: a dict key as
 * Python would print it when it is made of str, int, bool, None, bytes
 * or a tuple of those ('name', 42, (1, 'a')), and attribute or variable
 * names.  No Python code runs: anything else is <type object at 0x...>.
 */
#ifndef PYL_KEYREPR_H
#define PYL_KEYREPR_H

#include <stdbool.h>
#include <stdint.h>

struct pyl_view;
struct pyl_sbuf;

/* 'name', 42, None, True, b'x', (1, 'a'), <class 'Foo'>, else
 * <type object at 0x...>; a long str is cut with "...". */
void pyl_key_repr(struct pyl_view *c, uint64_t addr, struct pyl_sbuf *b);

/* The text of the str at addr (a name), or "?". */
void pyl_put_name(struct pyl_view *c, uint64_t addr, struct pyl_sbuf *b);

/* The value of the int (or int subclass) at addr when it fits in 63
 * bits, read from its digits; false otherwise. */
bool pyl_int_value(struct pyl_view *c, uint64_t addr, int64_t *out);

#endif /* PYL_KEYREPR_H */
