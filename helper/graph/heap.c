/* heap.c — the per-object sizes the graph keeps beside its table. */
#include "heap.h"

#include "referents.h"
#include "sizes.h"

enum {
  PYL_SIZES_FLOOR = 1 << 20,
};

bool pyl_heap_init_sizes(struct pyl_heap *h, uint32_t max_objs) {
  if (!pyl_vec_reserve(&h->v_size, sizeof(uint32_t), max_objs,
                       PYL_SIZES_FLOOR)) {
    return false;
  }
  h->size = pyl_vec_data(&h->v_size);
  return true;
}

bool pyl_heap_set_size(struct pyl_heap *h, uint32_t i, uint64_t size) {
  if (!pyl_vec_fit(&h->v_size, (uint64_t)i + 1)) {
    return false;
  }
  h->size[i] = size < PYL_SIZE_BIG ? (uint32_t)size : PYL_SIZE_BIG;
  return true;
}

uint64_t pyl_heap_size(struct pyl_heap *h, uint32_t i) {
  if (h->size[i] != PYL_SIZE_BIG) {
    return h->size[i];
  }
  /* Only objects of 4 GiB and more: read again rather than keep 8 bytes
   * per object for them all. */
  struct pyl_view *v = h->v;
  const struct pyl_type *ty = &v->types.rec[h->tab.type[i]];
  uint64_t addr = h->tab.addr[i];
  return pyl_object_size(v, ty, addr, pyl_object_is_gc(ty, addr));
}
