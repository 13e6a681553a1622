/* kinds.c — a builtin layout per type id, and container lengths. */
#include "kinds.h"

#include "peek.h"

enum {
  PYL_KIND_MAX_BASES = 64, /* tp_base chains we follow */
  PYL_TYPE_NAME_MAX = 128, /* longer names are no name a decoder knows */
};

bool pyl_type_named(struct pyl_view *c, uint64_t type, const char *name) {
  char buf[PYL_TYPE_NAME_MAX];
  return pyl_peek_cstr(c, pyl_peek(c, type + c->L->tp_name_off), buf,
                       sizeof(buf)) &&
         pyl_streq(buf, name);
}

/* The kind of one type object: the first type of its tp_base chain a
 * kind names.  The tp_name compares happen once per type. */
static enum pyl_kind kind_of(struct pyl_view *c, uint64_t type, bool *exact) {
  const struct pyl_layout *L = c->L;
  const struct {
    uint64_t addr;
    enum pyl_kind kind;
  } known[] = {
      {L->dict_type, PYL_KIND_DICT},
      {L->list_type, PYL_KIND_LIST},
      {L->tuple_type, PYL_KIND_TUPLE},
      {L->set_type, PYL_KIND_SET},
      {L->frozenset_type, PYL_KIND_SET},
      {L->function_type, PYL_KIND_FUNCTION},
      {L->method_type, PYL_KIND_METHOD},
      {L->traceback_type, PYL_KIND_TRACEBACK},
      {L->module_type, PYL_KIND_MODULE},
      {L->type_type, PYL_KIND_TYPE},
      {L->frame_type, PYL_KIND_FRAME},
      {L->str_type, PYL_KIND_STR},
  };
  for (unsigned d = 0; type != 0 && d < PYL_KIND_MAX_BASES; d++) {
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
      if (known[i].addr != 0 && type == known[i].addr) {
        *exact = d == 0;
        return known[i].kind;
      }
    }
    if (pyl_type_named(c, type, "collections.deque")) {
      *exact = d == 0;
      return PYL_KIND_DEQUE;
    }
    if (pyl_type_named(c, type, "functools._lru_cache_wrapper")) {
      *exact = d == 0;
      return PYL_KIND_LRU;
    }
    type = pyl_peek(c, type + L->tp_base_off);
  }
  return PYL_KIND_OTHER;
}

bool pyl_kinds_build(struct pyl_kinds *k, struct pyl_view *c,
                     struct pyl_arena *a) {
  uint32_t n = c->types.n;
  k->kind = pyl_arena_alloc(a, (size_t)n + 1, 8);
  k->flags = pyl_arena_alloc(a, (size_t)n + 1, 8);
  if (k->kind == NULL || k->flags == NULL) {
    return false;
  }
  k->n = n;
  for (uint32_t t = 0; t < n; t++) {
    const struct pyl_type *ty = &c->types.rec[t];
    bool exact = false;
    enum pyl_kind kind = kind_of(c, ty->addr, &exact);
    uint8_t fl = exact ? PYL_KF_BUILTIN : 0;
    fl |= (ty->flags & PYL_TPF_BASE_EXC_SUBCLASS) != 0 ? PYL_KF_EXCEPTION : 0;
    fl |= (ty->flags & PYL_TPF_HEAPTYPE) != 0 ? PYL_KF_HEAPTYPE : 0;
    k->kind[t] = (uint8_t)kind;
    k->flags[t] = fl;
  }
  return true;
}

int64_t pyl_container_len(struct pyl_view *c, enum pyl_kind kind,
                          uint64_t addr) {
  const struct pyl_layout *L = c->L;
  switch (kind) {
  case PYL_KIND_DICT:
    return pyl_peek_i64(c, addr + L->dict_ma_used_off);
  case PYL_KIND_LIST:
  case PYL_KIND_TUPLE:
  case PYL_KIND_DEQUE:
    return pyl_peek_i64(c, addr + L->ob_size_off);
  case PYL_KIND_SET:
    return pyl_peek_i64(c, addr + L->set_used_off);
  default:
    return -1;
  }
}
