/* query_pick.c — py-chain --type: which object of a type to explain. */
#include "patterns.h"

/* The instance that explains the others: the first reached (shortest
 * chain) of the biggest group of instances held the same way (path
 * pattern), never a lone outlier. */
uint32_t pyl_q_pick(struct pyl_call *call, struct pyl_target_info *info,
                    struct pyl_qstr *qs) {
  struct pyl_ctx *c = call->c;
  uint32_t row = pyl_q_type_row(call, pyl_call_arg());
  struct pyl_pattern_set set;
  if (row == UINT32_MAX || !pyl_q_patterns(call, row, &set) ||
      set.n_groups == 0) {
    return PYL_NONE;
  }
  const struct pyl_pattern_group *best = &set.groups[0];
  char buf[PYL_TEXT_MAX];
  struct pyl_sbuf b;
  pyl_sbuf_init(&b, buf, sizeof(buf));
  pyl_sbuf_dec(&b, best->count);
  pyl_sbuf_str(&b, " of the ");
  pyl_sbuf_dec(&b, set.total);
  pyl_sbuf_str(&b, " objects of this type ");
  if (best->pattern == PYL_NONE) {
    pyl_sbuf_str(&b, "are reached from no root (garbage, or held by C code "
                     "alone), or in too many different ways; this is the "
                     "first of them in the walk");
  } else {
    pyl_sbuf_str(&b, best->count == 1 ? "is held as " : "are held as ");
    pyl_q_pattern_text(call, &set, best->pattern, &b);
    pyl_sbuf_str(&b, best->count == 1
                         ? ""
                         : "; this one has the shortest chain of them");
  }
  info->picked = 1;
  info->picked_why_off = pyl_qstr_add(qs, buf);
  info->n_instances = set.total;
  uint32_t pick = best->example;
  pyl_arena_reset(&c->v.scratch); /* keep the info: re-made by the caller */
  return pick;
}
