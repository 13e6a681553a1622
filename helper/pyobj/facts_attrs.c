/* facts_attrs.c — instance attributes: __dict__, managed dicts and inline
 * values (named by the class's shared keys), __slots__ and members. */
#include "facts.h"

#include "attrs.h"
#include "pydict.h"
#include "pystr.h"

enum {
  PYL_T_OBJECT = 6, /* PyMemberDef types that hold a reference */
  PYL_T_OBJECT_EX = 16,
  PYL_MAX_MEMBERS = 512,
  PYL_MAX_MEMBER_OFFSET = 1 << 16,
  PYL_MAX_KEYS = 1 << 16, /* shared keys of a class */
  PYL_UNICODE_ENTRY = 16, /* split keys: {me_key, me_value} */
};

/* tp_flags bits not in types.h (stable where they exist). */
#define PYL_TPF_INLINE_VALUES (1ull << 2) /* 3.13+ */
#define PYL_TPF_MANAGED_DICT (1ull << 4)  /* 3.11+ */

/* Values of shared-key attributes, named by the class's cached keys
 * (3.11+ split keys: 16-byte {key, value} entries). */
static void cached_values(struct facts *f, uint64_t type, uint64_t values,
                          int64_t count) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  uint64_t keys = pyl_peek(c, type + L->ht_cached_keys_off);
  if (keys == 0 || values == 0) {
    return;
  }
  int64_t n = pyl_peek_i64(c, keys + L->dk_nentries_off);
  unsigned log2_index = pyl_peek_u8(c, keys + L->dk_log2_index_bytes_off);
  if (n < 0 || n > PYL_MAX_KEYS || log2_index > 40) {
    return;
  }
  uint64_t entries = keys + L->dk_indices_off + (1ull << log2_index);
  n = count >= 0 && count < n ? count : n;
  for (int64_t i = 0; i < n; i++) {
    uint64_t name = pyl_peek(c, entries + (uint64_t)i * PYL_UNICODE_ENTRY);
    pyl_fact_add(f, pyl_peek(c, values + (uint64_t)i * PYL_PTR), F_ATTR_STR,
                 NULL, name, 0);
  }
}

/* The instance __dict__ through tp_dictoffset (negative: from the end of
 * a variable-size object). */
static void dictoffset_facts(struct facts *f, uint64_t obj, uint64_t type) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  if (L->tp_dictoffset_off == 0) {
    return; /* a layout without it (never 0 in a PyTypeObject) */
  }
  int64_t off = pyl_peek_i64(c, type + L->tp_dictoffset_off);
  if (off < 0) {
    int64_t size = pyl_peek_i64(c, obj + L->ob_size_off);
    size = size < 0 ? -size : size;
    int64_t total = pyl_peek_i64(c, type + L->tp_basicsize_off) +
                    size * pyl_peek_i64(c, type + L->tp_itemsize_off);
    off += (total + PYL_PTR - 1) & ~(int64_t)(PYL_PTR - 1);
  }
  if (off > 0) {
    pyl_fact_slot(f, obj + (uint64_t)off, F_TEXT, ".__dict__", 0);
  }
}

void pyl_facts_attributes(struct facts *f, uint64_t obj, uint64_t type) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  unsigned minor = pyl_layout_minor(L);
  uint64_t flags = pyl_peek_flags(c, type);
  if (minor <= 10 || (flags & PYL_TPF_MANAGED_DICT) == 0) {
    dictoffset_facts(f, obj, type);
    return;
  }
  /* The pre-header comes before the PyGC_Head: {values, dict} on 3.11,
   * {weakrefs, dict} from 3.12, so the managed dict is its last word. */
  uint64_t preheader = obj - L->sizeof_gc_head - L->preheader_size;
  uint64_t dict_slot = preheader + L->preheader_size - PYL_PTR;
  if (minor == 11) {
    pyl_fact_slot(f, dict_slot, F_TEXT, ".__dict__", 0);
    cached_values(f, type, pyl_peek(c, preheader), -1);
  } else if (minor == 12) {
    /* A tagged pointer: bit 0 set means split values (stored as the
     * values address - 1), else the dict. */
    uint64_t dv = pyl_peek(c, dict_slot);
    if ((dv & 1) != 0) {
      cached_values(f, type, dv + 1, -1);
    } else {
      pyl_fact_slot(f, dict_slot, F_TEXT, ".__dict__", 0);
    }
  } else {
    pyl_fact_slot(f, dict_slot, F_TEXT, ".__dict__", 0);
    if ((flags & PYL_TPF_INLINE_VALUES) != 0) {
      uint64_t values = obj + pyl_peek(c, type + L->tp_basicsize_off);
      unsigned capacity = pyl_peek_u8(c, values + L->dict_values_capacity_off);
      unsigned valid = pyl_peek_u8(c, values + L->dict_values_valid_off);
      if (valid != 0) {
        cached_values(f, type, values + L->dict_values_values_off, capacity);
      }
    }
  }
}

/* PyMemberDef object members (__slots__, and the named fields of many
 * builtin types) along the tp_base chain. */
void pyl_facts_members(struct facts *f, uint64_t obj, uint64_t type) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  if (L->sizeof_member_def == 0 || L->tp_members_off == 0) {
    return;
  }
  for (unsigned d = 0; type != 0 && d < PYL_MAX_BASES; d++) {
    uint64_t m = pyl_peek(c, type + L->tp_members_off);
    for (unsigned j = 0; m != 0 && j < PYL_MAX_MEMBERS; j++) {
      uint64_t def = m + j * L->sizeof_member_def;
      uint64_t name = pyl_peek(c, def + L->member_name_off);
      if (name == 0) {
        break;
      }
      int32_t kind = pyl_peek_i32(c, def + L->member_type_off);
      int64_t off = pyl_peek_i64(c, def + L->member_offset_off);
      if ((kind == PYL_T_OBJECT || kind == PYL_T_OBJECT_EX) && off > 0 &&
          off < PYL_MAX_MEMBER_OFFSET) {
        /* __slots__ read as attributes; builtin members as fields. */
        pyl_fact_slot(f, obj + (uint64_t)off,
                      (pyl_peek_flags(c, type) & PYL_TPF_HEAPTYPE) != 0
                          ? F_ATTR_CSTR
                          : F_CSTR,
                      NULL, name);
      }
    }
    type = pyl_peek(c, type + L->tp_base_off);
  }
}

static bool str_is(struct pyl_view *c, uint64_t str, const char *want) {
  char buf[64]; /* longer names are not asked for */
  if (!pyl_is_str(c, str) || !pyl_str_utf8(c, str, buf, sizeof(buf))) {
    return false;
  }
  return pyl_streq(buf, want);
}

uint64_t pyl_attr_lookup(struct pyl_view *c, uint64_t obj, const char *name) {
  size_t top = c->scratch.used;
  uint64_t value = 0;
  struct facts f;
  pyl_facts_begin(&f, c, 0);
  pyl_facts_attributes(&f, obj, pyl_peek_type(c, obj));
  for (uint32_t i = 0; i < f.n && value == 0; i++) {
    const struct fact *x = &f.v[i];
    uint32_t kind = x->kind & ~PYL_USED;
    if (kind == F_ATTR_STR && str_is(c, x->arg, name)) {
      value = x->addr;
    } else if (kind == F_TEXT && x->text != NULL &&
               pyl_streq(x->text, ".__dict__")) {
      value = pyl_dict_get_str(c, x->addr, name);
    }
  }
  c->scratch.used = top;
  return value;
}
