/* query_backrefs.c — pyl_backrefs: referrers breadth first, and the roots
 * that hold them. */
#include "query.h"

#include "control.h"
#include "labels.h"
#include "roots.h"

/* A row found by the search, labelled once the search is over (labels use
 * the scratch arena above its top). */
struct found_row {
  uint32_t obj; /* the referrer, or PYL_NONE for a root */
  uint32_t via; /* what it refers to */
  uint32_t depth;
  uint32_t root; /* index in the roots when obj is PYL_NONE */
  uint32_t part; /* obj's __dict__ that refers to via, or PYL_NONE */
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
  struct pyl_arena *a = &bk->call->c->v.scratch;
  if (bk->max != 0 && bk->n >= bk->max) {
    bk->n++;
    return;
  }
  if (!pyl_arena_commit(a, bk->rows_off + (bk->n + 1) * sizeof(row))) {
    bk->oom = true;
    return;
  }
  bk->rows[bk->n++] = row;
  /* The rows are the arena's top: labels decoded during the search
   * (owner_of) take their scratch above them. */
  a->used = bk->rows_off + bk->n * sizeof(row);
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
  while (head < tail && d < depth && !bk->oom && pyl_control_tick()) {
    uint32_t x = queue[head++];
    uint32_t first = 0;
    uint32_t k = pyl_rootset_find(rs, x, &first);
    for (uint32_t j = 0; j < k; j++) {
      back_add(bk, (struct found_row){.obj = PYL_NONE,
                                      .via = x,
                                      .depth = d + 1,
                                      .root = rs->by_obj[first + j],
                                      .part = PYL_NONE});
    }
    for (uint32_t e = c->h.rev.offs[x]; e < c->h.rev.offs[x + 1]; e++) {
      uint32_t y = c->h.rev.edges[e];
      if (pyl_bit(seen, y)) {
        continue;
      }
      pyl_bit_set(seen, y);
      uint32_t part = PYL_NONE;
      uint32_t owner = pyl_q_namespace_owner(c, y);
      if (owner != PYL_NONE) {
        if (pyl_bit(seen, owner)) {
          continue;
        }
        part = y;
        y = owner;
        pyl_bit_set(seen, y);
      }
      queue[tail++] = y;
      back_add(bk, (struct found_row){
                       .obj = y, .via = x, .depth = d + 1, .part = part});
    }
    if (head == level_end) {
      d++;
      level_end = tail;
    }
  }
}

static void back_rows(struct pyl_call *call, struct back *bk,
                      struct pyl_qstr *qs) {
  struct pyl_ctx *c = call->c;
  uint64_t n = bk->max != 0 && bk->n > bk->max ? bk->max : bk->n;
  c->v.scratch.used = bk->rows_off + n * sizeof(struct found_row);
  struct pyl_edge_row *out = pyl_q_scratch(call, n, sizeof(*out));
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
          .root_desc_off = pyl_qstr_add(qs, pyl_root_desc(&c->roots, root))};
    } else if (f->part != PYL_NONE) {
      char buf[PYL_LABEL_MAX];
      struct pyl_sbuf b;
      pyl_sbuf_init(&b, buf, sizeof(buf));
      if (!pyl_label_through(&c->h, f->obj, f->part, f->via, &b)) {
        pyl_sbuf_str(&b, ".__dict__");
      }
      pyl_q_edge_row(c, &out[i], f->obj, qs);
      out[i].label_off = pyl_qstr_add(qs, buf);
    } else {
      pyl_q_edge_row(c, &out[i], f->obj, qs);
      pyl_q_label(c, f->obj, f->via, PYL_NONE, qs, &out[i].label_off);
    }
    out[i].depth = f->depth;
    out[i].via = c->h.tab.addr[f->via];
  }
  call->res->n_rows = n;
  call->res->n_rows_total = bk->n;
  call->res->rows_addr = (uint64_t)(uintptr_t)out;
  call->res->row_size = sizeof(*out);
}

static void backrefs_query(struct pyl_call *call, uint64_t addr, uint64_t depth,
                           uint64_t max_rows) {
  struct pyl_ctx *c = call->c;
  struct pyl_target_info *info = pyl_q_info(call);
  struct pyl_qstr qs;
  pyl_qstr_begin(call, &qs);
  if (info == NULL) {
    return;
  }
  if (depth == 0) {
    pyl_call_fail(call, PYL_EINVAL, "depth must be at least 1");
    return;
  }
  pyl_q_need_roots(call, info);
  uint32_t target = call->status == PYL_OK ? pyl_q_find(call, addr) : PYL_NONE;
  if (target == PYL_NONE) {
    return;
  }
  pyl_q_describe(call, info, target);
  uint64_t t = pyl_now_ns();
  struct pyl_rootset rs;
  uint32_t *queue = pyl_q_scratch(call, c->h.tab.n, sizeof(uint32_t));
  uint64_t *seen = pyl_bitmap_new(&c->v.scratch, c->h.tab.n);
  if (queue == NULL || seen == NULL ||
      !pyl_rootset_build(&rs, pyl_roots_objs(&c->roots),
                         sizeof(struct pyl_root), c->roots.n, c->h.tab.n,
                         &c->v.scratch)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
    return;
  }
  struct back bk = {.call = call, .max = max_rows};
  bk.rows_off = (c->v.scratch.used + 63) & ~(size_t)63;
  bk.rows = (struct found_row *)(void *)(c->v.scratch.base + bk.rows_off);
  back_search(&bk, &rs, target, queue, seen, depth);
  if (pyl_q_stopped(call)) {
    return;
  }
  if (bk.oom) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the referrers");
    return;
  }
  back_rows(call, &bk, &qs);
  if (call->status != PYL_OK || pyl_q_stopped(call)) {
    return;
  }
  info->search_ns = pyl_now_ns() - t;
  pyl_qstr_end(call, &qs);
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
