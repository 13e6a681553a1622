/*
 * roots_types.c — what type objects hold that no traversal shows.
 *
 * Static types are not GC objects: nothing traverses their tp_dict,
 * tp_mro, tp_bases, tp_cache or tp_subclasses, so those objects would
 * look held by C code.  They are interpreter state: roots named after the
 * type ("interpreter type dict of 'int'").  From 3.12 a static builtin
 * type keeps tp_dict and tp_subclasses per interpreter, in the arrays of
 * interp->types (index tp_subclasses - 1).  Heap types are traversed, but
 * type_traverse skips tp_subclasses (a dict of weak references).
 *
 * Every type is found from `object` down the tp_subclasses registries
 * (PyType_Ready registers each type with its bases).
 */
#include "addrset.h"
#include "pydict.h"
#include "roots_build.h"

#define PYL_TPF_STATIC_BUILTIN (1ull << 1) /* 3.12+ */

enum {
  PYL_SEEN_INITIAL = 1 << 12, /* slots of the first set */
  PYL_SEEN_DONE = 1,          /* mark of a type that was done */
  PYL_MAX_STATE_INDEX = 1 << 16,
};

struct types_walk {
  struct pyl_build *b;
  struct pyl_addrset set; /* in a_tmp */
};

static void set_add(struct types_walk *w, uint64_t addr) {
  if (pyl_addrset_add(&w->set, addr) < 0) {
    pyl_rb_nomem(w->b);
  }
}

/* --- reading types -------------------------------------------------------- */

static bool is_type(struct pyl_build *b, uint64_t addr) {
  const struct pyl_layout *L = b->c->L;
  uint64_t meta = pyl_peek(b->c, addr + L->ob_type_off);
  uint64_t flags = meta != 0 ? pyl_peek(b->c, meta + L->tp_flags_off) : 0;
  return addr != 0 && (flags & PYL_TPF_TYPE_SUBCLASS) != 0 &&
         pyl_mem_ptr(&b->c->mem, addr, b->c->type_extent) != NULL;
}

/* The per-interpreter state of a static builtin type (3.12+), or 0. */
static uint64_t builtin_state(struct pyl_build *b, uint64_t type) {
  const struct pyl_layout *L = b->c->L;
  uint64_t idx = pyl_peek(b->c, type + L->type_subclasses_off) - 1;
  const uint64_t arrays[][2] = {
      {L->interp_static_types_offset, L->interp_static_types_n},
      {L->interp_ext_types_offset, L->interp_ext_types_n}};
  for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++) {
    if (arrays[k][0] == 0 || idx >= arrays[k][1]) {
      continue;
    }
    uint64_t st = b->interp + arrays[k][0] + idx * L->static_state_size;
    if (pyl_peek(b->c, st + L->static_state_type_off) == type) {
      return st;
    }
  }
  return 0;
}

static void type_root(struct pyl_build *b, uint64_t type, uint64_t value,
                      const char *before, const char *after) {
  char desc[PYL_DESC_MAX];
  struct pyl_sbuf s;
  pyl_sbuf_init(&s, desc, sizeof(desc));
  pyl_rb_interp_prefix(b, &s);
  pyl_sbuf_str(&s, before);
  pyl_rb_type_name(b, type, &s);
  pyl_sbuf_str(&s, after);
  pyl_rb_root(b, value, PYL_ROOT_INTERPRETER, desc, true);
}

static int add_subclass(uint64_t key, uint64_t value, void *arg) {
  (void)key;
  struct types_walk *w = arg;
  struct pyl_build *b = w->b;
  /* values are weak references; a dead one points to None */
  uint64_t sub = pyl_peek(b->c, value + b->c->L->weakref_object_off);
  if (sub % 8 == 0 && is_type(b, sub)) {
    set_add(w, sub);
  }
  return b->status != PYL_OK;
}

/* One type: roots for what it holds outside traversal, and its
 * subclasses into the set. */
static void do_type(struct types_walk *w, uint64_t type) {
  struct pyl_build *b = w->b;
  const struct pyl_layout *L = b->c->L;
  uint64_t flags = pyl_peek(b->c, type + L->tp_flags_off);
  uint64_t subclasses = 0;
  if (pyl_layout_minor(L) >= 12 && (flags & PYL_TPF_STATIC_BUILTIN) != 0) {
    /* tp_dict and tp_subclasses: counted per interpreter by
     * static_states() */
    uint64_t st = builtin_state(b, type);
    subclasses =
        st != 0 ? pyl_peek(b->c, st + L->static_state_subclasses_off) : 0;
  } else {
    subclasses = pyl_peek(b->c, type + L->type_subclasses_off);
    type_root(b, type, subclasses, "type '", "' __subclasses__() registry");
    if ((flags & PYL_TPF_HEAPTYPE) == 0) {
      type_root(b, type, pyl_peek(b->c, type + L->tp_dict_off),
                "type dict of '", "'");
    }
  }
  if ((flags & PYL_TPF_HEAPTYPE) != 0) {
    /* type_traverse skips __slots__ (a tuple of names) */
    type_root(b, type, pyl_peek(b->c, type + L->ht_slots_off), "type '",
              "' __slots__");
  } else {
    type_root(b, type, pyl_peek(b->c, type + L->type_mro_off), "type '",
              "' __mro__");
    type_root(b, type, pyl_peek(b->c, type + L->type_bases_off), "type '",
              "' __bases__");
    type_root(b, type, pyl_peek(b->c, type + L->type_cache_off), "type '",
              "' tp_cache");
  }
  if (subclasses != 0 &&
      pyl_peek(b->c, subclasses + L->ob_type_off) == L->dict_type &&
      !pyl_dict_foreach(b->c, subclasses, add_subclass, w)) {
    b->r->incomplete = true;
  }
}

/* Every type reachable from `object`: passes over the set until no type
 * is left undone (a pass restarts when the set grew). */
static void walk_types(struct pyl_build *b) {
  struct types_walk w = {.b = b};
  pyl_arena_reset(&b->r->a_tmp);
  if (!pyl_addrset_init(&w.set, &b->r->a_tmp, PYL_SEEN_INITIAL)) {
    pyl_rb_nomem(b);
    return;
  }
  set_add(&w, b->c->L->object_type);
  bool again = true;
  while (again && b->status == PYL_OK) {
    again = false;
    w.set.grew = false;
    for (uint64_t i = 0; i < w.set.cap && b->status == PYL_OK; i++) {
      uint64_t v = w.set.slots[i];
      if (v == 0 || (v & PYL_SEEN_DONE) != 0) {
        continue;
      }
      w.set.slots[i] = v | PYL_SEEN_DONE;
      do_type(&w, v);
      again = true;
      if (w.set.grew) {
        break; /* the slots moved */
      }
    }
  }
  pyl_arena_reset(&b->r->a_tmp);
}

/* 3.12+: the per-interpreter tp_dict and tp_subclasses of every static
 * builtin type (and 3.13 static extension type). */
static void static_states(struct pyl_build *b) {
  const struct pyl_layout *L = b->c->L;
  const uint64_t arrays[][2] = {
      {L->interp_static_types_offset, L->interp_static_types_n},
      {L->interp_ext_types_offset, L->interp_ext_types_n}};
  for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++) {
    uint64_t n = arrays[k][0] != 0 ? arrays[k][1] : 0;
    for (uint64_t i = 0; i < n && i < PYL_MAX_STATE_INDEX; i++) {
      uint64_t st = b->interp + arrays[k][0] + i * L->static_state_size;
      uint64_t type = pyl_peek(b->c, st + L->static_state_type_off);
      if (type == 0) {
        continue;
      }
      type_root(b, type, pyl_peek(b->c, st + L->static_state_dict_off),
                "type dict of '", "'");
      type_root(b, type, pyl_peek(b->c, st + L->static_state_subclasses_off),
                "type '", "' __subclasses__() registry");
    }
  }
}

void pyl_roots_types(struct pyl_build *b) {
  if (pyl_layout_minor(b->c->L) >= 12 && b->c->L->static_state_size != 0) {
    static_states(b);
  }
  /* Type objects themselves are shared by all interpreters. */
  if (b->interp_no == 0) {
    walk_types(b);
  }
}
