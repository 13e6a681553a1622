/* find_state.c — causes read from the state of the heap as a whole:
 * cyclic garbage the collector is not running to free, objects parked in
 * gc.garbage, the last uncaught exception kept in sys, and objects held
 * by references no Python object explains (a C extension's missing
 * Py_DECREF). */
#include "analysis.h"

#include "peek.h"
#include "pydict.h"
#include "roots.h"

/* The most frequent type id of a set of objects: counted in a table by
 * type id (types are thousands, objects millions). */
struct by_type {
  uint32_t *count;
  uint32_t n_types;
};

static bool by_type_new(struct pyl_an *a, struct by_type *t) {
  t->n_types = a->c->v.types.n;
  t->count = pyl_q_scratch(a->call, t->n_types, sizeof(uint32_t));
  if (t->count != NULL) {
    __builtin_memset(t->count, 0, (size_t)t->n_types * sizeof(uint32_t));
  }
  return t->count != NULL;
}

static uint32_t most_common(const struct by_type *t) {
  uint32_t best = PYL_NONE;
  for (uint32_t k = 0; k < t->n_types; k++) {
    best =
        t->count[k] != 0 && (best == PYL_NONE || t->count[k] > t->count[best])
            ? k
            : best;
  }
  return best;
}

/* Reached from no root, yet alive: only reference cycles hold them, and
 * they stay while the collector does not run. */
bool pyl_find_unreachable(struct pyl_an *a) {
  struct pyl_ctx *c = a->c;
  const struct pyl_analysis_info *info = a->info;
  if (info->gc_enabled != 0 || info->garbage_gc_objects < PYL_AN_MIN_GARBAGE) {
    return true;
  }
  struct by_type t;
  if (!by_type_new(a, &t)) {
    return false;
  }
  for (uint32_t i = 0; i < c->h.n_gc_tracked; i++) {
    if (a->dom->idom[i] == PYL_NONE) {
      t.count[c->h.tab.type[i]]++;
    }
  }
  struct pyl_analysis_row *row = pyl_an_finding(
      a, PYL_FIND_CYCLIC_GARBAGE, PYL_NONE, info->garbage_gc_objects,
      info->garbage_bytes, most_common(&t));
  for (uint32_t i = 0; i < c->h.n_gc_tracked && row != NULL &&
                       row->n_members < PYL_AN_MAX_MEMBERS;
       i++) {
    if (a->dom->idom[i] == PYL_NONE) {
      pyl_an_member(a, row, i);
    }
  }
  return !pyl_q_stopped(a->call);
}

/* Kinds whose C-held objects are the interpreter's business (type
 * objects, interned names, modules), not a leak. */
static bool interpreter_owned(enum pyl_kind k) {
  return k == PYL_KIND_TYPE || k == PYL_KIND_STR || k == PYL_KIND_MODULE ||
         k == PYL_KIND_FUNCTION || k == PYL_KIND_FRAME;
}

bool pyl_find_held_by_c(struct pyl_an *a) {
  struct pyl_ctx *c = a->c;
  const struct pyl_roots *r = &c->roots;
  struct by_type t;
  if (!by_type_new(a, &t)) {
    return false;
  }
  for (uint32_t k = 0; k < r->n; k++) {
    if (r->rows[k].kind == PYL_ROOT_C) {
      t.count[c->h.tab.type[r->rows[k].obj]]++;
    }
  }
  enum { MAX_TYPES = 3 };
  for (unsigned found = 0; found < MAX_TYPES; found++) {
    uint32_t ty = most_common(&t);
    if (ty == PYL_NONE || t.count[ty] < PYL_AN_MIN_UNEXPLAINED) {
      break;
    }
    uint32_t n = t.count[ty];
    t.count[ty] = 0;
    if (interpreter_owned((enum pyl_kind)a->kinds.kind[ty])) {
      found--;
      continue;
    }
    uint64_t bytes = 0;
    for (uint32_t k = 0; k < r->n; k++) {
      uint32_t x = r->rows[k].obj;
      if (r->rows[k].kind == PYL_ROOT_C && c->h.tab.type[x] == ty) {
        bytes += a->dom->retained[x];
      }
    }
    struct pyl_analysis_row *row =
        pyl_an_finding(a, PYL_FIND_UNEXPLAINED, PYL_NONE, n, bytes, ty);
    for (uint32_t k = 0; k < r->n && row != NULL; k++) {
      uint32_t x = r->rows[k].obj;
      if (r->rows[k].kind == PYL_ROOT_C && c->h.tab.type[x] == ty) {
        pyl_an_member(a, row, x);
      }
    }
  }
  return true;
}

static bool ends_with(const char *s, const char *end) {
  size_t n = pyl_strlen(s);
  size_t m = pyl_strlen(end);
  return n >= m && pyl_streq(s + n - m, end);
}

/* gc.garbage: what the collector found but could not free (or was told
 * to keep, DEBUG_SAVEALL). */
static void uncollectable(struct pyl_an *a) {
  struct pyl_ctx *c = a->c;
  const struct pyl_roots *r = &c->roots;
  for (uint32_t k = 0; k < r->n; k++) {
    uint32_t x = r->rows[k].obj;
    if (r->rows[k].kind != PYL_ROOT_INTERPRETER ||
        !ends_with(pyl_root_desc(r, &r->rows[k]), "gc.garbage") ||
        pyl_an_kind(a, x) != PYL_KIND_LIST) {
      continue;
    }
    int64_t len = pyl_container_len(&c->v, PYL_KIND_LIST, c->h.tab.addr[x]);
    if (len <= 0) {
      continue;
    }
    struct pyl_analysis_row *row = pyl_an_finding(
        a, PYL_FIND_UNCOLLECTABLE, PYL_NONE, (uint64_t)len,
        a->dom->idom[x] != PYL_NONE ? a->dom->retained[x] : 0, PYL_NONE);
    for (uint32_t e = c->h.csr.offs[x]; e < c->h.csr.offs[x + 1]; e++) {
      pyl_an_member(a, row, c->h.csr.edges[e]);
      if (row != NULL && row->n_members == 1) {
        row->subject_off =
            c->v.types.rec[c->h.tab.type[c->h.csr.edges[e]]].name_off;
      }
    }
  }
}

/* sys.last_value / last_exc / last_traceback: the interactive
 * interpreter's last uncaught exception, kept with all its frames. */
static void last_exception(struct pyl_an *a) {
  struct pyl_ctx *c = a->c;
  const struct pyl_roots *r = &c->roots;
  const char *names[] = {"last_exc", "last_value", "last_traceback"};
  for (uint32_t k = 0; k < r->n; k++) {
    if (r->rows[k].kind != PYL_ROOT_MODULE ||
        !pyl_streq(pyl_root_desc(r, &r->rows[k]), "module sys")) {
      continue;
    }
    uint64_t dict = pyl_peek(&c->v, c->h.tab.addr[r->rows[k].obj] +
                                        c->v.L->module_dict_off);
    /* The exception and its traceback are held by sys each: what they
     * keep is the sum of what each retains (a frame the traceback holds
     * is not the exception's alone). */
    uint32_t found[3];
    uint32_t n = 0;
    uint64_t bytes = 0;
    for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
      uint32_t x = pyl_an_find(a, pyl_dict_get_str(&c->v, dict, names[j]));
      bool again = false;
      for (uint32_t m = 0; m < n; m++) {
        again = again || found[m] == x;
      }
      if (x != PYL_NONE && !again && c->h.tab.addr[x] != c->v.L->none_object) {
        found[n++] = x;
        bytes += a->dom->idom[x] != PYL_NONE ? a->dom->retained[x] : 0;
      }
    }
    if (n != 0) {
      pyl_an_finding(a, PYL_FIND_RETAINED_TRACEBACK, found[0], 1, bytes,
                     c->h.tab.type[found[0]]);
    }
    return;
  }
}

bool pyl_find_in_state(struct pyl_an *a) {
  uncollectable(a);
  last_exception(a);
  return !pyl_q_stopped(a->call);
}
