/* query_pick.c — py-chain --type: which object of a type to explain. */
#include "query.h"

#include "control.h"
#include "roots.h"

struct pick {
  uint32_t *count; /* per group: a parent's type id, then 2 more */
  uint32_t *first; /* per group: the first instance, in visit order */
  uint32_t n_groups;
};

/* Which instance explains the others: group the instances by the type of
 * the object a root first reaches them from (one forward search from all
 * roots); the biggest group is how most are held, and its first instance
 * has the shortest chain of them. */
uint32_t pyl_q_pick(struct pyl_call *call, struct pyl_target_info *info,
                    struct pyl_qstr *qs) {
  struct pyl_ctx *c = call->c;
  uint32_t row = pyl_q_type_row(call, pyl_call_arg());
  if (row == UINT32_MAX) {
    return PYL_NONE;
  }
  struct pyl_graph g = pyl_q_graph(c);
  const struct pyl_roots *r = &c->roots;
  uint32_t n_types = c->v.types.n;
  struct pick p = {.n_groups = n_types + 2};
  uint32_t direct = n_types;
  uint32_t nowhere = n_types + 1;
  uint32_t *src = pyl_q_scratch(call, r->n, sizeof(uint32_t));
  uint32_t *queue = pyl_q_scratch(call, c->h.tab.n, sizeof(uint32_t));
  uint32_t *parent = pyl_q_scratch(call, c->h.tab.n, sizeof(uint32_t));
  uint64_t *seen = pyl_bitmap_new(&c->v.scratch, c->h.tab.n);
  p.count = pyl_q_scratch(call, p.n_groups, sizeof(uint32_t));
  p.first = pyl_q_scratch(call, p.n_groups, sizeof(uint32_t));
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
  if (pyl_q_stopped(call)) {
    return PYL_NONE;
  }
  const uint32_t *type = c->h.tab.type;
  uint32_t total = 0;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t x = queue[k];
    if (c->v.types.rec[type[x]].row == row) {
      uint32_t grp = parent[x] == PYL_NONE ? direct : type[parent[x]];
      p.first[grp] = p.count[grp]++ == 0 ? x : p.first[grp];
      total++;
    }
  }
  for (uint32_t x = 0; x < c->h.tab.n; x++) {
    if (!pyl_control_tick()) {
      pyl_call_fail(call, PYL_EABORTED, pyl_control_why());
      return PYL_NONE;
    }
    if (c->v.types.rec[type[x]].row == row && !pyl_bit(seen, x)) {
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
      pyl_sbuf_str(&b,
                   pyl_names_str(&c->v.names, c->v.types.rec[best].name_off));
    }
    pyl_sbuf_str(&b, p.count[best] == 1 ? "; this one"
                                        : " like this one, which has the "
                                          "shortest chain of them");
  }
  info->picked = 1;
  info->picked_why_off = pyl_qstr_add(qs, buf);
  info->n_instances = total;
  pyl_arena_reset(&c->v.scratch); /* keep the info: re-made by the caller */
  return p.first[best];
}
