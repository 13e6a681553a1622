/* code.c — naming the local slots of code objects, 3.8-3.13. */
#include "code.h"

#include "peek.h"

#define PYL_CO_FAST_CELL 0x40 /* co_localspluskinds bits, 3.11+ */
#define PYL_CO_FAST_FREE 0x80

/* Length of a tuple (or bytes) from ob_size; 0 when unreadable or not
 * believable. */
static uint32_t var_size(struct pyl_view *c, uint64_t obj) {
  int64_t n = obj != 0 ? pyl_peek_i64(c, obj + c->L->ob_size_off) : 0;
  return n < 0 || n > PYL_CODE_MAX_SLOTS ? 0 : (uint32_t)n;
}

bool pyl_code_slots(struct pyl_view *c, uint64_t code,
                    struct pyl_code_slots *s) {
  const struct pyl_layout *L = c->L;
  *s = (struct pyl_code_slots){0};
  if (code == 0 || code % PYL_PTR != 0 || L->code_type == 0 ||
      pyl_peek_type(c, code) != L->code_type) {
    return false;
  }
  if (pyl_layout_minor(L) >= 11) {
    int32_t n = pyl_peek_i32(c, code + L->code_nlocalsplus_off);
    s->names[0] = pyl_peek(c, code + L->code_localsplusnames_off);
    s->kinds = pyl_peek(c, code + L->code_localspluskinds_off);
    s->count[0] = n < 0 ? 0 : (uint32_t)n;
    s->n = s->count[0];
    if (var_size(c, s->names[0]) < s->n || var_size(c, s->kinds) < s->n) {
      return false;
    }
    s->kinds += L->bytes_sval_off;
  } else {
    int32_t n = pyl_peek_i32(c, code + L->code_nlocals_off);
    s->names[0] = pyl_peek(c, code + L->code_varnames_off);
    s->names[1] = pyl_peek(c, code + L->code_cellvars_off);
    s->names[2] = pyl_peek(c, code + L->code_freevars_off);
    s->count[0] = n < 0 ? 0 : (uint32_t)n;
    s->count[1] = var_size(c, s->names[1]);
    s->count[2] = var_size(c, s->names[2]);
    s->n = s->count[0] + s->count[1] + s->count[2];
    if (var_size(c, s->names[0]) < s->count[0]) {
      return false;
    }
  }
  return s->n <= PYL_CODE_MAX_SLOTS;
}

uint64_t pyl_code_slot_name(struct pyl_view *c, const struct pyl_code_slots *s,
                            uint32_t i) {
  for (int k = 0; k < 3; k++) {
    if (i < s->count[k]) {
      return pyl_peek_item(c, s->names[k], i);
    }
    i -= s->count[k];
  }
  return 0;
}

bool pyl_code_slot_is_cell(struct pyl_view *c, const struct pyl_code_slots *s,
                           uint32_t i) {
  if (pyl_layout_minor(c->L) < 11) {
    return i >= s->count[0];
  }
  return i < s->n && (pyl_peek_u8(c, s->kinds + i) &
                      (PYL_CO_FAST_CELL | PYL_CO_FAST_FREE)) != 0;
}
