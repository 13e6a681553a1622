/* decode.c — builtin referent decoders. */
#include "decode.h"

#include "view.h"

void pyl_decode_structseq(struct pyl_view *c, const struct pyl_type *ty,
                          uint64_t addr, pyl_visit_fn visit, void *arg) {
  const struct pyl_layout *L = c->L;
  if (pyl_layout_minor(L) >= 9 && (ty->flags & PYL_TPF_HEAPTYPE) != 0 &&
      visit(pyl_host_ptr(ty->addr), arg) != 0) {
    return;
  }
  int64_t size = 0;
  if (!pyl_read_i64(&c->mem, addr + L->ob_size_off, &size) || size < 0) {
    return;
  }
  uint64_t n = ty->nfields > (uint64_t)size ? ty->nfields : (uint64_t)size;
  const void *items =
      pyl_mem_ptr(&c->mem, addr + L->tuple_ob_item_off, n * sizeof(uint64_t));
  if (items == NULL) {
    return;
  }
  for (uint64_t i = 0; i < n; i++) {
    uint64_t item = pyl_ld_u64(items, i * sizeof(uint64_t));
    if (item != 0 && visit(pyl_host_ptr(item), arg) != 0) {
      return;
    }
  }
}
