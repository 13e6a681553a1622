/* query_chain.c — pyl_chain: the shortest chains from roots, or why no
 * root reaches the object. */
#include "query.h"

#include "labels.h"
#include "roots.h"
#include "sort.h"

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
  struct cand *v = pyl_q_scratch(call, rs->n_roots, sizeof(*v));
  uint32_t *idx = pyl_q_scratch(call, rs->n_roots, sizeof(uint32_t));
  uint32_t *tmp = pyl_q_scratch(call, rs->n_roots, sizeof(uint32_t));
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
                       uint32_t n_chains, struct pyl_qstr *qs) {
  struct pyl_ctx *c = call->c;
  const struct pyl_roots *r = &c->roots;
  uint64_t n_hops = 0;
  uint32_t longest = 0;
  for (uint32_t i = 0; i < n_chains; i++) {
    uint32_t d = v[order[i]].dist;
    n_hops += (uint64_t)d + 1;
    longest = d + 1 > longest ? d + 1 : longest;
  }
  struct pyl_chain_row *chains = pyl_q_scratch(call, n_chains, sizeof(*chains));
  struct pyl_edge_row *hops = pyl_q_scratch(call, n_hops, sizeof(*hops));
  uint32_t *path = pyl_q_scratch(call, longest, sizeof(uint32_t));
  if (chains == NULL || hops == NULL || path == NULL) {
    return;
  }
  uint64_t h = 0;
  for (uint32_t i = 0; i < n_chains; i++) {
    const struct pyl_root *root = &r->rows[v[order[i]].root];
    uint32_t len = pyl_chain_path(s, root->obj, path, longest);
    uint64_t desc = pyl_qstr_add(qs, pyl_root_desc(r, root));
    uint64_t first = h;
    for (uint32_t k = 0; k < len; k++, h++) {
      uint32_t from = k > 0 ? path[k - 1] : PYL_NONE;
      char buf[PYL_LABEL_MAX];
      struct pyl_sbuf b;
      pyl_sbuf_init(&b, buf, sizeof(buf));
      /* A part the previous hop owns (its __dict__, __defaults__...) is
       * said with the next hop: `.name`, `__defaults__[0]`. */
      if (k > 0 && k + 1 < len &&
          pyl_label_through(&c->h, from, path[k], path[k + 1], &b)) {
        k++;
      } else if (k > 0) {
        pyl_label_edge(&c->h, from, path[k], k >= 2 ? path[k - 2] : PYL_NONE,
                       &b);
      }
      pyl_q_edge_row(c, &hops[h], path[k], qs);
      hops[h].depth = h - first;
      hops[h].chain = i;
      hops[h].label_off = pyl_qstr_add(qs, buf);
      if (k == 0) {
        hops[h].root_kind = root->kind;
        hops[h].root_desc_off = desc;
      } else {
        hops[h].via = c->h.tab.addr[from];
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
                    const struct pyl_unreachable *u, struct pyl_qstr *qs) {
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
  info->explanation_off = pyl_qstr_add(qs, buf);
}

static void unreachable(struct pyl_call *call, struct pyl_target_info *info,
                        const struct pyl_rootset *rs,
                        const struct pyl_search *s, uint32_t target,
                        struct pyl_qstr *qs) {
  struct pyl_ctx *c = call->c;
  struct pyl_graph g = pyl_q_graph(c);
  struct pyl_unreachable u;
  if (!pyl_chain_unreachable(&g, rs, target, s, &c->v.scratch, &u)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
    return;
  }
  info->gc_enabled = pyl_q_gc_enabled(c);
  info->cycle_group = u.cycle_group;
  info->garbage = u.garbage;
  explain(c, info, &u, qs);
}

static void chain_query(struct pyl_call *call, uint64_t addr,
                        uint64_t max_chains, uint64_t flags) {
  struct pyl_ctx *c = call->c;
  struct pyl_target_info *info = pyl_q_info(call);
  struct pyl_qstr qs;
  pyl_qstr_begin(call, &qs);
  if (info == NULL) {
    return;
  }
  pyl_q_need_roots(call, info);
  if (call->status != PYL_OK) {
    return;
  }
  uint32_t target = PYL_NONE;
  if ((flags & PYL_CHAIN_BY_TYPE) != 0) {
    struct pyl_target_info saved = *info;
    target = pyl_q_pick(call, &saved, &qs);
    info = pyl_q_info(call); /* pick() gave its scratch back */
    if (info == NULL || target == PYL_NONE) {
      return;
    }
    *info = saved;
  } else {
    target = pyl_q_find(call, addr);
  }
  if (target == PYL_NONE) {
    return;
  }
  pyl_q_describe(call, info, target);
  uint64_t t = pyl_now_ns();
  struct pyl_graph g = pyl_q_graph(c);
  struct pyl_rootset rs;
  struct pyl_search s;
  if (!pyl_rootset_build(&rs, pyl_roots_objs(&c->roots),
                         sizeof(struct pyl_root), c->roots.n, c->h.tab.n,
                         &c->v.scratch) ||
      !pyl_search_alloc(&s, c->h.tab.n, c->roots.n, &c->v.scratch)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
    return;
  }
  bool all = (flags & PYL_CHAIN_ALL_ROOTS) != 0;
  (void)pyl_chain_search(&g, &rs, target, all, &s);
  if (pyl_q_stopped(call)) {
    return;
  }
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
  if (call->status != PYL_OK || pyl_q_stopped(call)) {
    return;
  }
  info->search_ns = pyl_now_ns() - t;
  pyl_qstr_end(call, &qs);
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
