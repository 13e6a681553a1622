/* types.c — validating type objects and caching what the walk needs. */
#include "types.h"

#include "view.h"

enum {
  PYL_TYPES_RESERVE_REC = 64 * 1024 * 1024,
  PYL_TYPES_RESERVE_HTAB = 64 * 1024 * 1024,
  PYL_TYPES_FLOOR = 1 << 20,
  PYL_TYPES_HTAB_INITIAL = 1024,
  PYL_BASE_CHAIN_MAX = 64,
  PYL_MAX_BASICSIZE = 1 << 30,
  PYL_MAX_ITEMSIZE = 1 << 16,
  PYL_MIN_BASICSIZE = 16,
};

static hashval_t rec_hash(const void *p) {
  uint64_t a;
  __builtin_memcpy(&a, p, sizeof(a));
  return (hashval_t)((a >> 4) ^ (a >> 20) ^ (a >> 36));
}

static int rec_eq(const void *entry, const void *key) {
  uint64_t a;
  uint64_t b;
  __builtin_memcpy(&a, entry, sizeof(a));
  __builtin_memcpy(&b, key, sizeof(b));
  return a == b;
}

bool pyl_types_init(struct pyl_types *t) {
  if (!pyl_vec_reserve(&t->v_rec, sizeof(struct pyl_type),
                       PYL_TYPES_RESERVE_REC / sizeof(struct pyl_type),
                       PYL_TYPES_FLOOR) ||
      !pyl_arena_reserve(&t->a_htab, PYL_TYPES_RESERVE_HTAB, PYL_TYPES_FLOOR)) {
    pyl_types_release(t);
    return false;
  }
  t->rec = pyl_vec_data(&t->v_rec);
  pyl_types_clear(t);
  return true;
}

void pyl_types_clear(struct pyl_types *t) {
  pyl_vec_clear(&t->v_rec);
  pyl_arena_decommit(&t->a_htab);
  t->htab = NULL;
  t->n = 0;
  for (unsigned i = 0; i < PYL_TYPE_CACHE; i++) {
    t->cache[i].addr = 0;
    t->cache[i].id = 0;
  }
}

void pyl_types_release(struct pyl_types *t) {
  pyl_vec_release(&t->v_rec);
  pyl_arena_release(&t->a_htab);
  t->rec = NULL;
  t->htab = NULL;
  t->n = 0;
  for (unsigned i = 0; i < PYL_TYPE_CACHE; i++) {
    t->cache[i].addr = 0;
    t->cache[i].id = 0;
  }
}

/* Readable type object header, its metatype a type: the plausibility test
 * for anything found in an ob_type field. */
static const void *plausible_type(struct pyl_view *c, uint64_t addr) {
  const struct pyl_layout *L = c->L;
  if (addr % 8 != 0) {
    return NULL;
  }
  const void *p = pyl_mem_ptr(&c->mem, addr, c->type_extent);
  if (p == NULL) {
    return NULL;
  }
  uint64_t meta = pyl_ld_u64(p, L->ob_type_off);
  if (meta % 8 != 0) {
    return NULL;
  }
  const void *mp = pyl_mem_ptr(&c->mem, meta, c->type_extent);
  if (mp == NULL ||
      (pyl_ld_u64(mp, L->tp_flags_off) & PYL_TPF_TYPE_SUBCLASS) == 0) {
    return NULL;
  }
  return p;
}

/* Rules for types that have no tp_flags subclass bit: find the builtin
 * among the bases. */
static uint8_t rule_from_bases(struct pyl_view *c, uint64_t addr) {
  const struct pyl_layout *L = c->L;
  for (int depth = 0; depth < PYL_BASE_CHAIN_MAX && addr != 0; depth++) {
    if (addr == L->set_type || addr == L->frozenset_type) {
      return PYL_SIZE_SET;
    }
    if (addr == L->bytearray_type) {
      return PYL_SIZE_BYTEARRAY;
    }
    if (addr == L->object_type) {
      break;
    }
    uint64_t base = 0;
    if (addr % 8 != 0 || !pyl_read_u64(&c->mem, addr + L->tp_base_off, &base)) {
      break;
    }
    addr = base;
  }
  return PYL_SIZE_PLAIN;
}

/* From 3.11 these static types size their instances by tp_itemsize but
 * start with a plain PyObject header: what sits where ob_size would be is
 * a pointer.  They cannot be subclassed, so their tp_name identifies them. */
static bool frame_like(struct pyl_view *c, const void *p, uint64_t flags) {
  static const char *const names[] = {"generator", "coroutine",
                                      "async_generator", "frame"};
  uint64_t name = pyl_ld_u64(p, c->L->tp_name_off);
  if (pyl_layout_minor(c->L) < 11 || (flags & PYL_TPF_HEAPTYPE) != 0) {
    return false;
  }
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    size_t len = pyl_strlen(names[i]) + 1;
    const char *s = pyl_mem_ptr(&c->mem, name, len);
    size_t k = 0;
    /* byte by byte: never read past the NUL of a shorter tp_name */
    while (s != NULL && k < len && s[k] == names[i][k] && s[k] != '\0') {
      k++;
    }
    if (s != NULL && k + 1 == len && s[k] == '\0') {
      return true;
    }
  }
  return false;
}

static uint8_t size_rule(struct pyl_view *c, uint64_t addr, const void *p,
                         uint64_t flags, uint64_t itemsize) {
  if (flags & PYL_TPF_LONG_SUBCLASS) {
    return PYL_SIZE_INT;
  }
  if (itemsize != 0 && frame_like(c, p, flags)) {
    return PYL_SIZE_FIXED;
  }
  if (flags & PYL_TPF_LIST_SUBCLASS) {
    return PYL_SIZE_LIST;
  }
  if (flags & PYL_TPF_UNICODE_SUBCLASS) {
    return PYL_SIZE_STR;
  }
  if (flags & PYL_TPF_DICT_SUBCLASS) {
    return PYL_SIZE_DICT;
  }
  if (flags & (PYL_TPF_TUPLE_SUBCLASS | PYL_TPF_BYTES_SUBCLASS |
               PYL_TPF_TYPE_SUBCLASS)) {
    return PYL_SIZE_PLAIN;
  }
  return rule_from_bases(c, addr);
}

/* A struct sequence type has one T_OBJECT member per named field at
 * ob_item[i]; the last field is named, so the highest index gives
 * n_fields (hidden fields included, as structseq_traverse visits them). */
static uint32_t structseq_fields(struct pyl_view *c, const void *p) {
  enum {
    T_OBJECT = 6, /* a macro: not in DWARF */
    MAX_MEMBERS = 1024,
  };
  const struct pyl_layout *L = c->L;
  uint64_t size = L->sizeof_member_def;
  /* every field read below must lie inside one PyMemberDef */
  if (size < L->member_name_off + sizeof(uint64_t) ||
      size < L->member_type_off + sizeof(uint32_t) ||
      size < L->member_offset_off + sizeof(int64_t)) {
    return 0;
  }
  uint64_t members = L->tp_members_off ? pyl_ld_u64(p, L->tp_members_off) : 0;
  uint32_t nfields = 0;
  for (uint32_t i = 0; members != 0 && i < MAX_MEMBERS; i++) {
    const void *m = pyl_mem_ptr(&c->mem, members + (uint64_t)i * size, size);
    if (m == NULL || pyl_ld_u64(m, L->member_name_off) == 0) {
      break;
    }
    int64_t off = pyl_ld_i64(m, L->member_offset_off);
    if (pyl_ld_u32(m, L->member_type_off) == T_OBJECT &&
        off >= (int64_t)L->tuple_ob_item_off) {
      uint64_t idx = ((uint64_t)off - L->tuple_ob_item_off) / sizeof(uint64_t);
      if (idx < MAX_MEMBERS && idx + 1 > nfields) {
        nfields = (uint32_t)idx + 1;
      }
    }
  }
  return nfields;
}

/* Fill a record from the type object; false if it is not plausible. */
static bool describe(struct pyl_view *c, uint64_t addr, struct pyl_type *ty) {
  const struct pyl_layout *L = c->L;
  const void *p = plausible_type(c, addr);
  if (p == NULL) {
    return false;
  }
  uint64_t flags = pyl_ld_u64(p, L->tp_flags_off);
  int64_t basicsize = pyl_ld_i64(p, L->tp_basicsize_off);
  int64_t itemsize = pyl_ld_i64(p, L->tp_itemsize_off);
  if (basicsize < PYL_MIN_BASICSIZE || basicsize > PYL_MAX_BASICSIZE ||
      itemsize < 0 || itemsize > PYL_MAX_ITEMSIZE) {
    return false;
  }
  uint64_t traverse = 0;
  uint64_t is_gc = 0;
  if (flags & PYL_TPF_HAVE_GC) {
    traverse = pyl_ld_u64(p, L->tp_traverse_off);
    is_gc = pyl_ld_u64(p, L->tp_is_gc_off);
    if (!pyl_mem_callable(&c->mem, traverse) ||
        (is_gc != 0 && !pyl_mem_callable(&c->mem, is_gc))) {
      return false;
    }
  }
  *ty = (struct pyl_type){
      .addr = addr,
      .flags = flags,
      .basicsize = (uint64_t)basicsize,
      .itemsize = (uint64_t)itemsize,
      .traverse = traverse,
      .is_gc = is_gc,
      .rule = size_rule(c, addr, p, flags, (uint64_t)itemsize),
      .preheader = (flags & L->preheader_flags) != 0,
  };
  /* bool's tp_basicsize is sizeof(struct _longobject), one digit and its
   * padding included; int.__sizeof__ (and the allocation) start from
   * int's, offsetof(PyLongObject, ob_digit). */
  int64_t int_basicsize = 0;
  if (addr == L->bool_type &&
      pyl_read_i64(&c->mem, L->int_type + L->tp_basicsize_off,
                   &int_basicsize) &&
      int_basicsize >= PYL_MIN_BASICSIZE && int_basicsize <= basicsize) {
    ty->basicsize = (uint64_t)int_basicsize;
  }
  if (traverse != 0 && traverse == L->structseq_traverse) {
    ty->decode = PYL_DECODE_STRUCTSEQ;
    ty->nfields = structseq_fields(c, p);
  }
  return true;
}

uint32_t pyl_types_resolve_slow(struct pyl_view *c, uint64_t addr) {
  struct pyl_types *t = &c->types;
  if (addr == 0) {
    return PYL_NONE;
  }
  if (t->htab == NULL) {
    t->htab = htab_create_alloc_ex(PYL_TYPES_HTAB_INITIAL, rec_hash, rec_eq,
                                   NULL, &t->a_htab, pyl_arena_calloc_cb,
                                   pyl_arena_free_cb);
    if (t->htab == NULL) {
      return PYL_NONE;
    }
  }
  uint32_t id = PYL_NONE;
  void **found = htab_find_slot(t->htab, &addr, NO_INSERT);
  if (found != NULL) {
    id = (uint32_t)((struct pyl_type *)*found - t->rec);
  } else {
    struct pyl_type ty;
    if (!describe(c, addr, &ty) ||
        !pyl_vec_fit(&t->v_rec, (uint64_t)t->n + 1)) {
      return PYL_NONE;
    }
    void **slot = htab_find_slot(t->htab, &addr, INSERT);
    if (slot == NULL) {
      return PYL_NONE;
    }
    id = t->n++;
    t->rec[id] = ty;
    *slot = &t->rec[id];
  }
  unsigned s = pyl_types_cache_slot(addr);
  t->cache[s].addr = addr;
  t->cache[s].id = id;
  return id;
}
