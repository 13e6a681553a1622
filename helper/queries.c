/* queries.c — pyl_roots_list, pyl_chain, pyl_refs, pyl_backrefs. */
#include "chain.h"
#include "engine.h"
#include "labels.h"
#include "referents.h"
#include "rev.h"
#include "roots.h"
#include "sizes.h"
#include "sort.h"

enum {
  PYL_QSTR_PER_OBJ = 16, /* reservation for result strings, per object */
  PYL_ARENA_FLOOR = 1 << 20,
  PYL_LABEL_MAX = 256,
  PYL_TEXT_MAX = 512,
  PYL_GC_UNKNOWN = 2,
};

/* ---- the strings of a result ---- */

/* The type names area is copied first, so that a row's name_off is the
 * type record's own offset; labels and descriptions follow. */
struct qstr {
  struct pyl_arena *a;
  uint64_t empty; /* offset of "" */
  bool oom;
};

static void qstr_begin(struct pyl_call *call, struct qstr *s) {
  struct pyl_ctx *c = call->c;
  s->a = &c->qstr;
  s->oom = false;
  s->empty = 0;
  if (s->a->base == NULL &&
      !pyl_arena_reserve(s->a, (size_t)c->tab.max_objs * PYL_QSTR_PER_OBJ,
                         PYL_ARENA_FLOOR)) {
    s->oom = true;
    return;
  }
  pyl_arena_reset(s->a);
  size_t n = c->names.a_str.used;
  char *p = pyl_arena_alloc(s->a, n + 1, 1);
  if (p == NULL) {
    s->oom = true;
    return;
  }
  __builtin_memcpy(p, c->names.a_str.base, n);
  p[n] = '\0';
  s->empty = n;
}

static uint64_t qstr_add(struct qstr *s, const char *str) {
  size_t n = pyl_strlen(str);
  char *p = s->oom ? NULL : pyl_arena_alloc(s->a, n + 1, 1);
  if (p == NULL) {
    s->oom = true;
    return s->empty;
  }
  __builtin_memcpy(p, str, n + 1);
  return (uint64_t)(p - (char *)s->a->base);
}

static void qstr_end(struct pyl_call *call, struct qstr *s) {
  if (s->oom) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the strings");
    return;
  }
  call->res->strings_addr = (uint64_t)(uintptr_t)s->a->base;
  call->res->strings_size = s->a->used;
}

/* ---- shared steps ---- */

static void *scratch(struct pyl_call *call, size_t n, size_t size) {
  void *p = pyl_arena_alloc(&call->c->scratch, (n + 1) * size, 64);
  if (p == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
  }
  return p;
}

static uint32_t find_object(struct pyl_call *call, uint64_t addr) {
  uint32_t i = pyl_objtab_find(&call->c->tab, addr);
  if (i == PYL_NONE) {
    pyl_call_fail(call, PYL_ENOTOBJECT, "");
    pyl_sbuf_hex(&call->msg, addr);
    pyl_sbuf_str(&call->msg,
                 " is not a live Python object the walk found (freed, not "
                 "an object, or not reachable from the GC lists)");
  }
  return i;
}

/* Reverse edges, then roots (whose C-held residue needs the graph): each
 * built once per graph. */
static void need_rev(struct pyl_call *call, struct pyl_target_info *info) {
  struct pyl_ctx *c = call->c;
  if (call->status != PYL_OK) {
    return;
  }
  if (c->rev.built) {
    info->rev_reused = 1;
    return;
  }
  uint64_t t = pyl_now_ns();
  if ((c->rev.offs == NULL &&
       !pyl_rev_init(&c->rev, c->tab.max_objs, c->csr.max_edges)) ||
      !pyl_rev_build(&c->rev, &c->csr, c->tab.n)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for reverse edges");
  }
  info->rev_ns = pyl_now_ns() - t;
}

static void need_roots(struct pyl_call *call, struct pyl_target_info *info) {
  struct pyl_ctx *c = call->c;
  need_rev(call, info);
  if (call->status != PYL_OK || c->roots.built) {
    return;
  }
  uint64_t t = pyl_now_ns();
  if (c->roots.rows == NULL && !pyl_roots_init(&c->roots)) {
    pyl_call_fail(call, PYL_ENOMEM, "cannot reserve helper memory for roots");
    return;
  }
  int rc = pyl_roots_build(c, &c->roots, &call->msg);
  if (rc != PYL_OK) {
    call->status = rc;
  }
  info->roots_ns = pyl_now_ns() - t;
}

struct obj_fields {
  uint64_t address;
  uint64_t type_addr;
  uint64_t size;
  uint64_t name_off;
};

static struct obj_fields obj_fields(struct pyl_ctx *c, uint32_t i) {
  const struct pyl_type *ty = &c->types.rec[c->tab.type[i]];
  uint64_t addr = c->tab.addr[i];
  return (struct obj_fields){
      .address = addr,
      .type_addr = ty->addr,
      .size = pyl_object_size(c, ty, addr, pyl_object_is_gc(ty, addr)),
      .name_off = ty->name_off};
}

static struct pyl_target_info *new_info(struct pyl_call *call) {
  struct pyl_target_info *info = scratch(call, 1, sizeof(*info));
  if (info != NULL) {
    __builtin_memset(info, 0, sizeof(*info));
    info->gc_enabled = PYL_GC_UNKNOWN;
    call->res->info_addr = (uint64_t)(uintptr_t)info;
    call->res->info_size = sizeof(*info);
  }
  return info;
}

static void describe_target(struct pyl_call *call, struct pyl_target_info *info,
                            uint32_t target) {
  struct pyl_ctx *c = call->c;
  struct obj_fields o = obj_fields(c, target);
  info->address = o.address;
  info->type_addr = o.type_addr;
  info->size = o.size;
  info->name_off = o.name_off;
  uint64_t rc = 0;
  if (pyl_read_u64(&c->mem, o.address + c->L->ob_refcnt_off, &rc)) {
    info->refcnt = (int64_t)rc;
  }
  if (c->rev.built) {
    info->in_degree = pyl_rev_degree(&c->rev, target);
  }
  if (c->roots.built) {
    info->unexplained = pyl_roots_unexplained(c, &c->roots, target);
  }
}

static struct pyl_graph graph_of(const struct pyl_ctx *c) {
  return (struct pyl_graph){.n = c->tab.n,
                            .offs = c->csr.offs,
                            .edges = c->csr.edges,
                            .roffs = c->rev.offs,
                            .redges = c->rev.edges};
}

/* ---- pyl_roots_list ---- */

static void roots_rows(struct pyl_call *call, uint64_t limit) {
  struct pyl_ctx *c = call->c;
  const struct pyl_roots *r = &c->roots;
  uint64_t n = limit != 0 && limit < r->n ? limit : r->n;
  struct pyl_root_row *out = scratch(call, n, sizeof(*out));
  struct qstr s;
  qstr_begin(call, &s);
  for (uint64_t i = 0; out != NULL && i < n; i++) {
    const struct pyl_root *root = &r->rows[i];
    struct obj_fields o = obj_fields(c, root->obj);
    out[i] =
        (struct pyl_root_row){.address = o.address,
                              .type_addr = o.type_addr,
                              .size = o.size,
                              .name_off = o.name_off,
                              .kind = root->kind,
                              .desc_off = qstr_add(&s, pyl_root_desc(r, root)),
                              .unexplained = root->unexplained};
  }
  qstr_end(call, &s);
  call->res->n_rows = n;
  call->res->n_rows_total = r->n;
  call->res->rows_addr = (uint64_t)(uintptr_t)out;
  call->res->row_size = sizeof(*out);
}

PYL_EXPORT uint64_t pyl_roots_list(uint64_t limit, uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags & PYL_CHAIN_FORCE);
  struct pyl_target_info *info = call.status == PYL_OK ? new_info(&call) : NULL;
  if (info != NULL) {
    need_roots(&call, info);
  }
  if (call.status == PYL_OK) {
    roots_rows(&call, limit);
  }
  return pyl_call_end(&call, PYL_RESULT_ROOTS);
}

/* ---- rows of references ---- */

static void put_label(struct pyl_ctx *c, uint32_t src, uint32_t dst,
                      uint32_t prev, struct qstr *s, uint64_t *off) {
  char buf[PYL_LABEL_MAX];
  struct pyl_sbuf b;
  pyl_sbuf_init(&b, buf, sizeof(buf));
  pyl_label_edge(c, src, dst, prev, &b);
  *off = qstr_add(s, buf);
}

static void edge_row(struct pyl_ctx *c, struct pyl_edge_row *row, uint32_t obj,
                     struct qstr *s) {
  struct obj_fields o = obj_fields(c, obj);
  *row = (struct pyl_edge_row){.address = o.address,
                               .type_addr = o.type_addr,
                               .size = o.size,
                               .name_off = o.name_off,
                               .label_off = s->empty,
                               .root_desc_off = s->empty};
}

/* ---- pyl_chain ---- */

struct cand {
  uint32_t dist;
  uint32_t root; /* index in the roots */
};

static int by_dist_root(uint32_t a, uint32_t b, const void *ctx) {
  const struct cand *v = ctx;
  if (v[a].dist != v[b].dist) {
    return v[a].dist < v[b].dist ? -1 : 1;
  }
  return v[a].root < v[b].root ? -1 : v[a].root > v[b].root;
}

/* Every root of every root object found, nearest first, then in roots
 * order.  Returns how many, with order[] sorted. */
static uint32_t candidates(struct pyl_call *call, const struct pyl_rootset *rs,
                           const struct pyl_search *s, struct cand **out,
                           uint32_t **order) {
  uint32_t n = 0;
  struct cand *v = scratch(call, rs->n_roots, sizeof(*v));
  uint32_t *idx = scratch(call, rs->n_roots, sizeof(uint32_t));
  uint32_t *tmp = scratch(call, rs->n_roots, sizeof(uint32_t));
  if (v == NULL || idx == NULL || tmp == NULL) {
    return 0;
  }
  for (uint32_t i = 0; i < s->n_found; i++) {
    uint32_t first = 0;
    uint32_t k = pyl_rootset_find(rs, s->found[i].obj, &first);
    for (uint32_t j = 0; j < k && n < rs->n_roots; j++) {
      v[n] = (struct cand){.dist = s->found[i].dist,
                           .root = rs->by_obj[first + j]};
      idx[n] = n;
      n++;
    }
  }
  pyl_sort_u32(idx, tmp, n, by_dist_root, v);
  *out = v;
  *order = idx;
  return n;
}

static void chain_rows(struct pyl_call *call, const struct pyl_search *s,
                       const struct cand *v, const uint32_t *order,
                       uint32_t n_chains, struct qstr *qs) {
  struct pyl_ctx *c = call->c;
  const struct pyl_roots *r = &c->roots;
  uint64_t n_hops = 0;
  uint32_t longest = 0;
  for (uint32_t i = 0; i < n_chains; i++) {
    uint32_t d = v[order[i]].dist;
    n_hops += (uint64_t)d + 1;
    longest = d + 1 > longest ? d + 1 : longest;
  }
  struct pyl_chain_row *chains = scratch(call, n_chains, sizeof(*chains));
  struct pyl_edge_row *hops = scratch(call, n_hops, sizeof(*hops));
  uint32_t *path = scratch(call, longest, sizeof(uint32_t));
  if (chains == NULL || hops == NULL || path == NULL) {
    return;
  }
  uint64_t h = 0;
  for (uint32_t i = 0; i < n_chains; i++) {
    const struct pyl_root *root = &r->rows[v[order[i]].root];
    uint32_t len = pyl_chain_path(s, root->obj, path, longest);
    uint64_t desc = qstr_add(qs, pyl_root_desc(r, root));
    uint64_t first = h;
    for (uint32_t k = 0; k < len; k++, h++) {
      uint32_t from = k > 0 ? path[k - 1] : PYL_NONE;
      char buf[PYL_LABEL_MAX];
      struct pyl_sbuf b;
      pyl_sbuf_init(&b, buf, sizeof(buf));
      /* A part the previous hop owns (its __dict__, __defaults__...) is
       * said with the next hop: `.name`, `__defaults__[0]`. */
      if (k > 0 && k + 1 < len &&
          pyl_label_through(c, from, path[k], path[k + 1], &b)) {
        k++;
      } else if (k > 0) {
        pyl_label_edge(c, from, path[k], k >= 2 ? path[k - 2] : PYL_NONE, &b);
      }
      edge_row(c, &hops[h], path[k], qs);
      hops[h].depth = h - first;
      hops[h].chain = i;
      hops[h].label_off = qstr_add(qs, buf);
      if (k == 0) {
        hops[h].root_kind = root->kind;
        hops[h].root_desc_off = desc;
      } else {
        hops[h].via = c->tab.addr[from];
      }
    }
    chains[i] = (struct pyl_chain_row){.root_kind = root->kind,
                                       .root_desc_off = desc,
                                       .first_hop = first,
                                       .n_hops = h - first};
  }
  struct pyl_result *res = call->res;
  res->n_rows = h;
  res->n_rows_total = h;
  res->rows_addr = (uint64_t)(uintptr_t)hops;
  res->row_size = sizeof(*hops);
  res->aux_rows_addr = (uint64_t)(uintptr_t)chains;
  res->aux_row_size = sizeof(*chains);
  res->n_aux_rows = n_chains;
}

static void explain(struct pyl_ctx *c, struct pyl_target_info *info,
                    const struct pyl_unreachable *u, struct qstr *qs) {
  char buf[PYL_TEXT_MAX];
  struct pyl_sbuf b;
  pyl_sbuf_init(&b, buf, sizeof(buf));
  (void)c;
  if (info->unexplained > 0) {
    pyl_sbuf_str(&b, "held only by references no object explains (");
    pyl_sbuf_dec(&b, (uint64_t)info->unexplained);
    pyl_sbuf_str(&b, "): probably C code (an extension that forgot a "
                     "Py_DECREF, or a C stack)");
  } else if (u->cycle_group > 1) {
    pyl_sbuf_str(&b, "part of cyclic garbage: ");
    pyl_sbuf_dec(&b, u->cycle_group);
    pyl_sbuf_str(&b, " objects in its cycle group; gc.collect() would free ");
    pyl_sbuf_dec(&b, u->garbage);
    pyl_sbuf_str(&b, " objects");
  } else if (u->referrers > 0) {
    pyl_sbuf_str(&b, "garbage: only objects no root reaches refer to it (");
    pyl_sbuf_dec(&b, u->referrers);
    pyl_sbuf_str(&b, "); gc.collect() would free ");
    pyl_sbuf_dec(&b, u->garbage);
    pyl_sbuf_str(&b, " objects");
  } else {
    pyl_sbuf_str(&b, "nothing refers to it and its references are all "
                     "explained: it is being freed");
  }
  if (info->unexplained <= 0 && (u->cycle_group > 1 || u->referrers > 0)) {
    pyl_sbuf_str(&b, info->gc_enabled == 0 ? " (the collector is disabled)"
                     : info->gc_enabled == 1
                         ? " (the collector is enabled but has not run "
                           "since)"
                         : "");
  }
  info->explanation_off = qstr_add(qs, buf);
}

static void unreachable(struct pyl_call *call, struct pyl_target_info *info,
                        const struct pyl_rootset *rs,
                        const struct pyl_search *s, uint32_t target,
                        struct qstr *qs) {
  struct pyl_ctx *c = call->c;
  struct pyl_graph g = graph_of(c);
  struct pyl_unreachable u;
  if (!pyl_chain_unreachable(&g, rs, target, s, &c->scratch, &u)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
    return;
  }
  uint32_t enabled = 0;
  if (c->L->lb_gc_enabled_addr != 0 &&
      pyl_read_u32(&c->mem, c->L->lb_gc_enabled_addr, &enabled)) {
    info->gc_enabled = enabled != 0;
  }
  info->cycle_group = u.cycle_group;
  info->garbage = u.garbage;
  explain(c, info, &u, qs);
}

/* ---- picking an object of a type ---- */

struct pick {
  uint32_t *count; /* per group: a parent's type id, then 2 more */
  uint32_t *first; /* per group: the first instance, in visit order */
  uint32_t n_groups;
};

/* Which instance explains the others: group the instances by the type of
 * the object a root first reaches them from (one forward search from all
 * roots); the biggest group is how most are held, and its first instance
 * has the shortest chain of them. */
static uint32_t pick(struct pyl_call *call, struct pyl_target_info *info,
                     struct qstr *qs) {
  struct pyl_ctx *c = call->c;
  const char *want = pyl_call_arg();
  uint32_t row = UINT32_MAX;
  for (uint32_t i = 0; i < c->names.n_rows && row == UINT32_MAX; i++) {
    if (c->names.rows[i].count > 0 && pyl_streq(c->names.rows[i].name, want)) {
      row = i;
    }
  }
  if (row == UINT32_MAX) {
    pyl_call_fail(call, PYL_ENOTYPE, "no live object of type '");
    pyl_sbuf_str(&call->msg, want);
    pyl_sbuf_str(&call->msg, "'");
    return PYL_NONE;
  }
  struct pyl_graph g = graph_of(c);
  const struct pyl_roots *r = &c->roots;
  uint32_t n_types = c->types.n;
  struct pick p = {.n_groups = n_types + 2};
  uint32_t direct = n_types;
  uint32_t nowhere = n_types + 1;
  uint32_t *src = scratch(call, r->n, sizeof(uint32_t));
  uint32_t *queue = scratch(call, c->tab.n, sizeof(uint32_t));
  uint32_t *parent = scratch(call, c->tab.n, sizeof(uint32_t));
  uint64_t *seen = pyl_bitmap_new(&c->scratch, c->tab.n);
  p.count = scratch(call, p.n_groups, sizeof(uint32_t));
  p.first = scratch(call, p.n_groups, sizeof(uint32_t));
  if (src == NULL || queue == NULL || parent == NULL || seen == NULL ||
      p.count == NULL || p.first == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
    return PYL_NONE;
  }
  for (uint32_t i = 0; i < p.n_groups; i++) {
    p.count[i] = 0;
    p.first[i] = PYL_NONE;
  }
  for (uint32_t i = 0; i < r->n; i++) {
    src[i] = r->rows[i].obj;
  }
  uint32_t n = pyl_bfs_forward(&g, src, r->n, seen, queue, parent);
  const uint32_t *type = c->tab.type;
  uint32_t total = 0;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t x = queue[k];
    if (c->types.rec[type[x]].row == row) {
      uint32_t grp = parent[x] == PYL_NONE ? direct : type[parent[x]];
      p.first[grp] = p.count[grp]++ == 0 ? x : p.first[grp];
      total++;
    }
  }
  for (uint32_t x = 0; x < c->tab.n; x++) {
    if (c->types.rec[type[x]].row == row && !pyl_bit(seen, x)) {
      p.first[nowhere] = p.count[nowhere]++ == 0 ? x : p.first[nowhere];
      total++;
    }
  }
  /* Ties go to the earlier group: "reached from no root" is last. */
  uint32_t best = nowhere;
  for (uint32_t grp = p.n_groups; grp-- > 0;) {
    best = p.count[grp] >= p.count[best] && p.count[grp] > 0 ? grp : best;
  }
  char buf[PYL_TEXT_MAX];
  struct pyl_sbuf b;
  pyl_sbuf_init(&b, buf, sizeof(buf));
  pyl_sbuf_dec(&b, p.count[best]);
  pyl_sbuf_str(&b, " of the ");
  pyl_sbuf_dec(&b, total);
  pyl_sbuf_str(&b, " objects of this type ");
  if (best == nowhere) {
    pyl_sbuf_str(&b, "are reached from no root (garbage, or held by C code "
                     "alone); this is the first of them in the walk");
  } else {
    pyl_sbuf_str(&b, best == direct ? "are held directly by a root"
                                    : "are held by a ");
    if (best != direct) {
      pyl_sbuf_str(&b, pyl_names_str(&c->names, c->types.rec[best].name_off));
    }
    pyl_sbuf_str(&b, p.count[best] == 1 ? "; this one"
                                        : " like this one, which has the "
                                          "shortest chain of them");
  }
  info->picked = 1;
  info->picked_why_off = qstr_add(qs, buf);
  info->n_instances = total;
  pyl_arena_reset(&c->scratch); /* keep the info: re-made by the caller */
  return p.first[best];
}

static void chain_query(struct pyl_call *call, uint64_t addr,
                        uint64_t max_chains, uint64_t flags) {
  struct pyl_ctx *c = call->c;
  struct pyl_target_info *info = new_info(call);
  struct qstr qs;
  qstr_begin(call, &qs);
  if (info == NULL) {
    return;
  }
  need_roots(call, info);
  if (call->status != PYL_OK) {
    return;
  }
  uint32_t target = PYL_NONE;
  if ((flags & PYL_CHAIN_BY_TYPE) != 0) {
    struct pyl_target_info saved = *info;
    target = pick(call, &saved, &qs);
    info = new_info(call); /* pick() gave its scratch back */
    if (info == NULL || target == PYL_NONE) {
      return;
    }
    *info = saved;
  } else {
    target = find_object(call, addr);
  }
  if (target == PYL_NONE) {
    return;
  }
  describe_target(call, info, target);
  uint64_t t = pyl_now_ns();
  struct pyl_graph g = graph_of(c);
  struct pyl_rootset rs;
  struct pyl_search s;
  if (!pyl_rootset_build(&rs, c->roots.rows, c->roots.n, c->tab.n,
                         &c->scratch) ||
      !pyl_search_alloc(&s, c->tab.n, c->roots.n, &c->scratch)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
    return;
  }
  bool all = (flags & PYL_CHAIN_ALL_ROOTS) != 0;
  (void)pyl_chain_search(&g, &rs, target, all, &s);
  if (s.n_found == 0) {
    unreachable(call, info, &rs, &s, target, &qs);
  } else {
    struct cand *v = NULL;
    uint32_t *order = NULL;
    uint32_t n = candidates(call, &rs, &s, &v, &order);
    uint64_t want = !all ? 1 : max_chains == 0 ? n : max_chains;
    info->reachable = n > 0;
    chain_rows(call, &s, v, order, (uint32_t)(want < n ? want : n), &qs);
  }
  info->search_ns = pyl_now_ns() - t;
  qstr_end(call, &qs);
}

PYL_EXPORT uint64_t pyl_chain(uint64_t addr, uint64_t max_chains,
                              uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags & PYL_CHAIN_FORCE);
  if (call.status == PYL_OK) {
    chain_query(&call, addr, max_chains, flags);
  }
  return pyl_call_end(&call, PYL_RESULT_CHAIN);
}

/* ---- pyl_refs ---- */

struct refs_ctx {
  struct pyl_ctx *c;
  struct pyl_edge_row *rows;
  struct qstr *qs;
  uint32_t src;
  uint32_t n; /* rows written */
};

static void ref_label(uint32_t k, const char *label, void *arg) {
  struct refs_ctx *x = arg;
  struct pyl_ctx *c = x->c;
  struct pyl_edge_row *row = &x->rows[x->n++];
  uint32_t dst = c->csr.edges[c->csr.offs[x->src] + k];
  edge_row(c, row, dst, x->qs);
  row->label_off = qstr_add(x->qs, label);
  row->depth = 1;
  row->via = c->tab.addr[x->src];
}

static void refs_query(struct pyl_call *call, uint64_t addr) {
  struct pyl_ctx *c = call->c;
  struct pyl_target_info *info = new_info(call);
  struct qstr qs;
  qstr_begin(call, &qs);
  uint32_t src = info != NULL ? find_object(call, addr) : PYL_NONE;
  if (src == PYL_NONE) {
    return;
  }
  describe_target(call, info, src);
  uint32_t n = c->csr.offs[src + 1] - c->csr.offs[src];
  struct refs_ctx x = {.c = c, .qs = &qs, .src = src};
  x.rows = scratch(call, n, sizeof(*x.rows));
  if (x.rows == NULL) {
    return;
  }
  uint64_t t = pyl_now_ns();
  if (!pyl_label_all(c, src, ref_label, &x)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the labels");
    return;
  }
  info->search_ns = pyl_now_ns() - t;
  call->res->n_rows = n;
  call->res->n_rows_total = n;
  call->res->rows_addr = (uint64_t)(uintptr_t)x.rows;
  call->res->row_size = sizeof(*x.rows);
  qstr_end(call, &qs);
}

PYL_EXPORT uint64_t pyl_refs(uint64_t addr, uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags & PYL_CHAIN_FORCE);
  if (call.status == PYL_OK) {
    refs_query(&call, addr);
  }
  return pyl_call_end(&call, PYL_RESULT_REFS);
}

/* ---- pyl_backrefs ---- */

/* A row found by the search, labelled once the search is over (labels use
 * the scratch arena above its top). */
struct found_row {
  uint32_t obj; /* the referrer, or PYL_NONE for a root */
  uint32_t via; /* what it refers to */
  uint32_t depth;
  uint32_t root; /* index in the roots when obj is PYL_NONE */
};

struct back {
  struct pyl_call *call;
  struct found_row *rows;
  size_t rows_off; /* scratch offset of rows (they grow at the top) */
  uint64_t n;      /* found */
  uint64_t max;    /* kept */
  bool oom;
};

static void back_add(struct back *bk, struct found_row row) {
  struct pyl_arena *a = &bk->call->c->scratch;
  if (bk->max != 0 && bk->n >= bk->max) {
    bk->n++;
    return;
  }
  if (!pyl_arena_commit(a, bk->rows_off + (bk->n + 1) * sizeof(row))) {
    bk->oom = true;
    return;
  }
  bk->rows[bk->n++] = row;
}

static void back_search(struct back *bk, const struct pyl_rootset *rs,
                        uint32_t target, uint32_t *queue, uint64_t *seen,
                        uint64_t depth) {
  struct pyl_ctx *c = bk->call->c;
  uint32_t head = 0;
  uint32_t tail = 1;
  uint32_t level_end = 1;
  uint32_t d = 0;
  queue[0] = target;
  pyl_bit_set(seen, target);
  while (head < tail && d < depth && !bk->oom) {
    uint32_t x = queue[head++];
    uint32_t first = 0;
    uint32_t k = pyl_rootset_find(rs, x, &first);
    for (uint32_t j = 0; j < k; j++) {
      back_add(bk, (struct found_row){.obj = PYL_NONE,
                                      .via = x,
                                      .depth = d + 1,
                                      .root = rs->by_obj[first + j]});
    }
    for (uint32_t e = c->rev.offs[x]; e < c->rev.offs[x + 1]; e++) {
      uint32_t y = c->rev.edges[e];
      if (!pyl_bit(seen, y)) {
        pyl_bit_set(seen, y);
        queue[tail++] = y;
        back_add(bk, (struct found_row){.obj = y, .via = x, .depth = d + 1});
      }
    }
    if (head == level_end) {
      d++;
      level_end = tail;
    }
  }
}

static void back_rows(struct pyl_call *call, struct back *bk, struct qstr *qs) {
  struct pyl_ctx *c = call->c;
  uint64_t n = bk->max != 0 && bk->n > bk->max ? bk->max : bk->n;
  c->scratch.used = bk->rows_off + n * sizeof(struct found_row);
  struct pyl_edge_row *out = scratch(call, n, sizeof(*out));
  if (out == NULL) {
    return;
  }
  for (uint64_t i = 0; i < n; i++) {
    const struct found_row *f = &bk->rows[i];
    if (f->obj == PYL_NONE) {
      const struct pyl_root *root = &c->roots.rows[f->root];
      out[i] = (struct pyl_edge_row){
          .name_off = qs->empty,
          .label_off = qs->empty,
          .root_kind = root->kind,
          .root_desc_off = qstr_add(qs, pyl_root_desc(&c->roots, root))};
    } else {
      edge_row(c, &out[i], f->obj, qs);
      put_label(c, f->obj, f->via, PYL_NONE, qs, &out[i].label_off);
    }
    out[i].depth = f->depth;
    out[i].via = c->tab.addr[f->via];
  }
  call->res->n_rows = n;
  call->res->n_rows_total = bk->n;
  call->res->rows_addr = (uint64_t)(uintptr_t)out;
  call->res->row_size = sizeof(*out);
}

static void backrefs_query(struct pyl_call *call, uint64_t addr, uint64_t depth,
                           uint64_t max_rows) {
  struct pyl_ctx *c = call->c;
  struct pyl_target_info *info = new_info(call);
  struct qstr qs;
  qstr_begin(call, &qs);
  if (info == NULL) {
    return;
  }
  if (depth == 0) {
    pyl_call_fail(call, PYL_EINVAL, "depth must be at least 1");
    return;
  }
  need_roots(call, info);
  uint32_t target = call->status == PYL_OK ? find_object(call, addr) : PYL_NONE;
  if (target == PYL_NONE) {
    return;
  }
  describe_target(call, info, target);
  uint64_t t = pyl_now_ns();
  struct pyl_rootset rs;
  uint32_t *queue = scratch(call, c->tab.n, sizeof(uint32_t));
  uint64_t *seen = pyl_bitmap_new(&c->scratch, c->tab.n);
  if (queue == NULL || seen == NULL ||
      !pyl_rootset_build(&rs, c->roots.rows, c->roots.n, c->tab.n,
                         &c->scratch)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
    return;
  }
  struct back bk = {.call = call, .max = max_rows};
  bk.rows_off = (c->scratch.used + 63) & ~(size_t)63;
  bk.rows = (struct found_row *)(void *)(c->scratch.base + bk.rows_off);
  back_search(&bk, &rs, target, queue, seen, depth);
  if (bk.oom) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the referrers");
    return;
  }
  back_rows(call, &bk, &qs);
  info->search_ns = pyl_now_ns() - t;
  qstr_end(call, &qs);
}

PYL_EXPORT uint64_t pyl_backrefs(uint64_t addr, uint64_t depth,
                                 uint64_t max_rows, uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags & PYL_CHAIN_FORCE);
  if (call.status == PYL_OK) {
    backrefs_query(&call, addr, depth, max_rows);
  }
  return pyl_call_end(&call, PYL_RESULT_BACKREFS);
}
