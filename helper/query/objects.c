/* objects.c — pyl_objects: the objects whose type has a given name. */
#include "control.h"
#include "engine.h"
#include "query.h"
#include "referents.h"
#include "sizes.h"

enum {
  PYL_MAX_CANDIDATES = 64,
};

static void no_such_type(struct pyl_call *call, const char *want) {
  pyl_call_fail(call, PYL_ENOTYPE, "no live object of type '");
  pyl_sbuf_str(&call->msg, want);
  pyl_sbuf_str(&call->msg, "'");
}

/* The qualified name itself, else the one row whose types have it as
 * qualname or last component. */
uint32_t pyl_q_type_row(struct pyl_call *call, const char *want) {
  struct pyl_ctx *c = call->c;
  const struct pyl_names *names = &c->v.names;
  if (want[0] == '\0') {
    pyl_call_fail(call, PYL_EINVAL, "no type name given");
    return UINT32_MAX;
  }
  for (uint32_t i = 0; i < names->n_rows; i++) {
    if (names->rows[i].count > 0 && pyl_streq(names->rows[i].name, want)) {
      return i;
    }
  }
  uint32_t found[PYL_MAX_CANDIDATES];
  uint32_t n_found = 0;
  uint32_t n_more = 0;
  for (uint32_t t = 0; t < c->v.types.n; t++) {
    const struct pyl_type *ty = &c->v.types.rec[t];
    if (ty->row == UINT32_MAX || ty->count == 0) {
      continue;
    }
    const char *name = pyl_names_str(names, ty->name_off);
    if (!pyl_streq(pyl_names_str(names, ty->qualname_off), want) &&
        !pyl_streq(pyl_last_component(name), want)) {
      continue;
    }
    bool seen = false;
    for (uint32_t k = 0; k < n_found; k++) {
      seen = seen || found[k] == ty->row;
    }
    if (!seen && n_found < PYL_MAX_CANDIDATES) {
      found[n_found++] = ty->row;
    } else if (!seen) {
      n_more++;
    }
  }
  if (n_found == 0) {
    no_such_type(call, want);
    return UINT32_MAX;
  }
  if (n_found > 1) {
    pyl_call_fail(call, PYL_EAMBIGUOUS, "'");
    pyl_sbuf_str(&call->msg, want);
    pyl_sbuf_str(&call->msg, "' matches several types:");
    for (uint32_t k = 0; k < n_found; k++) {
      pyl_sbuf_str(&call->msg, k == 0 ? " " : ", ");
      pyl_sbuf_str(&call->msg, names->rows[found[k]].name);
    }
    if (n_more > 0) {
      pyl_sbuf_str(&call->msg, ", ...");
    }
    return UINT32_MAX;
  }
  return found[0];
}

static void object_rows(struct pyl_call *call, uint64_t limit) {
  struct pyl_ctx *c = call->c;
  uint32_t row = pyl_q_type_row(call, pyl_call_arg());
  if (row == UINT32_MAX) {
    return;
  }
  uint8_t *wanted = pyl_arena_alloc(&c->v.scratch, (size_t)c->v.types.n + 1, 8);
  if (wanted == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the rows");
    return;
  }
  for (uint32_t t = 0; t < c->v.types.n; t++) {
    wanted[t] = c->v.types.rec[t].row == row;
  }
  struct pyl_object_row *out =
      (struct pyl_object_row *)(void *)(c->v.scratch.base +
                                        ((c->v.scratch.used + 63) &
                                         ~(size_t)63));
  size_t out_off = (size_t)((unsigned char *)out - c->v.scratch.base);
  uint64_t n_out = 0;
  uint64_t total = 0;
  const uint32_t *type = c->h.tab.type;
  for (uint32_t i = 0; i < c->h.tab.n; i++) {
    if (!pyl_control_tick()) {
      pyl_call_fail(call, PYL_EABORTED, pyl_control_why());
      return;
    }
    if (!wanted[type[i]]) {
      continue;
    }
    total++;
    if (limit != 0 && n_out >= limit) {
      continue;
    }
    if (!pyl_arena_commit(&c->v.scratch,
                          out_off + (n_out + 1) * sizeof(*out))) {
      pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the rows");
      return;
    }
    const struct pyl_type *ty = &c->v.types.rec[type[i]];
    uint64_t addr = c->h.tab.addr[i];
    out[n_out++] = (struct pyl_object_row){
        .address = addr,
        .type_addr = ty->addr,
        .size = pyl_object_size(&c->v, ty, addr, pyl_object_is_gc(ty, addr)),
        .name_off = ty->name_off};
  }
  c->v.scratch.used = out_off + n_out * sizeof(*out);
  struct pyl_result *r = call->res;
  r->n_rows = n_out;
  r->n_rows_total = total;
  r->rows_addr = n_out != 0 ? (uint64_t)(uintptr_t)out : 0;
  r->row_size = sizeof(*out);
  r->strings_addr = (uint64_t)(uintptr_t)c->v.names.a_str.base;
  r->strings_size = c->v.names.a_str.used;
}

PYL_EXPORT uint64_t pyl_objects(uint64_t limit, uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags);
  if (call.status == PYL_OK) {
    object_rows(&call, limit);
  }
  return pyl_call_end(&call, PYL_RESULT_OBJECTS);
}
