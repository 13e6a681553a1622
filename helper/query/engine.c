/* engine.c — the helper's single context and the life of its graph. */
#define _GNU_SOURCE
#include "engine.h"

#include "control.h"
#include "walk.h"

enum {
  PYL_ARG_SIZE = 4096,
  PYL_MAX_OBJS = 1u << 29, /* first try; halved under RLIMIT_AS */
  PYL_MIN_OBJS = 1u << 20,
  PYL_EDGES_PER_OBJ = 4,    /* reservation only; commit follows use */
  PYL_SCRATCH_PER_OBJ = 40, /* objects rows (32) and sort keys */
  PYL_WORK_RESERVE = 64 * 1024 * 1024,
  PYL_ARENA_FLOOR = 1 << 20,
};

static struct pyl_ctx ctx = {.h = {.v = &ctx.v}};
static struct pyl_result result;
static char arg_buf[PYL_ARG_SIZE];

PYL_EXPORT uint64_t pyl_arg_addr(void) { return (uint64_t)(uintptr_t)arg_buf; }
PYL_EXPORT uint64_t pyl_arg_size(void) { return sizeof(arg_buf); }

const char *pyl_call_arg(void) {
  arg_buf[sizeof(arg_buf) - 1] = '\0';
  return arg_buf;
}

static void release_all(struct pyl_ctx *c) {
  pyl_objtab_release(&c->h.tab);
  pyl_vec_release(&c->h.v_size);
  pyl_csr_release(&c->h.csr);
  pyl_types_release(&c->v.types);
  pyl_names_release(&c->v.names);
  pyl_arena_release(&c->h.work);
  pyl_arena_release(&c->v.scratch);
  pyl_rev_release(&c->h.rev);
  pyl_roots_release(&c->roots);
  pyl_arena_release(&c->qstr);
  pyl_arena_release(&c->a_dom);
  pyl_ids_forget();
  c->have_dom = false;
  pyl_mem_release(&c->v.mem);
  c->reserved = false;
  c->have_graph = false;
}

/* Address space for the largest heap the kernel lets us plan for. */
static bool reserve_all(struct pyl_ctx *c) {
  if (c->reserved) {
    return true;
  }
  for (uint32_t max = PYL_MAX_OBJS; max >= PYL_MIN_OBJS; max /= 2) {
    if (pyl_objtab_init(&c->h.tab, max) && pyl_heap_init_sizes(&c->h, max) &&
        pyl_csr_init(&c->h.csr, max, (uint64_t)max * PYL_EDGES_PER_OBJ) &&
        pyl_types_init(&c->v.types) && pyl_names_init(&c->v.names) &&
        pyl_arena_reserve(&c->h.work, PYL_WORK_RESERVE, PYL_ARENA_FLOOR) &&
        pyl_arena_reserve(&c->v.scratch, (size_t)max * PYL_SCRATCH_PER_OBJ,
                          PYL_ARENA_FLOOR)) {
      c->reserved = true;
      return true;
    }
    release_all(c);
  }
  return false;
}

/* Drop the graph; keep the reservations. */
static void clear_graph(struct pyl_ctx *c) {
  if (!c->reserved) {
    return;
  }
  pyl_objtab_clear(&c->h.tab);
  pyl_vec_clear(&c->h.v_size);
  pyl_csr_clear(&c->h.csr);
  pyl_types_clear(&c->v.types);
  pyl_names_clear(&c->v.names);
  pyl_arena_decommit(&c->h.work);
  pyl_arena_decommit(&c->v.scratch);
  pyl_rev_clear(&c->h.rev);
  pyl_roots_clear(&c->roots);
  pyl_arena_decommit(&c->qstr);
  pyl_arena_decommit(&c->a_dom);
  c->have_dom = false;
  pyl_arena_decommit(&c->v.mem.maps.arena);
  c->have_graph = false;
  c->h.total_bytes = 0;
  c->h.n_gc_tracked = 0;
  c->v.n_warnings = 0;
  c->walk_ns = 0;
  c->v.warning[0] = '\0';
}

/* The bytes of a type object the helper reads (type validation). */
static uint64_t type_extent(const struct pyl_layout *L) {
  const uint64_t offs[] = {L->ob_type_off,      L->tp_name_off,
                           L->tp_basicsize_off, L->tp_itemsize_off,
                           L->tp_flags_off,     L->tp_traverse_off,
                           L->tp_is_gc_off,     L->tp_base_off,
                           L->tp_dict_off,      L->tp_members_off};
  uint64_t max = 0;
  for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
    max = offs[i] > max ? offs[i] : max;
  }
  return max + sizeof(uint64_t);
}

void pyl_call_fail(struct pyl_call *call, int status, const char *why) {
  if (call->status == PYL_OK) {
    call->status = status;
    pyl_sbuf_str(&call->msg, why);
  }
}

void pyl_call_begin(struct pyl_call *call) {
  call->t0 = pyl_now_ns();
  pyl_control_reset();
  call->c = &ctx;
  call->res = &result;
  __builtin_memset(&result, 0, sizeof(result));
  result.magic = PYL_RESULT_MAGIC;
  pyl_sbuf_init(&call->msg, result.message, sizeof(result.message));
  call->status = pyl_layout_check(pyl_layout_store(), &call->msg);
  if (call->status != PYL_OK) {
    return;
  }
  ctx.v.L = pyl_layout_store();
  ctx.v.type_extent = type_extent(ctx.v.L);
  if (ctx.reserved) {
    pyl_arena_reset(&ctx.v.scratch);
  }
}

void pyl_call_graph(struct pyl_call *call, uint64_t flags) {
  struct pyl_ctx *c = call->c;
  if (call->status != PYL_OK) {
    return;
  }
  if (c->have_graph) {
    call->res->graph_reused = 1;
    return;
  }
  if (!reserve_all(c)) {
    pyl_call_fail(call, PYL_ENOMEM, "cannot reserve helper address space");
    return;
  }
  clear_graph(c);
  if (!pyl_mem_open(&c->v.mem)) {
    pyl_call_fail(call, PYL_ENOMEM, "cannot read /proc/self/maps");
    return;
  }
  uint64_t t = pyl_now_ns();
  call->status = pyl_walk(&c->h, flags, &call->msg);
  c->walk_ns = pyl_now_ns() - t;
  if (call->status == PYL_OK && !pyl_names_build(&c->v)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for type names");
  }
  if (call->status != PYL_OK) {
    clear_graph(c);
    return;
  }
  c->have_graph = true;
}

uint64_t pyl_call_end(struct pyl_call *call, uint64_t kind) {
  struct pyl_ctx *c = call->c;
  struct pyl_result *r = call->res;
  r->status = call->status;
  r->kind = call->status == PYL_OK ? kind : PYL_RESULT_STATUS;
  if (c->have_graph) {
    r->total_objects = c->h.tab.n;
    r->total_bytes = c->h.total_bytes;
    r->n_gc_tracked = c->h.n_gc_tracked;
    r->n_edges = c->h.csr.n_edges;
    r->n_types = c->v.types.n;
    r->n_warnings = c->v.n_warnings;
    r->walk_ns = c->walk_ns;
    if (call->status == PYL_OK) {
      pyl_sbuf_str(&call->msg, c->v.warning);
    }
  }
  if (call->status != PYL_OK) {
    r->n_rows = 0;
    r->rows_addr = 0;
  }
  r->mapped_bytes = pyl_arena_mapped_now();
  r->peak_mapped_bytes = pyl_arena_mapped_peak();
  r->call_ns = pyl_now_ns() - call->t0;
  return (uint64_t)(uintptr_t)r;
}

PYL_EXPORT uint64_t pyl_invalidate(void) {
  struct pyl_call call;
  pyl_call_begin(&call);
  call.status = PYL_OK; /* dropping the graph needs no layout */
  call.msg.len = 0;
  call.msg.p[0] = '\0';
  clear_graph(&ctx);
  return pyl_call_end(&call, PYL_RESULT_STATUS);
}

PYL_EXPORT uint64_t pyl_release(void) {
  struct pyl_call call;
  pyl_call_begin(&call);
  call.status = PYL_OK;
  call.msg.len = 0;
  call.msg.p[0] = '\0';
  release_all(&ctx);
  return pyl_call_end(&call, PYL_RESULT_STATUS);
}

PYL_EXPORT uint64_t pyl_control_attach(uint64_t ctl_addr) {
  pyl_control_set(ctl_addr);
  return ctl_addr != 0;
}
