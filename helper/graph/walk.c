/* walk.c — GC list seeding and the batched traversal loop. */
#include "walk.h"

#include "control.h"
#include "heap.h"
#include "referents.h"
#include "sizes.h"
#include "validate.h"

enum {
  PYL_BATCH = 256, /* referents resolved together */
  PYL_AHEAD = 8,   /* objects prefetched ahead of the traversal */
  PYL_HEADER = 16, /* ob_refcnt + ob_type */
  PYL_GC_MASK = 3, /* flag bits in _gc_next/_gc_prev */
  PYL_NO_SLOT = 0, /* seeds have no edge; slots are stored + 1 */
};

struct ref {
  uint64_t addr;
  uint64_t hash;
  uint64_t slot; /* edge slot + 1, or PYL_NO_SLOT for a seed */
  uint64_t src;  /* referrer address (for warnings), or GC list number */
};

struct walk {
  struct pyl_heap *h;
  struct pyl_view *c; /* h->v */
  struct pyl_sbuf *msg;
  struct ref *buf; /* referents pushed, not probed yet */
  uint32_t n;
  uint64_t src_addr;
  int status;
  bool check_prev; /* false while a collection keeps gc_refs in _gc_prev */
  /* Objects counted but not to be traversed, in increasing index order
   * (discovery order is table order), so the traversal consumes them
   * with one compare per object.  Grows in the work arena after buf. */
  uint32_t *skip;
  uint64_t skip_at; /* byte offset of skip[] in the work arena */
  uint32_t n_skip;
  uint32_t next_skip;
};

static void fail(struct walk *w, int status, const char *why) {
  if (w->status == PYL_OK) {
    w->status = status;
    pyl_sbuf_str(w->msg, why);
  }
}

static void out_of_memory(struct walk *w) {
  fail(w, PYL_ENOMEM, "out of helper memory after ");
  if (w->status == PYL_ENOMEM) {
    pyl_sbuf_dec(w->msg, w->h->tab.n);
    pyl_sbuf_str(w->msg, " objects");
  }
}

static void aborted(struct walk *w) {
  fail(w, PYL_EABORTED, pyl_control_why());
}

static void drop(struct walk *w, const struct ref *r, const char *why) {
  struct pyl_sbuf b;
  if (r->slot != PYL_NO_SLOT) {
    pyl_csr_set(&w->h->csr, r->slot - 1, PYL_NONE);
  }
  if (!pyl_warn(w->c, &b)) {
    return;
  }
  pyl_sbuf_str(&b, why);
  pyl_sbuf_str(&b, " ");
  pyl_sbuf_hex(&b, r->addr);
  if (r->slot != PYL_NO_SLOT) {
    pyl_sbuf_str(&b, " referenced by object ");
    pyl_sbuf_hex(&b, r->src);
  } else {
    pyl_sbuf_str(&b, " on GC list ");
    pyl_sbuf_dec(&b, r->src);
  }
}

static void implausible_refcnt(struct walk *w, uint64_t addr, int64_t refcnt) {
  struct pyl_sbuf b;
  if (!pyl_warn(w->c, &b)) {
    return;
  }
  pyl_sbuf_str(&b, "object ");
  pyl_sbuf_hex(&b, addr);
  pyl_sbuf_str(&b, " has an implausible refcount (");
  if (refcnt < 0) {
    pyl_sbuf_str(&b, "-");
  }
  pyl_sbuf_dec(&b, refcnt < 0 ? -(uint64_t)refcnt : (uint64_t)refcnt);
  pyl_sbuf_str(&b, ")");
}

static void skipped(struct walk *w, uint64_t addr, const char *why) {
  struct pyl_sbuf b;
  if (!pyl_warn(w->c, &b)) {
    return;
  }
  pyl_sbuf_str(&b, "skipped object ");
  pyl_sbuf_hex(&b, addr);
  pyl_sbuf_str(&b, " (");
  pyl_sbuf_str(&b, why);
  pyl_sbuf_str(&b, ")");
}

/* Count the object but never traverse it. */
static void skip(struct walk *w, uint32_t idx, uint64_t addr, const char *why) {
  struct pyl_arena *a = &w->h->work;
  uint64_t end = w->skip_at + ((uint64_t)w->n_skip + 1) * sizeof(uint32_t);
  if (end > a->committed && !pyl_arena_commit(a, end)) {
    fail(w, PYL_ECORRUPT, "too many corrupt objects to skip (");
    if (w->status == PYL_ECORRUPT) {
      pyl_sbuf_dec(w->msg, w->n_skip);
      pyl_sbuf_str(w->msg, "): is this a CPython heap?");
    }
    return;
  }
  w->skip[w->n_skip++] = idx;
  skipped(w, addr, why);
}

/* A referent not in the table (its probe stopped at stop): validate it,
 * add it, size it. */
static void discover(struct walk *w, const struct ref *r,
                     const uint64_t *stop) {
  struct pyl_view *c = w->c;
  struct pyl_heap *h = w->h;
  const void *p = NULL;
  if (r->addr % 8 == 0) {
    p = pyl_mem_ptr(&c->mem, r->addr, PYL_HEADER);
  }
  if (p == NULL) {
    drop(w, r, "skipped unreadable pointer");
    return;
  }
  uint32_t tid =
      pyl_types_resolve(c, &c->types, pyl_ld_u64(p, c->L->ob_type_off));
  if (tid == PYL_NONE) {
    drop(w, r, "skipped object with an implausible type at");
    return;
  }
  struct pyl_type *ty = &c->types.rec[tid];
  /* tp_traverse and the size rules read the whole fixed part. */
  const void *body = pyl_mem_ptr(&c->mem, r->addr, ty->basicsize);
  if (body == NULL) {
    drop(w, r, "skipped object cut off by unmapped memory at");
    return;
  }
  const char *bad = pyl_shape_of(ty) == PYL_SHAPE_OTHER
                        ? NULL
                        : pyl_validate(c, ty, r->addr, body);
  uint32_t idx = pyl_objtab_add_at(&h->tab, r->addr, r->hash, stop, tid);
  if (idx == PYL_NONE) {
    out_of_memory(w);
    return;
  }
  int64_t refcnt = pyl_ld_i64(body, c->L->ob_refcnt_off);
  if (!pyl_refcnt_plausible(refcnt)) {
    implausible_refcnt(w, r->addr, refcnt);
  }
  bool is_gc = pyl_object_is_gc(ty, r->addr);
  uint64_t size = bad == NULL ? pyl_object_size(c, ty, r->addr, is_gc)
                              : pyl_object_base_size(c, ty, is_gc);
  if (!pyl_heap_set_size(h, idx, size)) {
    out_of_memory(w);
    return;
  }
  if (bad != NULL) {
    skip(w, idx, r->addr, bad);
  }
  ty->count++;
  ty->bytes += size;
  h->total_bytes += size;
  h->n_gc_tracked += r->slot == PYL_NO_SLOT;
  if (r->slot != PYL_NO_SLOT) {
    pyl_csr_set(&h->csr, r->slot - 1, idx);
  }
}

/* Resolve the batch (slots and headers were prefetched by push): known
 * objects become edges, new ones are added where their probe stopped. */
static void flush(struct walk *w) {
  struct pyl_objtab *t = &w->h->tab;
  uint32_t n = w->n;
  w->n = 0;
  for (uint32_t k = 0; k < n && w->status == PYL_OK; k++) {
    const struct ref *r = &w->buf[k];
    const uint64_t *stop;
    uint32_t idx = pyl_objtab_probe(t, r->hash, &stop);
    if (idx == PYL_NONE) {
      discover(w, r, stop);
    } else if (r->slot != PYL_NO_SLOT) {
      pyl_csr_set(&w->h->csr, r->slot - 1, idx);
    }
  }
}

static void push(struct walk *w, uint64_t addr, uint64_t slot, uint64_t src) {
  struct ref *r = &w->buf[w->n++];
  r->addr = addr;
  r->hash = pyl_objtab_hash(addr);
  r->slot = slot;
  r->src = src;
  /* By the time the batch is resolved the slot has arrived, and the
   * header of a new object too (a prefetch never faults). */
  pyl_objtab_prefetch(&w->h->tab, r->hash);
  __builtin_prefetch(pyl_host_ptr(addr));
  if (w->n == PYL_BATCH) {
    flush(w);
  }
}

static int visit(void *obj, void *arg) {
  struct walk *w = arg;
  if (w->status != PYL_OK) {
    return 1;
  }
  if (obj == NULL) {
    return 0;
  }
  uint64_t slot = pyl_csr_slot(&w->h->csr);
  if (slot == UINT64_MAX) {
    out_of_memory(w);
    return 1;
  }
  push(w, (uint64_t)(uintptr_t)obj, slot + 1, w->src_addr);
  return 0;
}

/* A GC list that cannot be followed past `at` (a list head, or the
 * object whose link is bad): the objects after the break are still found
 * through the references of the others. */
static void broken_list(struct walk *w, unsigned list, const char *where,
                        uint64_t at, const char *why) {
  struct pyl_sbuf b;
  if (!pyl_warn(w->c, &b)) {
    return;
  }
  pyl_sbuf_str(&b, "GC list ");
  pyl_sbuf_dec(&b, list);
  pyl_sbuf_str(&b, " broken ");
  pyl_sbuf_str(&b, where);
  pyl_sbuf_str(&b, " ");
  pyl_sbuf_hex(&b, at);
  pyl_sbuf_str(&b, ": ");
  pyl_sbuf_str(&b, why);
}

/* Seed the table with one GC list, checking its links as we go. */
static void seed_list(struct walk *w, unsigned list) {
  struct pyl_view *c = w->c;
  struct pyl_heap *h = w->h;
  uint64_t gch = c->L->sizeof_gc_head;
  uint64_t head = pyl_layout_gc_list(c->L, list);
  const void *hp = pyl_mem_ptr(&c->mem, head, gch);
  if (hp == NULL) {
    broken_list(w, list, "at its head", head, "unreadable");
    return;
  }
  uint64_t prev = head;
  uint64_t x = pyl_ld_u64(hp, 0) & ~(uint64_t)PYL_GC_MASK;
  uint64_t steps = 0;
  while (x != head && w->status == PYL_OK) {
    if (!pyl_control_tick()) {
      aborted(w);
      return;
    }
    const void *xp = NULL;
    if (x % 8 == 0) {
      xp = pyl_mem_ptr(&c->mem, x, gch + PYL_HEADER);
    }
    if (xp == NULL) {
      if (prev == head) {
        broken_list(w, list, "at its head", head,
                    "next link points to unreadable memory");
      } else {
        broken_list(w, list, "after object", prev + gch,
                    "its next link points to unreadable memory");
      }
      return;
    }
    if (w->check_prev && (pyl_ld_u64(xp, 8) & ~(uint64_t)PYL_GC_MASK) != prev) {
      broken_list(w, list, "at object", x + gch,
                  "its prev link does not match");
      return;
    }
    if (++steps > h->tab.max_objs) {
      broken_list(w, list, "at object", x + gch,
                  "longer than any heap (a loop?)");
      return;
    }
    push(w, x + gch, PYL_NO_SLOT, list);
    prev = x;
    x = pyl_ld_u64(xp, 0) & ~(uint64_t)PYL_GC_MASK;
  }
  if (w->status == PYL_OK && w->check_prev &&
      (pyl_ld_u64(hp, 8) & ~(uint64_t)PYL_GC_MASK) != prev) {
    broken_list(w, list, "at its head", head,
                "its prev link does not match the last object");
  }
}

/* Forget what a traversal abandoned midway had visited: its edges (the
 * slots from `first` on, buffered or resolved).  Objects it discovered
 * stay: each was validated as an object by itself.  (The only other
 * target code the guard covers is tp_is_gc, in a flush: type_is_gc reads
 * its object's fixed part, known readable, so a fault never leaves a
 * flush half done.) */
static void unvisit(struct walk *w, uint64_t first) {
  while (w->n > 0 && w->buf[w->n - 1].slot > first) {
    w->n--;
  }
  w->h->csr.n_edges = first;
}

static void traverse_all(struct walk *w) {
  struct pyl_view *c = w->c;
  struct pyl_heap *h = w->h;
  struct pyl_objtab *t = &h->tab;
  for (uint32_t i = 0; w->status == PYL_OK; i++) {
    if (i == t->n) {
      flush(w);
      if (i == t->n || w->status != PYL_OK) {
        break;
      }
    }
    if (i + PYL_AHEAD < t->n) {
      __builtin_prefetch(pyl_host_ptr(t->addr[i + PYL_AHEAD]));
    }
    if (!pyl_control_tick()) {
      aborted(w);
      break;
    }
    if (w->next_skip < w->n_skip && w->skip[w->next_skip] == i) {
      w->next_skip++;
      continue;
    }
    const struct pyl_type *ty = &c->types.rec[t->type[i]];
    uint64_t obj = t->addr[i];
    if (!pyl_object_is_gc(ty, obj)) {
      continue;
    }
    if (!pyl_csr_begin(&h->csr, i)) {
      out_of_memory(w);
      break;
    }
    w->src_addr = obj;
    uint64_t first = h->csr.n_edges;
    if (!pyl_referents(c, ty, obj, visit, w)) {
      unvisit(w, first);
      skipped(w, obj, "fault in its tp_traverse");
    }
  }
}

int pyl_walk(struct pyl_heap *h, uint64_t flags, struct pyl_sbuf *msg) {
  struct pyl_view *c = h->v;
  struct walk w = {.h = h, .c = c, .msg = msg, .status = PYL_OK};
  uint32_t collecting = 0;
  if (!pyl_read_u32(&c->mem, c->L->gc_collecting_addr, &collecting)) {
    pyl_sbuf_str(msg, "layout field gc_collecting_addr is unreadable");
    return PYL_ELAYOUT;
  }
  if (collecting != 0 && (flags & PYL_CENSUS_FORCE) == 0) {
    pyl_sbuf_str(msg, "a garbage collection is in progress; its objects "
                      "are on temporary lists (force to walk anyway)");
    return PYL_EGCBUSY;
  }
  w.check_prev = collecting == 0;
  pyl_arena_reset(&h->work);
  w.buf = pyl_arena_alloc(&h->work, sizeof(struct ref) * PYL_BATCH, 64);
  if (w.buf == NULL) {
    out_of_memory(&w);
    return w.status;
  }
  w.skip_at = h->work.used;
  w.skip = (uint32_t *)(void *)(h->work.base + w.skip_at);
  for (unsigned l = 0; l < c->L->gc_list_count && w.status == PYL_OK; l++) {
    seed_list(&w, l);
  }
  /* Every seed is in the table before any referent (which could be a
   * seed, counted as found on a GC list only when found there). */
  if (w.status == PYL_OK) {
    flush(&w);
  }
  if (w.status == PYL_OK) {
    traverse_all(&w);
  }
  if (w.status == PYL_OK && !pyl_csr_finish(&h->csr, h->tab.n)) {
    out_of_memory(&w);
  }
  return w.status;
}
