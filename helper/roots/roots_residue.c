/*
 * roots_residue.c — references that no object explains.
 *
 * For a GC object, tp_traverse of every GC container visits every
 * reference it holds to GC objects, so ob_refcnt minus the references
 * found (in-degree over the edges, plus the strong references of the
 * roots that are not edges) is what something outside the object graph
 * holds: C code (an extension's globals or state, a C stack, a leaked
 * Py_INCREF).  The cycle collector computes the same gc_refs.
 *
 * Besides the roots, some objects hold references that are not edges
 * because their holder is not traversed; those are counted here:
 *   - a non-GC instance's reference to its heap type (nothing
 *     traverses the instance);
 *   - code objects are not GC objects: their co_consts, co_names and name
 *     tuples (for the code objects in the table here, for those only a
 *     frame holds in roots.c);
 *   - 3.8's _abc_data objects (not GC) and their three sets.
 * Known sources of residue left (reported as held by C code): values on
 * the value stack of a running frame beyond what roots.c could match,
 * C-level temporaries of the stopped threads, references held by other
 * non-GC objects the helper does not decode, and module state kept in C
 * globals.  Immortal objects (3.12+) and 3.11's statically allocated
 * objects are skipped.
 */
#include "referents.h"
#include "roots_build.h"

enum {
  PYL_AHEAD = 16, /* objects prefetched ahead of the residue pass */
  PYL_DESC_CACHE = 64,
  PYL_IMMORTAL_311 = 999999999,
};

/* ob_refcnt minus what was found; 0 for an immortal object. */
static int64_t residue_of(struct pyl_heap *h, const uint32_t *explained,
                          uint32_t obj);

/* Every instance of a heap type holds a reference to it; nothing visits
 * those of non-GC instances, except a container's traverse that visits
 * them on their behalf (3.11's lru_cache visits its links' type): so at
 * most what the refcount leaves unexplained. */
void pyl_roots_instances(struct pyl_build *b) {
  struct pyl_view *c = b->c;
  for (uint32_t t = 0; t < c->types.n; t++) {
    const struct pyl_type *ty = &c->types.rec[t];
    if ((ty->flags & PYL_TPF_HEAPTYPE) == 0 || ty->count == 0 ||
        ty->traverse != 0) {
      continue;
    }
    uint32_t i = pyl_rb_find(b, ty->addr);
    int64_t left = i != PYL_NONE ? residue_of(b->h, b->r->explained, i) : 0;
    if (left > 0) {
      b->r->explained[i] +=
          (uint32_t)((uint64_t)left < ty->count ? (uint64_t)left : ty->count);
    }
  }
}

static uint32_t code_type_id(struct pyl_view *c) {
  for (uint32_t t = 0; t < c->types.n; t++) {
    const struct pyl_type *ty = &c->types.rec[t];
    if (ty->addr == c->L->code_type) {
      /* a GC code type (a future version) traverses them itself */
      return ty->traverse == 0 ? t : PYL_NONE;
    }
  }
  return PYL_NONE;
}

/* The tuples of names a code object holds. */
static void code_names(struct pyl_build *b, uint64_t code) {
  const struct pyl_layout *L = b->c->L;
  const uint64_t fields[] = {L->code_names_off, L->code_varnames_off,
                             L->code_cellvars_off, L->code_freevars_off,
                             L->code_localsplusnames_off};
  for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
    if (fields[k] != 0) {
      pyl_rb_count(b, pyl_peek(b->c, code + fields[k]));
    }
  }
}

/* A constant held by something the walk did not traverse: count it, and
 * when it is not in the table either (an untracked tuple, a nested code
 * object), it must be opened too. */
static bool hidden_container(struct pyl_build *b, uint64_t obj) {
  const struct pyl_layout *L = b->c->L;
  uint32_t i = pyl_rb_find(b, obj);
  if (i != PYL_NONE) {
    b->r->explained[i]++;
    return false;
  }
  uint64_t type = obj != 0 ? pyl_peek(b->c, obj + L->ob_type_off) : 0;
  if (type != L->tuple_type && type != L->code_type) {
    return false;
  }
  int added = pyl_addrset_add(&b->hidden, obj);
  if (added < 0) {
    pyl_rb_nomem(b);
  }
  return added > 0;
}

/* A code object holds its names and co_consts.  When co_consts is not in
 * the table (a tuple of atomic constants and code objects is untracked by
 * the collector, and code objects are not traversed), no edge shows the
 * constants: each is counted here, opening nested tuples and code
 * objects the same way. */
void pyl_rb_code_refs(struct pyl_build *b, uint64_t code) {
  enum { STACK = 256, MAX_STEPS = 1 << 20, MAX_ITEMS = 1 << 20 };
  const struct pyl_layout *L = b->c->L;
  uint64_t stack[STACK];
  uint32_t n = 0;
  if (pyl_rb_find(b, code) == PYL_NONE &&
      pyl_addrset_add(&b->hidden, code) == 0) {
    return; /* a code object outside the table, opened already */
  }
  stack[n++] = code;
  for (uint32_t steps = 0; n > 0 && steps < MAX_STEPS; steps++) {
    uint64_t x = stack[--n];
    uint64_t type = pyl_peek(b->c, x + L->ob_type_off);
    uint64_t items = x + L->tuple_ob_item_off;
    int64_t count = 0;
    if (type == L->code_type) {
      code_names(b, x);
      items = x + L->code_consts_off;
      count = 1;
    } else if (!pyl_read_i64(&b->c->mem, x + L->ob_size_off, &count) ||
               count < 0 || count > MAX_ITEMS) {
      continue;
    }
    for (int64_t i = 0; i < count; i++) {
      uint64_t item = pyl_peek(b->c, items + (uint64_t)i * 8);
      if (hidden_container(b, item)) {
        if (n == STACK) {
          b->r->incomplete = true;
          return;
        }
        stack[n++] = item;
      }
    }
  }
}

static void code_objects(struct pyl_build *b) {
  struct pyl_view *c = b->c;
  struct pyl_heap *h = b->h;
  uint32_t id = code_type_id(c);
  for (uint32_t i = 0; id != PYL_NONE && i < h->tab.n; i++) {
    if (h->tab.type[i] == id) {
      pyl_rb_code_refs(b, h->tab.addr[i]);
    }
  }
}

/* 3.8's _abc._abc_data (every ABC has one) is not a GC type: the three
 * sets of weak references it holds are not edges. */
static void abc_data(struct pyl_build *b) {
  struct pyl_view *c = b->c;
  struct pyl_heap *h = b->h;
  const struct pyl_layout *L = c->L;
  uint32_t id = PYL_NONE;
  for (uint32_t t = 0; t < c->types.n && L->abc_data_type_addr != 0; t++) {
    if (c->types.rec[t].addr == L->abc_data_type_addr &&
        c->types.rec[t].traverse == 0) {
      id = t;
    }
  }
  const uint64_t fields[] = {L->abc_registry_off, L->abc_cache_off,
                             L->abc_negative_cache_off};
  for (uint32_t i = 0; id != PYL_NONE && i < h->tab.n; i++) {
    for (size_t k = 0; h->tab.type[i] == id && k < 3; k++) {
      pyl_rb_count(b, pyl_peek(b->c, h->tab.addr[i] + fields[k]));
    }
  }
}

void pyl_roots_holders(struct pyl_build *b) {
  code_objects(b);
  abc_data(b);
}

static int64_t residue_of(struct pyl_heap *h, const uint32_t *explained,
                          uint32_t obj) {
  struct pyl_view *c = h->v;
  int64_t refcnt = 0;
  if (!pyl_read_i64(&c->mem, h->tab.addr[obj] + c->L->ob_refcnt_off, &refcnt)) {
    return 0;
  }
  unsigned minor = pyl_layout_minor(c->L);
  /* 3.12+: immortal objects have the high bit of the low 32 bits set.
   * 3.11: statically allocated objects (deep-frozen code constants,
   * singletons) start at _PyObject_IMMORTAL_REFCNT and are never freed. */
  if ((minor >= 12 && (int32_t)(uint32_t)refcnt < 0) ||
      (minor == 11 && refcnt >= PYL_IMMORTAL_311)) {
    return 0;
  }
  return refcnt - (int64_t)explained[obj];
}

int64_t pyl_rb_residue(struct pyl_build *b, uint32_t obj) {
  struct pyl_view *c = b->c;
  struct pyl_heap *h = b->h;
  const struct pyl_type *ty = &c->types.rec[h->tab.type[obj]];
  if (!pyl_object_is_gc(ty, h->tab.addr[obj])) {
    return 0;
  }
  return residue_of(b->h, b->r->explained, obj);
}

int64_t pyl_roots_unexplained(struct pyl_heap *h, const struct pyl_roots *r,
                              uint32_t obj) {
  if (!r->built || obj >= h->tab.n) {
    return 0;
  }
  return residue_of(h, r->explained, obj);
}

/* "held by C code (N references unexplained)", shared by every root with
 * the same small N. */
static uint32_t c_desc(struct pyl_build *b, uint64_t n, uint32_t *cache) {
  if (n < PYL_DESC_CACHE && cache[n] != UINT32_MAX) {
    return cache[n];
  }
  char desc[PYL_DESC_MAX];
  struct pyl_sbuf s;
  pyl_sbuf_init(&s, desc, sizeof(desc));
  pyl_sbuf_str(&s, "held by C code (");
  pyl_sbuf_dec(&s, n);
  pyl_sbuf_str(&s,
               n == 1 ? " reference unexplained)" : " references unexplained)");
  uint32_t off = pyl_rb_string(b, desc);
  if (n < PYL_DESC_CACHE) {
    cache[n] = off;
  }
  return off;
}

void pyl_roots_residue(struct pyl_build *b) {
  struct pyl_view *c = b->c;
  struct pyl_heap *h = b->h;
  uint32_t cache[PYL_DESC_CACHE];
  for (unsigned i = 0; i < PYL_DESC_CACHE; i++) {
    cache[i] = UINT32_MAX;
  }
  uint32_t n = h->tab.n;
  for (uint32_t i = 0; i < n && b->status == PYL_OK; i++) {
    if (i + PYL_AHEAD < n) {
      __builtin_prefetch(pyl_host_ptr(h->tab.addr[i + PYL_AHEAD]));
    }
    const struct pyl_type *ty = &c->types.rec[h->tab.type[i]];
    if (!pyl_object_is_gc(ty, h->tab.addr[i])) {
      continue;
    }
    int64_t r = residue_of(h, b->r->explained, i);
    if (r < 0) {
      b->r->n_overexplained++;
    } else if (r > 0) {
      uint32_t u = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
      pyl_rb_add(b, i, PYL_ROOT_C, c_desc(b, (uint64_t)r, cache), u);
    }
  }
}
