/* census.c — pyl_census: rows by type name, sorted, truncated. */
#include "engine.h"
#include "sort.h"

struct order {
  const struct pyl_name_row *rows;
  uint64_t key;
};

/* Descending by the key, then ascending by name. */
static int by_key(uint32_t a, uint32_t b, const void *arg) {
  const struct order *o = arg;
  const struct pyl_name_row *x = &o->rows[a];
  const struct pyl_name_row *y = &o->rows[b];
  uint64_t vx = o->key == PYL_SORT_BYTES ? x->bytes : x->count;
  uint64_t vy = o->key == PYL_SORT_BYTES ? y->bytes : y->count;
  if (vx != vy) {
    return vx > vy ? -1 : 1;
  }
  return pyl_strcmp(x->name, y->name);
}

static void census_rows(struct pyl_call *call, uint64_t sort_key,
                        uint64_t top_n) {
  struct pyl_ctx *c = call->c;
  struct pyl_names *names = &c->v.names;
  uint32_t n = 0;
  uint32_t *idx =
      pyl_arena_alloc(&c->v.scratch, sizeof(uint32_t) * (names->n_rows + 1), 8);
  uint32_t *tmp =
      pyl_arena_alloc(&c->v.scratch, sizeof(uint32_t) * (names->n_rows + 1), 8);
  if (idx == NULL || tmp == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the census");
    return;
  }
  for (uint32_t i = 0; i < names->n_rows; i++) {
    if (names->rows[i].count > 0) {
      idx[n++] = i;
    }
  }
  struct order o = {.rows = names->rows, .key = sort_key};
  pyl_sort_u32(idx, tmp, n, by_key, &o);
  uint64_t n_out = top_n != 0 && top_n < n ? top_n : n;
  struct pyl_census_row *out =
      pyl_arena_alloc(&c->v.scratch, sizeof(*out) * (n_out + 1),
                      _Alignof(struct pyl_census_row));
  if (out == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the census");
    return;
  }
  for (uint64_t i = 0; i < n_out; i++) {
    const struct pyl_name_row *row = &names->rows[idx[i]];
    out[i] = (struct pyl_census_row){.count = row->count,
                                     .bytes = row->bytes,
                                     .name_off = row->name_off,
                                     .type_addr = row->type_addr,
                                     .n_type_objects = row->n_types};
  }
  struct pyl_result *r = call->res;
  r->n_rows = n_out;
  r->n_rows_total = n;
  r->rows_addr = (uint64_t)(uintptr_t)out;
  r->row_size = sizeof(*out);
  r->strings_addr = (uint64_t)(uintptr_t)names->a_str.base;
  r->strings_size = names->a_str.used;
}

PYL_EXPORT uint64_t pyl_census(uint64_t sort_key, uint64_t top_n,
                               uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  if (sort_key != PYL_SORT_COUNT && sort_key != PYL_SORT_BYTES) {
    pyl_call_fail(&call, PYL_EINVAL, "unknown sort key");
  }
  pyl_call_graph(&call, flags);
  if (call.status == PYL_OK) {
    census_rows(&call, sort_key, top_n);
  }
  return pyl_call_end(&call, PYL_RESULT_CENSUS);
}
