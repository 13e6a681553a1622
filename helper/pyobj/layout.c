/* layout.c — storage and sanity checks for struct pyl_layout. */
#include "layout.h"

static union {
  struct pyl_layout l;
  uint64_t raw[PYL_LAYOUT_CAPACITY];
} store;

_Static_assert(sizeof(struct pyl_layout) ==
                   PYL_LAYOUT_NFIELDS * sizeof(uint64_t),
               "pyl_layout must be packed uint64_t fields");
_Static_assert((int)PYL_LAYOUT_NFIELDS <= (int)PYL_LAYOUT_CAPACITY,
               "layout storage too small");

static const char *const field_names[PYL_LAYOUT_NFIELDS] = {
#define PYL_LAYOUT_FIELD(name) #name,
#include "../layout_fields.def"
#undef PYL_LAYOUT_FIELD
};

struct pyl_layout *pyl_layout_store(void) {
  return &store.l;
}

PYL_EXPORT uint64_t pyl_layout_addr(void) {
  return (uint64_t)(uintptr_t)&store;
}

uint64_t pyl_layout_gc_list(const struct pyl_layout *l, unsigned i) {
  const uint64_t *heads = &l->gc_list_0;
  return i < PYL_GC_LISTS_MAX ? heads[i] : 0;
}

static uint64_t field(const struct pyl_layout *l, unsigned i) {
  uint64_t v;
  __builtin_memcpy(&v, (const unsigned char *)l + (size_t)i * sizeof(v),
                   sizeof(v));
  return v;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = pyl_strlen(s);
  size_t k = pyl_strlen(suffix);
  return n >= k && pyl_streq(s + n - k, suffix);
}

/* Offsets and struct sizes: anything bigger than a page is garbage. */
static bool is_offset_field(const char *name) {
  const char *end = name + pyl_strlen(name);
  return ends_with(name, "_off") || pyl_has_prefix(name, end, "sizeof_") ||
         pyl_streq(name, "preheader_size");
}

static int bad_field(struct pyl_sbuf *msg, const struct pyl_layout *l,
                     unsigned i, const char *why) {
  pyl_sbuf_str(msg, "layout field ");
  pyl_sbuf_str(msg, field_names[i]);
  pyl_sbuf_str(msg, " = ");
  pyl_sbuf_dec(msg, field(l, i));
  pyl_sbuf_str(msg, ": ");
  pyl_sbuf_str(msg, why);
  return PYL_ELAYOUT;
}

/* Fields that no supported CPython has as zero. */
static const enum pyl_layout_index required[] = {
    PYL_LF_gc_collecting_addr,
    PYL_LF_sizeof_gc_head,
    PYL_LF_ob_type_off,
    PYL_LF_ob_size_off,
    PYL_LF_tp_name_off,
    PYL_LF_tp_basicsize_off,
    PYL_LF_tp_itemsize_off,
    PYL_LF_tp_flags_off,
    PYL_LF_tp_traverse_off,
    PYL_LF_tp_is_gc_off,
    PYL_LF_tp_base_off,
    PYL_LF_tp_dict_off,
    PYL_LF_ht_qualname_off,
    PYL_LF_unicode_length_off,
    PYL_LF_unicode_state_off,
    PYL_LF_sizeof_ascii_object,
    PYL_LF_sizeof_compact_unicode,
    PYL_LF_unicode_utf8_off,
    PYL_LF_unicode_utf8_length_off,
    PYL_LF_unicode_data_off,
    PYL_LF_long_digit_size,
    PYL_LF_dict_ma_keys_off,
    PYL_LF_dict_ma_values_off,
    PYL_LF_dk_nentries_off,
    PYL_LF_dk_indices_off,
    PYL_LF_sizeof_dict_keys,
    PYL_LF_list_ob_item_off,
    PYL_LF_list_allocated_off,
    PYL_LF_tuple_ob_item_off,
    PYL_LF_set_mask_off,
    PYL_LF_set_table_off,
    PYL_LF_set_smalltable_off,
    PYL_LF_sizeof_setentry,
    PYL_LF_bytearray_alloc_off,
    PYL_LF_type_type,
    PYL_LF_object_type,
    PYL_LF_str_type,
    PYL_LF_int_type,
    PYL_LF_bool_type,
    PYL_LF_float_type,
    PYL_LF_bytes_type,
    PYL_LF_bytearray_type,
    PYL_LF_tuple_type,
    PYL_LF_list_type,
    PYL_LF_dict_type,
    PYL_LF_set_type,
    PYL_LF_frozenset_type,
    PYL_LF_module_type,
    PYL_LF_none_object,
};

static int check_version(const struct pyl_layout *l, struct pyl_sbuf *msg) {
  uint64_t major = (l->py_version_hex >> 24) & 0xff;
  unsigned minor = pyl_layout_minor(l);
  if (major == 3 && minor >= 8 && minor <= 13) {
    return PYL_OK;
  }
  pyl_sbuf_str(msg, "CPython ");
  pyl_sbuf_dec(msg, major);
  pyl_sbuf_str(msg, ".");
  pyl_sbuf_dec(msg, minor);
  pyl_sbuf_str(msg, " is not supported (pyleaks supports 3.8 to 3.13)");
  return PYL_EVERSION;
}

static int check_version_fields(const struct pyl_layout *l,
                                struct pyl_sbuf *msg) {
  unsigned minor = pyl_layout_minor(l);
  if (minor <= 10 && l->dk_size_off == 0) {
    return bad_field(msg, l, PYL_LF_dk_size_off, "needed before 3.11");
  }
  if (minor >= 11 && (l->dk_log2_size_off == 0 ||
                      l->dk_log2_index_bytes_off == 0 || l->dk_kind_off == 0)) {
    return bad_field(msg, l, PYL_LF_dk_log2_size_off,
                     "dk_log2_size/dk_log2_index_bytes/dk_kind needed "
                     "from 3.11");
  }
  if (minor >= 12 && l->long_lv_tag_off == 0) {
    return bad_field(msg, l, PYL_LF_long_lv_tag_off, "needed from 3.12");
  }
  return PYL_OK;
}

int pyl_layout_check(const struct pyl_layout *l, struct pyl_sbuf *msg) {
  if (l->magic != PYL_LAYOUT_MAGIC) {
    pyl_sbuf_str(msg, "layout not written (bad magic)");
    return PYL_ELAYOUT;
  }
  if (l->nfields < PYL_LAYOUT_NFIELDS || l->nfields > PYL_LAYOUT_CAPACITY) {
    pyl_sbuf_str(msg, "layout has ");
    pyl_sbuf_dec(msg, l->nfields);
    pyl_sbuf_str(msg, " fields, this helper needs ");
    pyl_sbuf_dec(msg, PYL_LAYOUT_NFIELDS);
    return PYL_ELAYOUT;
  }
  int rc = check_version(l, msg);
  if (rc != PYL_OK) {
    return rc;
  }
  for (unsigned i = 0; i < PYL_LAYOUT_NFIELDS; i++) {
    if (is_offset_field(field_names[i]) &&
        field(l, i) >= PYL_LAYOUT_MAX_OFFSET) {
      return bad_field(msg, l, i, "not a plausible offset");
    }
  }
  for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
    if (field(l, required[i]) == 0) {
      return bad_field(msg, l, required[i], "must not be 0");
    }
  }
  if (l->gc_list_count == 0 || l->gc_list_count > PYL_GC_LISTS_MAX) {
    return bad_field(msg, l, PYL_LF_gc_list_count, "must be 1..16");
  }
  for (unsigned i = 0; i < l->gc_list_count; i++) {
    uint64_t head = pyl_layout_gc_list(l, i);
    if (head == 0 || head % 8 != 0) {
      return bad_field(msg, l, PYL_LF_gc_list_0 + i,
                       "not a GC list head address");
    }
  }
  if (l->sizeof_gc_head != 16) {
    return bad_field(msg, l, PYL_LF_sizeof_gc_head, "must be 16");
  }
  if (l->long_digit_size != 2 && l->long_digit_size != 4) {
    return bad_field(msg, l, PYL_LF_long_digit_size, "must be 2 or 4");
  }
  if (l->unicode_kind_shift > 29 || l->unicode_compact_bit > 31 ||
      l->unicode_ascii_bit > 31) {
    return bad_field(msg, l, PYL_LF_unicode_kind_shift,
                     "str state bits out of range");
  }
  if (l->preheader_flags != 0 && l->preheader_size == 0) {
    return bad_field(msg, l, PYL_LF_preheader_size,
                     "must be set with preheader_flags");
  }
  return check_version_fields(l, msg);
}
