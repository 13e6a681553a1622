/* identity.c — object identities, for py-leaks --save and --new.
 *
 * An object's identity is its address and its type object's address: an
 * address the allocator gave to an object of another type since is
 * another object.  pyl_ids lists the identities of the whole graph sorted
 * by address, one buffer gdb reads in bulk and stores next to a snapshot;
 * pyl_ids_buffer lends gdb a buffer to write such a list back into, and
 * pyl_ids_new merges it with the current graph: the objects alive now that
 * the list does not have, by type name, as census rows.
 *
 * Sorting is a radix sort of one 64-bit key per object, the address's 44
 * significant bits (objtab.h) above a 20-bit type id, so the sorted keys
 * need no second array of types, and the whole sort needs 16 bytes per
 * object: the keys and the radix sort's other half.  That same 16 bytes
 * per object then holds the rows gdb reads, expanded in place.
 */
#include "control.h"
#include "engine.h"
#include "referents.h"
#include "sizes.h"
#include "sort.h"

enum {
  ID_TYPE_BITS = 20,
  ID_RADIX_BITS = 11,
  ID_RADIX = 1 << ID_RADIX_BITS,
  ID_PASSES = 4, /* 4 * 11 = 44 address bits above the type id */
  ID_ADDR_SHIFT = 3,
};

#define ID_TYPE_MASK ((1ull << ID_TYPE_BITS) - 1)

/* The list gdb wrote for pyl_ids_new: its own mapping, from
 * pyl_ids_buffer() to the end of the next pyl_ids_new(). */
static struct pyl_arena old_ids;

void pyl_ids_forget(void) { pyl_arena_release(&old_ids); }

static uint64_t id_key(uint64_t addr, uint32_t type_id) {
  return (addr >> ID_ADDR_SHIFT) << ID_TYPE_BITS | type_id;
}

static uint64_t key_addr(uint64_t key) {
  return (key >> ID_TYPE_BITS) << ID_ADDR_SHIFT;
}

static uint32_t key_type(uint64_t key) {
  return (uint32_t)(key & ID_TYPE_MASK);
}

static bool stopped(struct pyl_call *call) {
  if (pyl_control_tick()) {
    return false;
  }
  pyl_call_fail(call, PYL_EABORTED, pyl_control_why());
  return true;
}

/* The digit of pass p (0 = least significant) of a key. */
static unsigned digit(uint64_t key, unsigned p) {
  return (unsigned)(key >> (ID_TYPE_BITS + p * ID_RADIX_BITS)) & (ID_RADIX - 1);
}

/* Least significant digit first, ID_PASSES passes (an even number, so the
 * sorted keys end up back in keys).  hist: a counter per pass and digit.
 * False when the call was told to stop. */
static bool radix_sort(struct pyl_call *call, uint64_t *keys, uint64_t *tmp,
                       uint64_t n, uint64_t (*hist)[ID_RADIX]) {
  __builtin_memset(hist, 0, sizeof(uint64_t[ID_PASSES][ID_RADIX]));
  for (uint64_t i = 0; i < n; i++) {
    if (stopped(call)) {
      return false;
    }
    for (unsigned p = 0; p < ID_PASSES; p++) {
      hist[p][digit(keys[i], p)]++;
    }
  }
  for (unsigned p = 0; p < ID_PASSES; p++) {
    uint64_t sum = 0;
    for (unsigned d = 0; d < ID_RADIX; d++) {
      uint64_t c = hist[p][d];
      hist[p][d] = sum;
      sum += c;
    }
  }
  uint64_t *src = keys;
  uint64_t *dst = tmp;
  for (unsigned p = 0; p < ID_PASSES; p++) {
    for (uint64_t i = 0; i < n; i++) {
      if (stopped(call)) {
        return false;
      }
      dst[hist[p][digit(src[i], p)]++] = src[i];
    }
    uint64_t *t = src;
    src = dst;
    dst = t;
  }
  return true;
}

/* The graph's identity keys sorted by address, in scratch memory of 16
 * bytes per object (the keys first); NULL on failure (the call says
 * why). */
static uint64_t *sorted_keys(struct pyl_call *call) {
  struct pyl_ctx *c = call->c;
  uint64_t n = c->h.tab.n;
  if (c->v.types.n > ID_TYPE_MASK) {
    pyl_call_fail(call, PYL_EINVAL, "too many types for object identities");
    return NULL;
  }
  uint64_t *keys =
      pyl_arena_alloc(&c->v.scratch, sizeof(uint64_t) * 2 * (n + 1), 64);
  uint64_t(*hist)[ID_RADIX] =
      pyl_arena_alloc(&c->v.scratch, sizeof(uint64_t[ID_PASSES][ID_RADIX]), 64);
  if (keys == NULL || hist == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for identities");
    return NULL;
  }
  for (uint64_t i = 0; i < n; i++) {
    keys[i] = id_key(c->h.tab.addr[i], c->h.tab.type[i]);
  }
  return radix_sort(call, keys, keys + n, n, hist) ? keys : NULL;
}

static void id_rows(struct pyl_call *call) {
  struct pyl_ctx *c = call->c;
  uint64_t n = c->h.tab.n;
  uint64_t *keys = sorted_keys(call);
  if (keys == NULL) {
    return;
  }
  /* Backwards, row i (words 2i, 2i+1) only overwrites keys i and up,
   * which are read already. */
  struct pyl_id_row *rows = (struct pyl_id_row *)(void *)keys;
  for (uint64_t i = n; i-- > 0;) {
    uint64_t key = keys[i];
    rows[i] =
        (struct pyl_id_row){.address = key_addr(key),
                            .type_addr = c->v.types.rec[key_type(key)].addr};
  }
  struct pyl_result *r = call->res;
  r->n_rows = n;
  r->n_rows_total = n;
  r->rows_addr = (uint64_t)(uintptr_t)rows;
  r->row_size = sizeof(*rows);
}

PYL_EXPORT uint64_t pyl_ids(uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags);
  if (call.status == PYL_OK) {
    id_rows(&call);
  }
  return pyl_call_end(&call, PYL_RESULT_IDS);
}

PYL_EXPORT uint64_t pyl_ids_buffer(uint64_t n_rows) {
  pyl_arena_release(&old_ids);
  if (n_rows == 0 || n_rows > (uint64_t)SIZE_MAX / sizeof(struct pyl_id_row)) {
    return 0;
  }
  size_t bytes = (size_t)n_rows * sizeof(struct pyl_id_row);
  if (!pyl_arena_reserve(&old_ids, bytes, bytes) ||
      !pyl_arena_commit_exact(&old_ids, bytes)) {
    pyl_arena_release(&old_ids);
    return 0;
  }
  return (uint64_t)(uintptr_t)old_ids.base;
}

/* What pyl_ids_new adds up per census row, and the order of its rows. */
struct new_rows {
  const struct pyl_names *names;
  uint64_t *count;
  uint64_t *bytes;
};

/* Most new objects first, then by name. */
static int by_new_count(uint32_t a, uint32_t b, const void *arg) {
  const struct new_rows *o = arg;
  if (o->count[a] != o->count[b]) {
    return o->count[a] > o->count[b] ? -1 : 1;
  }
  return pyl_strcmp(o->names->rows[a].name, o->names->rows[b].name);
}

/* Count the objects of keys[] (sorted) that old[] (sorted) lacks into
 * acc, per census row; info gets the totals.  False on a stop or an
 * unsorted old list (the call says which). */
static bool merge_new(struct pyl_call *call, const uint64_t *keys,
                      const struct pyl_id_row *old, uint64_t m,
                      struct new_rows *acc, struct pyl_ids_info *info) {
  struct pyl_ctx *c = call->c;
  uint64_t n = c->h.tab.n;
  uint64_t j = 0;
  uint64_t matched = 0;
  for (uint64_t i = 0; i < n; i++) {
    if (stopped(call)) {
      return false;
    }
    uint64_t addr = key_addr(keys[i]);
    const struct pyl_type *ty = &c->v.types.rec[key_type(keys[i])];
    for (; j < m && old[j].address < addr; j++) {
      if (j > 0 && old[j].address < old[j - 1].address) {
        pyl_call_fail(call, PYL_EINVAL, "the old identities are not sorted");
        return false;
      }
    }
    if (j < m && old[j].address == addr && old[j].type_addr == ty->addr) {
      matched++;
      continue;
    }
    uint64_t size =
        pyl_object_size(&c->v, ty, addr, pyl_object_is_gc(ty, addr));
    acc->count[ty->row]++;
    acc->bytes[ty->row] += size;
    info->new_objects++;
    info->new_bytes += size;
  }
  info->old_objects = m;
  info->gone_objects = m - matched;
  return true;
}

/* Census rows of acc's rows with new objects, most first, all of them. */
static void new_census_rows(struct pyl_call *call, struct new_rows *acc) {
  struct pyl_ctx *c = call->c;
  const struct pyl_names *names = &c->v.names;
  uint32_t *idx =
      pyl_arena_alloc(&c->v.scratch, sizeof(uint32_t) * (names->n_rows + 1), 8);
  uint32_t *tmp =
      pyl_arena_alloc(&c->v.scratch, sizeof(uint32_t) * (names->n_rows + 1), 8);
  if (idx == NULL || tmp == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the rows");
    return;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < names->n_rows; i++) {
    if (acc->count[i] > 0) {
      idx[n++] = i;
    }
  }
  pyl_sort_u32(idx, tmp, n, by_new_count, acc);
  struct pyl_census_row *out = pyl_arena_alloc(
      &c->v.scratch, sizeof(*out) * (n + 1), _Alignof(struct pyl_census_row));
  if (out == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the rows");
    return;
  }
  for (uint32_t i = 0; i < n; i++) {
    const struct pyl_name_row *row = &names->rows[idx[i]];
    out[i] = (struct pyl_census_row){.count = acc->count[idx[i]],
                                     .bytes = acc->bytes[idx[i]],
                                     .name_off = row->name_off,
                                     .type_addr = row->type_addr,
                                     .n_type_objects = row->n_types};
  }
  struct pyl_result *r = call->res;
  r->n_rows = n;
  r->n_rows_total = n;
  r->rows_addr = (uint64_t)(uintptr_t)out;
  r->row_size = sizeof(*out);
  r->strings_addr = (uint64_t)(uintptr_t)names->a_str.base;
  r->strings_size = names->a_str.used;
}

static struct pyl_ids_info ids_info;

static void new_rows(struct pyl_call *call, uint64_t n_old) {
  struct pyl_ctx *c = call->c;
  if (n_old > old_ids.committed / sizeof(struct pyl_id_row)) {
    pyl_call_fail(call, PYL_EINVAL, "no buffer of that many old identities");
    return;
  }
  uint64_t *keys = sorted_keys(call);
  if (keys == NULL) {
    return;
  }
  size_t per_row = sizeof(uint64_t) * (c->v.names.n_rows + 1);
  struct new_rows acc = {.names = &c->v.names,
                         .count = pyl_arena_alloc(&c->v.scratch, per_row, 8),
                         .bytes = pyl_arena_alloc(&c->v.scratch, per_row, 8)};
  if (acc.count == NULL || acc.bytes == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the rows");
    return;
  }
  /* Reset scratch memory may hold an earlier call's bytes. */
  __builtin_memset(acc.count, 0, per_row);
  __builtin_memset(acc.bytes, 0, per_row);
  const struct pyl_id_row *old =
      (const struct pyl_id_row *)(const void *)old_ids.base;
  if (!merge_new(call, keys, old, n_old, &acc, &ids_info)) {
    return;
  }
  new_census_rows(call, &acc);
  call->res->info_addr = (uint64_t)(uintptr_t)&ids_info;
  call->res->info_size = sizeof(ids_info);
}

PYL_EXPORT uint64_t pyl_ids_new(uint64_t n_old, uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  __builtin_memset(&ids_info, 0, sizeof(ids_info));
  pyl_call_graph(&call, flags);
  if (call.status == PYL_OK) {
    uint64_t t = pyl_now_ns();
    new_rows(&call, n_old);
    ids_info.merge_ns = pyl_now_ns() - t;
  }
  /* The old list has served: nothing of it stays in the target. */
  pyl_arena_release(&old_ids);
  return pyl_call_end(&call, PYL_RESULT_CENSUS);
}
