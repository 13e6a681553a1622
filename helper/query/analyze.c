/* analyze.c — pyl_analyze: the dominator tree, the biggest holders, the
 * retained bytes per type, the big containers and the named causes. */
#include "analysis.h"

#include "control.h"
#include "peek.h"
#include "roots.h"
#include "sort.h"

enum {
  PYL_DOM_PER_OBJ = 32, /* reservation for the dominator tree, per object */
  PYL_DOM_FLOOR = 1 << 20,
  /* A holder is a suspect when it retains this share of the reachable
   * bytes (1/20) and at least PYL_AN_MIN_SUSPECT bytes. */
  PYL_AN_SUSPECT_DIV = 20,
  PYL_AN_MIN_SUSPECT = 256 * 1024,
  /* Descend to a child that retains at least 4/5 of its parent: where
   * the bytes accumulate, not the module that happens to hold it. */
  PYL_AN_ACCUMULATE_NUM = 4,
  PYL_AN_ACCUMULATE_DEN = 5,
};

/* ---- rows ---- */

struct pyl_analysis_row *pyl_an_row(struct pyl_an *a, uint64_t section,
                                    uint32_t i) {
  if (a->n_rows >= a->max_rows) {
    return NULL;
  }
  struct pyl_analysis_row *row = &a->rows[a->n_rows++];
  __builtin_memset(row, 0, sizeof(*row));
  row->section = section;
  row->name_off = a->qs.empty;
  row->subject_off = a->qs.empty;
  if (i != PYL_NONE) {
    struct pyl_q_obj o = pyl_q_obj(a->c, i);
    row->address = o.address;
    row->type_addr = o.type_addr;
    row->size = o.size;
    row->name_off = o.name_off;
  }
  return row;
}

struct pyl_analysis_row *pyl_an_finding(struct pyl_an *a, uint64_t kind,
                                        uint32_t i, uint64_t count,
                                        uint64_t bytes, uint32_t subject) {
  struct pyl_analysis_row *row = pyl_an_row(a, PYL_SECTION_FINDING, i);
  if (row == NULL) {
    return NULL;
  }
  row->kind = kind;
  row->count = count;
  row->bytes = bytes;
  row->first_member = a->n_members;
  if (subject != PYL_NONE) {
    row->subject_off = a->c->v.types.rec[subject].name_off;
  }
  return row;
}

void pyl_an_member(struct pyl_an *a, struct pyl_analysis_row *row, uint32_t i) {
  if (row == NULL || row->n_members >= PYL_AN_MAX_MEMBERS ||
      a->n_members >= a->max_members) {
    return;
  }
  a->members[a->n_members++] = a->c->h.tab.addr[i];
  row->n_members++;
}

/* ---- the dominator tree, once per graph ---- */

static void need_dominators(struct pyl_an *a) {
  struct pyl_call *call = a->call;
  struct pyl_ctx *c = a->c;
  if (call->status != PYL_OK) {
    return;
  }
  if (c->have_dom) {
    a->info->dom_reused = 1;
    return;
  }
  uint64_t t = pyl_now_ns();
  if (c->a_dom.base == NULL &&
      !pyl_arena_reserve(&c->a_dom, (size_t)c->h.tab.max_objs * PYL_DOM_PER_OBJ,
                         PYL_DOM_FLOOR)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for dominators");
    return;
  }
  pyl_arena_reset(&c->a_dom);
  const struct pyl_roots *r = &c->roots;
  uint32_t *src = pyl_q_scratch(call, r->n, sizeof(uint32_t));
  if (src == NULL) {
    return;
  }
  for (uint32_t k = 0; k < r->n; k++) {
    src[k] = r->rows[k].obj;
  }
  struct pyl_graph g = pyl_q_graph(c);
  if (!pyl_dom_build(&c->dom, &g, src, r->n, c->h.size, &c->a_dom)) {
    if (!pyl_q_stopped(call)) {
      pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for dominators");
    }
    return;
  }
  c->have_dom = true;
  a->info->dom_ns = pyl_now_ns() - t;
}

/* ---- the dominator tree's children, for walks from the top ---- */

struct kids {
  uint32_t *offs; /* children of v: kid[offs[v]..offs[v+1]); v = n: top */
  uint32_t *kid;
};

static bool build_kids(struct pyl_an *a, struct kids *k) {
  const struct pyl_dom *d = a->dom;
  uint32_t n = d->n;
  k->offs = pyl_q_scratch(a->call, (size_t)n + 2, sizeof(uint32_t));
  k->kid = pyl_q_scratch(a->call, n, sizeof(uint32_t));
  if (k->offs == NULL || k->kid == NULL) {
    return false;
  }
  __builtin_memset(k->offs, 0, ((size_t)n + 2) * sizeof(uint32_t));
  for (uint32_t v = 0; v < n; v++) {
    uint32_t p = d->idom[v];
    if (p != PYL_NONE) {
      k->offs[(p == PYL_DOM_SUPER ? n : p) + 1]++;
    }
  }
  for (uint32_t v = 0; v <= n; v++) {
    k->offs[v + 1] += k->offs[v];
  }
  /* offs[p] is p's next free place while filling; shifted back after. */
  for (uint32_t v = 0; v < n; v++) {
    uint32_t p = d->idom[v];
    if (p != PYL_NONE) {
      p = p == PYL_DOM_SUPER ? n : p;
      k->kid[k->offs[p]++] = v;
    }
  }
  for (uint32_t v = n + 1; v-- > 1;) {
    k->offs[v] = k->offs[v - 1];
  }
  k->offs[0] = 0;
  return !pyl_q_stopped(a->call);
}

/* ---- retained bytes per census row ---- */

#define PYL_AN_EXIT (1u << 31)

/* The objects of a row retain together what their topmost members of the
 * dominator tree retain: a depth-first walk of the tree counts, per row,
 * how many of its objects are open on the path, and adds an object only
 * when none is. */
static bool type_rows(struct pyl_an *a, const struct kids *k, uint32_t *stack) {
  struct pyl_ctx *c = a->c;
  const struct pyl_dom *d = a->dom;
  uint32_t n = d->n;
  uint32_t n_rows = c->v.names.n_rows;
  uint32_t *open = pyl_q_scratch(a->call, n_rows, sizeof(uint32_t));
  uint64_t *ret = pyl_q_scratch(a->call, n_rows, sizeof(uint64_t));
  if (open == NULL || ret == NULL) {
    return false;
  }
  __builtin_memset(open, 0, (size_t)n_rows * sizeof(uint32_t));
  __builtin_memset(ret, 0, (size_t)n_rows * sizeof(uint64_t));
  uint32_t sp = 0;
  for (uint32_t j = k->offs[n]; j < k->offs[n + 1]; j++) {
    stack[sp++] = k->kid[j];
  }
  uint64_t steps = 0;
  while (sp > 0) {
    if ((++steps & 0xffff) == 0 && pyl_q_stopped(a->call)) {
      return false;
    }
    uint32_t e = stack[--sp];
    uint32_t v = e & ~PYL_AN_EXIT;
    uint32_t row = c->v.types.rec[c->h.tab.type[v]].row;
    if ((e & PYL_AN_EXIT) != 0) {
      open[row]--;
      continue;
    }
    if (open[row]++ == 0) {
      ret[row] += d->retained[v];
    }
    stack[sp++] = v | PYL_AN_EXIT;
    for (uint32_t j = k->offs[v]; j < k->offs[v + 1]; j++) {
      stack[sp++] = k->kid[j];
    }
  }
  for (uint32_t r = 0; r < n_rows; r++) {
    const struct pyl_name_row *nr = &c->v.names.rows[r];
    if (nr->count == 0) {
      continue;
    }
    struct pyl_analysis_row *row = pyl_an_row(a, PYL_SECTION_TYPE, PYL_NONE);
    if (row == NULL) {
      break;
    }
    row->name_off = nr->name_off;
    row->type_addr = nr->type_addr;
    row->count = nr->count;
    row->bytes = ret[r];
  }
  return true;
}

/* ---- the biggest holders ---- */

/* Where v's bytes accumulate: down the child that retains most while it
 * retains nearly all of its parent. */
static uint32_t accumulation_point(const struct pyl_dom *d, uint32_t v) {
  for (;;) {
    uint32_t b = d->big_child[v];
    if (b == PYL_NONE || d->retained[b] * PYL_AN_ACCUMULATE_DEN <
                             d->retained[v] * PYL_AN_ACCUMULATE_NUM) {
      return v;
    }
    v = b;
  }
}

/* The type most of v's children's retained bytes are, and how many of
 * v's children have it. */
static void subject_of(struct pyl_an *a, const struct kids *k, uint32_t v,
                       uint64_t *by, struct pyl_analysis_row *row) {
  struct pyl_ctx *c = a->c;
  const struct pyl_dom *d = a->dom;
  /* A holder can have millions of children: sum by type id in a table
   * sized by the types (by: bytes, then counts). */
  uint32_t nt = c->v.types.n;
  uint64_t *cnt = by + nt + 1;
  __builtin_memset(by, 0, ((size_t)nt + 1) * 2 * sizeof(uint64_t));
  uint32_t best = PYL_NONE;
  for (uint32_t j = k->offs[v]; j < k->offs[v + 1]; j++) {
    uint32_t x = k->kid[j];
    uint32_t t = c->h.tab.type[x];
    by[t] += d->retained[x];
    cnt[t]++;
    best = best == PYL_NONE || by[t] > by[best] ? t : best;
  }
  if (best != PYL_NONE) {
    row->subject_off = c->v.types.rec[best].name_off;
    row->count = cnt[best];
  }
}

/* A module or a class, or the __dict__ of one (a module's dict is also
 * every function's __globals__, so no one object dominates it): what
 * its names refer to are the holders. */
static bool namespace(const struct pyl_an *a, uint32_t v) {
  enum pyl_kind kind = pyl_an_kind(a, v);
  if (kind == PYL_KIND_MODULE || kind == PYL_KIND_TYPE) {
    return true;
  }
  uint32_t owner = pyl_q_namespace_owner(a->c, v);
  if (owner == PYL_NONE) {
    return false;
  }
  enum pyl_kind ok = pyl_an_kind(a, owner);
  return ok == PYL_KIND_MODULE || ok == PYL_KIND_TYPE;
}

static bool suspects(struct pyl_an *a, const struct kids *k, uint32_t max,
                     uint32_t *work) {
  const struct pyl_dom *d = a->dom;
  uint32_t n = d->n;
  uint64_t min = d->super_retained / PYL_AN_SUSPECT_DIV;
  min = min < PYL_AN_MIN_SUSPECT ? PYL_AN_MIN_SUSPECT : min;
  uint32_t *queue = work;
  uint32_t *found = work + n;
  uint64_t *by = pyl_q_scratch(a->call, 2 * ((size_t)a->c->v.types.n + 1),
                               sizeof(uint64_t));
  if (by == NULL) {
    return false;
  }
  uint32_t head = 0;
  uint32_t tail = 0;
  uint32_t n_found = 0;
  for (uint32_t j = k->offs[n]; j < k->offs[n + 1]; j++) {
    if (d->retained[k->kid[j]] >= min) {
      queue[tail++] = k->kid[j];
    }
  }
  while (head < tail) {
    uint32_t v = accumulation_point(d, queue[head++]);
    uint64_t nested = 0;
    for (uint32_t j = k->offs[v]; j < k->offs[v + 1]; j++) {
      uint32_t x = k->kid[j];
      if (d->retained[x] >= min) {
        queue[tail++] = x;
        nested += d->retained[x];
      }
    }
    /* A holder whose bytes are mostly in holders below it is said by
     * them; a namespace (a module, its or a class's __dict__) holds what
     * its names hold, which are suspects of their own. */
    if (d->retained[v] - nested >= min && !namespace(a, v)) {
      found[n_found++] = v;
    }
  }
  /* Biggest first: a selection sort over the few found. */
  for (uint32_t s = 0; s < n_found && s < max; s++) {
    uint32_t b = s;
    for (uint32_t j = s + 1; j < n_found; j++) {
      b = d->retained[found[j]] > d->retained[found[b]] ? j : b;
    }
    uint32_t v = found[b];
    found[b] = found[s];
    found[s] = v;
    struct pyl_analysis_row *row = pyl_an_row(a, PYL_SECTION_SUSPECT, v);
    if (row == NULL) {
      break;
    }
    row->bytes = d->retained[v];
    int64_t len =
        pyl_container_len(&a->c->v, pyl_an_kind(a, v), a->c->h.tab.addr[v]);
    row->length = len > 0 ? (uint64_t)len : 0;
    subject_of(a, k, v, by, row);
  }
  return true;
}

/* ---- big containers, remembered between looks ---- */

/* Containers of at least `floor` items, longest first, at most max: a
 * histogram of lengths by power of two finds the floor that keeps the
 * kept ones few, so memory stays bounded whatever the heap. */
struct by_len {
  const uint64_t *len;
};

static int longer(uint32_t x, uint32_t y, const void *arg) {
  const struct by_len *o = arg;
  return o->len[x] != o->len[y] ? (o->len[x] > o->len[y] ? -1 : 1)
                                : (x < y ? -1 : x > y);
}

static int64_t length_of(struct pyl_an *a, uint32_t i) {
  enum pyl_kind kind = pyl_an_kind(a, i);
  return pyl_kind_is_container(kind)
             ? pyl_container_len(&a->c->v, kind, a->c->h.tab.addr[i])
             : -1;
}

static uint64_t length_floor(struct pyl_an *a, uint32_t max) {
  uint64_t hist[64] = {0};
  for (uint32_t i = 0; i < a->c->h.tab.n; i++) {
    int64_t l = length_of(a, i);
    if (l >= PYL_AN_MIN_CONTAINER_ITEMS) {
      hist[63 - __builtin_clzll((uint64_t)l)]++;
    }
  }
  uint64_t kept = 0;
  for (unsigned b = 64; b-- > 0;) {
    if (kept + hist[b] > max) {
      return 2ull << b;
    }
    kept += hist[b];
  }
  return PYL_AN_MIN_CONTAINER_ITEMS;
}

static bool containers(struct pyl_an *a, uint32_t max) {
  if (max == 0) {
    return true;
  }
  uint64_t floor = length_floor(a, max);
  if (pyl_q_stopped(a->call)) {
    return false;
  }
  uint32_t *idx = pyl_q_scratch(a->call, max, sizeof(uint32_t));
  uint32_t *tmp = pyl_q_scratch(a->call, max, sizeof(uint32_t));
  uint64_t *len = pyl_q_scratch(a->call, max, sizeof(uint64_t));
  uint32_t *obj = pyl_q_scratch(a->call, max, sizeof(uint32_t));
  if (idx == NULL || tmp == NULL || len == NULL || obj == NULL) {
    return false;
  }
  uint32_t m = 0;
  for (uint32_t i = 0; i < a->c->h.tab.n && m < max; i++) {
    int64_t l = length_of(a, i);
    if (l >= 0 && (uint64_t)l >= floor) {
      idx[m] = m;
      obj[m] = i;
      len[m++] = (uint64_t)l;
    }
  }
  struct by_len o = {.len = len};
  pyl_sort_u32(idx, tmp, m, longer, &o);
  for (uint32_t j = 0; j < m; j++) {
    uint32_t v = obj[idx[j]];
    struct pyl_analysis_row *row = pyl_an_row(a, PYL_SECTION_CONTAINER, v);
    if (row == NULL) {
      break;
    }
    row->length = len[idx[j]];
    row->bytes = a->dom->retained[v];
  }
  return !pyl_q_stopped(a->call);
}

/* ---- the entry point ---- */

/* Whether the collector counts object i (on a GC list) among what it
 * frees: it untracks a tuple or dict that refers to no GC object before
 * it looks for garbage, and counts it no more (it is freed all the same,
 * by reference counting). */
static bool collected(const struct pyl_an *a, uint32_t i) {
  enum pyl_kind kind = pyl_an_kind(a, i);
  if ((kind != PYL_KIND_TUPLE && kind != PYL_KIND_DICT) ||
      (pyl_an_flags(a, i) & PYL_KF_BUILTIN) == 0) {
    return true;
  }
  const struct pyl_csr *g = &a->c->h.csr;
  for (uint32_t e = g->offs[i]; e < g->offs[i + 1]; e++) {
    if (g->edges[e] < a->c->h.n_gc_tracked) {
      return true;
    }
  }
  return false;
}

static void garbage_totals(struct pyl_an *a) {
  struct pyl_ctx *c = a->c;
  const struct pyl_dom *d = a->dom;
  struct pyl_analysis_info *info = a->info;
  info->reachable_objects = d->n_reached;
  info->reachable_bytes = d->super_retained;
  info->garbage_objects = d->n - d->n_reached;
  info->garbage_bytes = c->h.total_bytes > d->super_retained
                            ? c->h.total_bytes - d->super_retained
                            : 0;
  for (uint32_t i = 0; i < c->h.n_gc_tracked && i < d->n; i++) {
    info->garbage_gc_objects += d->idom[i] == PYL_NONE && collected(a, i);
  }
  info->gc_enabled = pyl_q_gc_enabled(c);
}

static bool analyse(struct pyl_an *a, uint32_t max_suspects,
                    uint32_t max_containers) {
  struct kids k;
  /* One buffer of 2n: the depth-first stack of type_rows (at most every
   * object and every exit mark), then the queue and the holders found of
   * suspects. */
  uint32_t *work =
      pyl_q_scratch(a->call, 2 * (size_t)a->dom->n + 2, sizeof(uint32_t));
  if (work == NULL || !build_kids(a, &k) || !type_rows(a, &k, work) ||
      !suspects(a, &k, max_suspects, work) || !containers(a, max_containers)) {
    return false;
  }
  garbage_totals(a);
  bool (*const detectors[])(struct pyl_an *) = {
      pyl_find_in_containers, pyl_find_defaults,  pyl_find_lru,
      pyl_find_unreachable,   pyl_find_held_by_c, pyl_find_in_state,
  };
  for (size_t j = 0; j < sizeof(detectors) / sizeof(detectors[0]); j++) {
    if (!detectors[j](a)) {
      return false;
    }
  }
  return true;
}

static void analyze(struct pyl_call *call, uint64_t max_suspects,
                    uint64_t max_containers) {
  struct pyl_ctx *c = call->c;
  struct pyl_an a = {.call = call, .c = c};
  struct pyl_target_info ti = {0};
  a.info = pyl_q_scratch(call, 1, sizeof(*a.info));
  if (a.info == NULL) {
    return;
  }
  __builtin_memset(a.info, 0, sizeof(*a.info));
  pyl_q_need_rev(call, &ti);
  pyl_q_need_roots(call, &ti);
  a.info->rev_ns = ti.rev_ns;
  a.info->roots_ns = ti.roots_ns;
  need_dominators(&a);
  if (call->status != PYL_OK) {
    return;
  }
  a.dom = &c->dom;
  uint64_t t = pyl_now_ns();
  pyl_qstr_begin(call, &a.qs);
  max_suspects = max_suspects > 1000 ? 1000 : max_suspects;
  max_containers = max_containers > 100000 ? 100000 : max_containers;
  a.max_rows = (uint32_t)(max_suspects + max_containers) + c->v.names.n_rows +
               PYL_AN_MAX_FINDINGS;
  a.max_members = PYL_AN_MAX_FINDINGS * PYL_AN_MAX_MEMBERS;
  a.rows = pyl_q_scratch(call, a.max_rows, sizeof(*a.rows));
  a.members = pyl_q_scratch(call, a.max_members, sizeof(uint64_t));
  a.mark = pyl_bitmap_new(&c->v.scratch, c->h.tab.n);
  if (a.rows == NULL || a.members == NULL || a.mark == NULL ||
      !pyl_kinds_build(&a.kinds, &c->v, &c->v.scratch)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the analysis");
    return;
  }
  if (!analyse(&a, (uint32_t)max_suspects, (uint32_t)max_containers)) {
    if (call->status == PYL_OK) {
      pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the analysis");
    }
    return;
  }
  a.info->find_ns = pyl_now_ns() - t;
  pyl_qstr_end(call, &a.qs);
  struct pyl_result *r = call->res;
  r->n_rows = r->n_rows_total = a.n_rows;
  r->rows_addr = (uint64_t)(uintptr_t)a.rows;
  r->row_size = sizeof(*a.rows);
  r->aux_rows_addr = (uint64_t)(uintptr_t)a.members;
  r->aux_row_size = sizeof(uint64_t);
  r->n_aux_rows = a.n_members;
  r->info_addr = (uint64_t)(uintptr_t)a.info;
  r->info_size = sizeof(*a.info);
}

PYL_EXPORT uint64_t pyl_analyze(uint64_t max_suspects, uint64_t max_containers,
                                uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags);
  analyze(&call, max_suspects, max_containers);
  return pyl_call_end(&call, PYL_RESULT_ANALYSIS);
}
