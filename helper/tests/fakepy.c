/* fakepy.c — building the fake heap. */
#include "fakepy.h"

#include "layout.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TPF_HEAPTYPE (1ull << 9)
#define TPF_HAVE_GC (1ull << 14)
#define TPF_LIST_SUBCLASS (1ull << 25)
#define TPF_TUPLE_SUBCLASS (1ull << 26)
#define TPF_DICT_SUBCLASS (1ull << 29)
#define TPF_TYPE_SUBCLASS (1ull << 31)

static int box_traverse(void *self, int (*visit)(void *, void *), void *arg) {
  struct fake_obj *o = self;
  for (int64_t i = 0; i < o->ob_size; i++) {
    if (o->items[i] != 0) {
      int r = visit((void *)(uintptr_t)o->items[i], arg);
      if (r != 0) {
        return r;
      }
    }
  }
  return 0;
}

static int list_traverse(void *self, int (*visit)(void *, void *), void *arg) {
  struct fake_list *o = self;
  for (int64_t i = o->ob_size; --i >= 0;) {
    if (o->ob_item[i] != 0) {
      int r = visit((void *)(uintptr_t)o->ob_item[i], arg);
      if (r != 0) {
        return r;
      }
    }
  }
  return 0;
}

/* 3.12's dict_traverse, general and unicode entries. */
static int dict_traverse(void *self, int (*visit)(void *, void *), void *arg) {
  struct fake_dict *d = self;
  struct fake_keys *k = d->ma_keys;
  int64_t n = k->dk_nentries;
  uint64_t *entries =
      (uint64_t *)(void *)((char *)k->dk_indices +
                           ((size_t)1 << k->dk_log2_index_bytes));
  for (int64_t i = 0; i < n; i++) {
    uint64_t key;
    uint64_t value;
    if (k->dk_kind == 0) {
      key = entries[3 * i + 1];
      value = entries[3 * i + 2];
    } else {
      key = entries[2 * i];
      value = d->ma_values != NULL ? d->ma_values[i] : entries[2 * i + 1];
    }
    if (value != 0) {
      int r = visit((void *)(uintptr_t)value, arg);
      if (r == 0 && k->dk_kind == 0) {
        r = visit((void *)(uintptr_t)key, arg);
      }
      if (r != 0) {
        return r;
      }
    }
  }
  return 0;
}

static int set_traverse(void *self, int (*visit)(void *, void *), void *arg) {
  struct fake_set *s = self;
  for (int64_t i = 0; i <= s->mask; i++) {
    if (s->table[i].key != 0) {
      int r = visit((void *)(uintptr_t)s->table[i].key, arg);
      if (r != 0) {
        return r;
      }
    }
  }
  return 0;
}

static int maybe_is_gc(void *self) {
  return ((struct fake_obj *)self)->ob_size != 0;
}

static void init_type(struct fakepy *f, struct fake_type *t, const char *name,
                      int64_t basicsize, int64_t itemsize, uint64_t flags) {
  memset(t, 0, sizeof(*t));
  t->ob_refcnt = 1;
  t->ob_type = &f->meta;
  t->tp_name = name;
  t->tp_basicsize = basicsize;
  t->tp_itemsize = itemsize;
  t->tp_flags = flags;
  t->tp_base = &f->object;
  if (flags & TPF_HAVE_GC) {
    t->tp_traverse = box_traverse;
  }
}

void fakepy_init(struct fakepy *f) {
  memset(f, 0, sizeof(*f));
  init_type(f, &f->meta, "type", (int64_t)sizeof(struct fake_type), 0,
            TPF_TYPE_SUBCLASS);
  init_type(f, &f->object, "object", 16, 0, 0);
  f->object.tp_base = NULL;
  init_type(f, &f->box, "box", 24, 8, TPF_HAVE_GC);
  init_type(f, &f->leaf, "leaf", 16, 0, 0);
  init_type(f, &f->a_foo, "a.Foo", 24, 8, TPF_HAVE_GC);
  init_type(f, &f->b_foo, "b.Foo", 24, 8, TPF_HAVE_GC);
  init_type(f, &f->maybe, "maybe", 24, 8, TPF_HAVE_GC);
  f->maybe.tp_is_gc = maybe_is_gc;
  init_type(f, &f->list, "list", (int64_t)sizeof(struct fake_list), 0,
            TPF_HAVE_GC | TPF_LIST_SUBCLASS);
  f->list.tp_traverse = list_traverse;
  init_type(f, &f->tuple, "tuple", 24, 8, TPF_HAVE_GC | TPF_TUPLE_SUBCLASS);
  init_type(f, &f->dict, "dict", (int64_t)sizeof(struct fake_dict), 0,
            TPF_HAVE_GC | TPF_DICT_SUBCLASS);
  f->dict.tp_traverse = dict_traverse;
  init_type(f, &f->set, "set", (int64_t)sizeof(struct fake_set), 0,
            TPF_HAVE_GC);
  f->set.tp_traverse = set_traverse;
  for (int i = 0; i < 4; i++) {
    f->lists[i].next = (uint64_t)(uintptr_t)&f->lists[i];
    f->lists[i].prev = (uint64_t)(uintptr_t)&f->lists[i];
  }
}

#define OFF(field) offsetof(struct fake_type, field)

void fakepy_layout(struct fakepy *f, struct pyl_layout *L) {
  memset(L, 0, sizeof(*L));
  L->magic = PYL_LAYOUT_MAGIC;
  L->nfields = PYL_LAYOUT_NFIELDS;
  L->py_version_hex = 0x030c01f0;
  L->gc_list_count = 4;
  L->gc_list_0 = (uint64_t)(uintptr_t)&f->lists[0];
  L->gc_list_1 = (uint64_t)(uintptr_t)&f->lists[1];
  L->gc_list_2 = (uint64_t)(uintptr_t)&f->lists[2];
  L->gc_list_3 = (uint64_t)(uintptr_t)&f->lists[3];
  L->gc_collecting_addr = (uint64_t)(uintptr_t)&f->collecting;
  L->sizeof_gc_head = 16;
  L->ob_refcnt_off = 0;
  L->ob_type_off = 8;
  L->ob_size_off = 16;
  L->tp_name_off = OFF(tp_name);
  L->tp_basicsize_off = OFF(tp_basicsize);
  L->tp_itemsize_off = OFF(tp_itemsize);
  L->tp_flags_off = OFF(tp_flags);
  L->tp_traverse_off = OFF(tp_traverse);
  L->tp_is_gc_off = OFF(tp_is_gc);
  L->tp_base_off = OFF(tp_base);
  L->tp_dict_off = OFF(tp_dict);
  L->ht_qualname_off = OFF(ht_qualname);
  L->tp_members_off = OFF(tp_members);
  L->preheader_flags = (1 << 4) | (1 << 3);
  L->preheader_size = 16;
  /* 3.12 values for the rest: not used by the fake types but checked. */
  L->unicode_length_off = 16;
  L->unicode_state_off = 32;
  L->unicode_kind_shift = 2;
  L->unicode_compact_bit = 5;
  L->unicode_ascii_bit = 6;
  L->sizeof_ascii_object = 40;
  L->sizeof_compact_unicode = 56;
  L->unicode_utf8_off = 40;
  L->unicode_utf8_length_off = 48;
  L->unicode_data_off = 56;
  L->long_lv_tag_off = 16;
  L->long_digit_size = 4;
  L->dict_ma_used_off = 16;
  L->dict_ma_keys_off = 32;
  L->dict_ma_values_off = 40;
  L->dk_refcnt_off = 0;
  L->dk_log2_size_off = 8;
  L->dk_log2_index_bytes_off = 9;
  L->dk_kind_off = 10;
  L->dk_usable_off = 16;
  L->dk_nentries_off = 24;
  L->dk_indices_off = 32;
  L->sizeof_dict_keys = 32;
  L->list_ob_item_off = 24;
  L->list_allocated_off = 32;
  L->tuple_ob_item_off = 24;
  L->set_mask_off = 32;
  L->set_table_off = 40;
  L->set_smalltable_off = 64;
  L->sizeof_setentry = 16;
  L->bytearray_alloc_off = 24;
  /* Builtin addresses nothing in the fake heap is an instance of. */
  static uint64_t elsewhere[16];
  uint64_t *builtins[] = {
      &L->str_type,   &L->int_type,       &L->bool_type,      &L->float_type,
      &L->bytes_type, &L->bytearray_type, &L->tuple_type,     &L->list_type,
      &L->dict_type,  &L->set_type,       &L->frozenset_type, &L->module_type,
      &L->none_object};
  for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
    *builtins[i] = (uint64_t)(uintptr_t)&elsewhere[i];
  }
  L->type_type = (uint64_t)(uintptr_t)&f->meta;
  L->object_type = (uint64_t)(uintptr_t)&f->object;
}

struct fake_obj *fakepy_leaf(struct fakepy *f) {
  struct fake_obj *o = aligned_alloc(16, sizeof(struct fake_obj) + 8);
  memset(o, 0, sizeof(struct fake_obj) + 8);
  o->ob_refcnt = 1;
  o->ob_type = &f->leaf;
  return o;
}

static void track(struct fake_gc *head, struct fake_gc *g) {
  struct fake_gc *last = (struct fake_gc *)(uintptr_t)head->prev;
  g->next = (uint64_t)(uintptr_t)head;
  g->prev = (uint64_t)(uintptr_t)last | 1; /* flag bits must be masked */
  last->next = (uint64_t)(uintptr_t)g;
  head->prev = (uint64_t)(uintptr_t)g;
}

struct fake_obj *fakepy_box(struct fakepy *f, struct fake_type *t, int64_t n,
                            int list) {
  size_t size = sizeof(struct fake_gc) + sizeof(struct fake_obj) +
                (size_t)n * sizeof(uint64_t);
  unsigned char *mem = aligned_alloc(16, (size + 15) / 16 * 16);
  memset(mem, 0, size);
  struct fake_gc *g = (struct fake_gc *)(void *)mem;
  struct fake_obj *o = (struct fake_obj *)(void *)(mem + sizeof(*g));
  o->ob_refcnt = 1;
  o->ob_type = t;
  o->ob_size = n;
  if (list >= 0) {
    track(&f->lists[list], g);
  }
  return o;
}

struct fake_gc *fakepy_gc(struct fake_obj *o) {
  return (struct fake_gc *)(void *)((unsigned char *)o -
                                    sizeof(struct fake_gc));
}

void fakepy_builtins(struct fakepy *f, struct pyl_layout *L) {
  L->list_type = (uint64_t)(uintptr_t)&f->list;
  L->tuple_type = (uint64_t)(uintptr_t)&f->tuple;
  L->dict_type = (uint64_t)(uintptr_t)&f->dict;
  L->set_type = (uint64_t)(uintptr_t)&f->set;
}

void *fakepy_gc_new(struct fakepy *f, struct fake_type *t, size_t size,
                    int list) {
  size_t total = (sizeof(struct fake_gc) + size + 15) / 16 * 16;
  unsigned char *mem = aligned_alloc(16, total);
  memset(mem, 0, total);
  struct fake_gc *g = (struct fake_gc *)(void *)mem;
  struct fake_obj *o = (struct fake_obj *)(void *)(mem + sizeof(*g));
  o->ob_refcnt = 1;
  o->ob_type = t;
  if (list >= 0) {
    track(&f->lists[list], g);
  }
  return o;
}

struct fake_list *fakepy_list(struct fakepy *f, int64_t n, int list) {
  struct fake_list *l = fakepy_gc_new(f, &f->list, sizeof(*l), list);
  l->ob_size = n;
  l->allocated = n;
  if (n > 0) {
    l->ob_item = aligned_alloc(16, ((size_t)n * 8 + 15) / 16 * 16);
    memset(l->ob_item, 0, (size_t)n * 8);
  }
  return l;
}

struct fake_obj *fakepy_tuple(struct fakepy *f, int64_t n, int list) {
  struct fake_obj *t =
      fakepy_gc_new(f, &f->tuple, sizeof(*t) + (size_t)n * 8, list);
  t->ob_size = n;
  return t;
}

struct fake_set *fakepy_set(struct fakepy *f, const uint64_t *keys, int n,
                            int list) {
  struct fake_set *s = fakepy_gc_new(f, &f->set, sizeof(*s), list);
  s->mask = 7;
  s->table = s->smalltable;
  for (int i = 0; i < n && i < 8; i++) {
    s->table[(i * 5 + 1) & 7].key = keys[i];
  }
  s->fill = s->used = n;
  return s;
}

struct fake_dict *fakepy_dict(struct fakepy *f, const uint64_t *keys,
                              const uint64_t *values, int n, int list) {
  enum { LOG2 = 3, SLOTS = 1 << LOG2, ENTRY_WORDS = 3 };
  struct fake_dict *d = fakepy_gc_new(f, &f->dict, sizeof(*d), list);
  size_t size = sizeof(struct fake_keys) + SLOTS + 5 * ENTRY_WORDS * 8;
  struct fake_keys *k = aligned_alloc(16, (size + 15) / 16 * 16);
  memset(k, 0, size);
  k->dk_refcnt = 1;
  k->dk_log2_size = LOG2;
  k->dk_log2_index_bytes = LOG2;
  k->dk_kind = 0;
  k->dk_nentries = n;
  k->dk_usable = (SLOTS << 1) / 3 - n;
  uint64_t *entries = (uint64_t *)(void *)((char *)k->dk_indices + SLOTS);
  for (int i = 0; i < n && i < 5; i++) {
    entries[ENTRY_WORDS * i] = (uint64_t)i; /* the hash */
    entries[ENTRY_WORDS * i + 1] = keys[i];
    entries[ENTRY_WORDS * i + 2] = values[i];
  }
  d->ma_keys = k;
  d->ma_used = n;
  return d;
}

const struct pyl_census_row *fakepy_census_row(const struct pyl_result *r,
                                               const char *name) {
  const struct pyl_census_row *rows =
      (const struct pyl_census_row *)(uintptr_t)r->rows_addr;
  for (uint64_t i = 0; i < r->n_rows; i++) {
    if (strcmp((const char *)(uintptr_t)r->strings_addr + rows[i].name_off,
               name) == 0) {
      return &rows[i];
    }
  }
  return NULL;
}
