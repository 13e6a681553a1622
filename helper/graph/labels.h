/*
 * labels.h — how one object refers to another, said the way a Python
 * programmer would write it: `.attr`, `['key']`, `key of ['key']`, `[3]`,
 * `.__defaults__`, `local 'x'`, `.__mro__`, `member of set`, ...
 *
 * The referrer's type decides: every reference a decoder can name becomes
 * a "fact" (referent address, how to say it); a reference of the graph
 * then takes the label of a fact with its address.  Facts come from the
 * referrer's builtin base type (dict, list, tuple, set, deque, function,
 * method, cell, type, module, frame, generator, traceback, exception,
 * lru_cache wrapper, ...), its instance attributes (the __dict__ pointer,
 * 3.11 managed values, 3.12 tagged dict-or-values, 3.13 inline values,
 * with names from the class's shared keys), its __slots__ and other
 * PyMemberDef members along the tp_base chain, and its class.  A
 * reference nothing explains is `referent #k` (k = its position in the
 * tp_traverse order).
 *
 * Only a few references are labelled per query, so these decode from
 * scratch every time; every pass is linear in the referrer's size.  Facts live
 * in the context's scratch arena above its current top, which is given back.
 */
#ifndef PYL_LABELS_H
#define PYL_LABELS_H

#include <stdbool.h>
#include <stdint.h>

struct pyl_heap;
struct pyl_sbuf;

/* The label of the reference from object src to object dst (table
 * indices) into b.  prev is the object before src in a chain, or
 * PYL_NONE: a function before its closure tuple names the cells. */
void pyl_label_edge(struct pyl_heap *h, uint32_t src, uint32_t dst,
                    uint32_t prev, struct pyl_sbuf *b);

/* A chain hop owner -> part -> dst said as one reference, when part is
 * something owner owns and a programmer reaches through it by name: a
 * module's, class's or instance's __dict__ (`.name`), a function's
 * __defaults__ / __kwdefaults__ / __closure__ (`__defaults__[0]`,
 * `__kwdefaults__['x']`, `__closure__ 'name'`), a class's __mro__ /
 * __bases__, an exception's args, a 3.8-3.10 generator's frame
 * (`gi_frame local 'x'`).  False (b untouched) otherwise. */
bool pyl_label_through(struct pyl_heap *h, uint32_t owner, uint32_t part,
                       uint32_t dst, struct pyl_sbuf *b);

/* Whether part is owner's __dict__ (an instance's, a module's or a
 * class's): its entries read as owner's attributes (`.name`). */
bool pyl_label_is_namespace(struct pyl_heap *h, uint32_t owner, uint32_t part);

/* Called for each reference of src labelled, dst its referent (a table
 * index). */
typedef void (*pyl_label_fn)(uint32_t dst, const char *label, void *arg);

/* The labels of the first max references of src (0: all) in reading
 * order, each reference once (a list holding x twice gives [i] and [j]):
 * a list's items by index (tp_traverse visits them backwards), a dict's
 * in entry order, then attributes and the class; references nothing
 * explains last (`referent #k`, k their position in the graph).  Time
 * linear in src's references and facts, whatever max; only the labels
 * given are rendered.  PYL_OK, PYL_ENOMEM (out of helper memory) or
 * PYL_EABORTED (pyl_control_tick() said stop). */
int pyl_label_all(struct pyl_heap *h, uint32_t src, uint64_t max,
                  pyl_label_fn fn, void *arg);

#endif /* PYL_LABELS_H */
