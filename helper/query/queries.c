/* queries.c — steps shared by the entry points that need roots or
 * labels (roots, chain, refs, backrefs, pick), and pyl_roots_list and
 * pyl_refs. */
#include "query.h"

#include "control.h"
#include "labels.h"
#include "referents.h"
#include "rev.h"
#include "roots.h"
#include "sizes.h"

enum {
  PYL_QSTR_PER_OBJ = 16, /* reservation for result strings, per object */
  PYL_ARENA_FLOOR = 1 << 20,
};

void pyl_qstr_begin(struct pyl_call *call, struct pyl_qstr *s) {
  struct pyl_ctx *c = call->c;
  s->a = &c->qstr;
  s->oom = false;
  s->empty = 0;
  if (s->a->base == NULL &&
      !pyl_arena_reserve(s->a, (size_t)c->h.tab.max_objs * PYL_QSTR_PER_OBJ,
                         PYL_ARENA_FLOOR)) {
    s->oom = true;
    return;
  }
  pyl_arena_reset(s->a);
  size_t n = c->v.names.a_str.used;
  char *p = pyl_arena_alloc(s->a, n + 1, 1);
  if (p == NULL) {
    s->oom = true;
    return;
  }
  __builtin_memcpy(p, c->v.names.a_str.base, n);
  p[n] = '\0';
  s->empty = n;
}

uint64_t pyl_qstr_add(struct pyl_qstr *s, const char *str) {
  size_t n = pyl_strlen(str);
  char *p = s->oom ? NULL : pyl_arena_alloc(s->a, n + 1, 1);
  if (p == NULL) {
    s->oom = true;
    return s->empty;
  }
  __builtin_memcpy(p, str, n + 1);
  return (uint64_t)(p - (char *)s->a->base);
}

void pyl_qstr_end(struct pyl_call *call, struct pyl_qstr *s) {
  if (s->oom) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the strings");
    return;
  }
  call->res->strings_addr = (uint64_t)(uintptr_t)s->a->base;
  call->res->strings_size = s->a->used;
}

void *pyl_q_scratch(struct pyl_call *call, size_t n, size_t size) {
  void *p = pyl_arena_alloc(&call->c->v.scratch, (n + 1) * size, 64);
  if (p == NULL) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the search");
  }
  return p;
}

uint32_t pyl_q_find(struct pyl_call *call, uint64_t addr) {
  struct pyl_ctx *c = call->c;
  uint32_t i = pyl_objtab_find(&c->h.tab, addr);
  if (i != PYL_NONE) {
    return i;
  }
  /* The message says which of the ways not to be an object it is. */
  pyl_call_fail(call, PYL_ENOTOBJECT, "");
  pyl_sbuf_hex(&call->msg, addr);
  pyl_sbuf_str(&call->msg, " is not a live Python object: ");
  if (addr == 0) {
    pyl_sbuf_str(&call->msg, "it is the null pointer");
  } else if (pyl_mem_ptr(&c->v.mem, addr, c->v.L->ob_type_off + 8) == NULL) {
    pyl_sbuf_str(&call->msg, "the target has no readable memory there");
  } else {
    pyl_sbuf_str(&call->msg,
                 "no object of the heap starts there (freed, inside an "
                 "object, not a Python object, or not reachable from the "
                 "GC lists)");
  }
  return PYL_NONE;
}

bool pyl_q_stopped(struct pyl_call *call) {
  if (pyl_control_tick()) {
    return false;
  }
  pyl_call_fail(call, PYL_EABORTED, pyl_control_why());
  return true;
}

/* Reverse edges, then roots (whose C-held residue needs the graph): each
 * built once per graph. */
void pyl_q_need_rev(struct pyl_call *call, struct pyl_target_info *info) {
  struct pyl_ctx *c = call->c;
  if (call->status != PYL_OK) {
    return;
  }
  if (c->h.rev.built) {
    info->rev_reused = 1;
    return;
  }
  uint64_t t = pyl_now_ns();
  if ((c->h.rev.offs == NULL &&
       !pyl_rev_init(&c->h.rev, c->h.tab.max_objs, c->h.csr.max_edges)) ||
      !pyl_rev_build(&c->h.rev, &c->h.csr, c->h.tab.n)) {
    if (!pyl_q_stopped(call)) {
      pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for reverse edges");
    }
  }
  info->rev_ns = pyl_now_ns() - t;
}

void pyl_q_need_roots(struct pyl_call *call, struct pyl_target_info *info) {
  struct pyl_ctx *c = call->c;
  pyl_q_need_rev(call, info);
  if (call->status != PYL_OK || c->roots.built) {
    return;
  }
  uint64_t t = pyl_now_ns();
  if (c->roots.rows == NULL && !pyl_roots_init(&c->roots)) {
    pyl_call_fail(call, PYL_ENOMEM, "cannot reserve helper memory for roots");
    return;
  }
  int rc = pyl_roots_build(&c->h, &c->roots, &call->msg);
  if (rc != PYL_OK) {
    call->status = rc;
  }
  info->roots_ns = pyl_now_ns() - t;
}

struct pyl_q_obj pyl_q_obj(struct pyl_ctx *c, uint32_t i) {
  const struct pyl_type *ty = &c->v.types.rec[c->h.tab.type[i]];
  uint64_t addr = c->h.tab.addr[i];
  return (struct pyl_q_obj){
      .address = addr,
      .type_addr = ty->addr,
      .size = pyl_object_size(&c->v, ty, addr, pyl_object_is_gc(ty, addr)),
      .name_off = ty->name_off};
}

struct pyl_target_info *pyl_q_info(struct pyl_call *call) {
  struct pyl_target_info *info = pyl_q_scratch(call, 1, sizeof(*info));
  if (info != NULL) {
    __builtin_memset(info, 0, sizeof(*info));
    info->gc_enabled = PYL_GC_UNKNOWN;
    call->res->info_addr = (uint64_t)(uintptr_t)info;
    call->res->info_size = sizeof(*info);
  }
  return info;
}

void pyl_q_describe(struct pyl_call *call, struct pyl_target_info *info,
                    uint32_t target) {
  struct pyl_ctx *c = call->c;
  struct pyl_q_obj o = pyl_q_obj(c, target);
  info->address = o.address;
  info->type_addr = o.type_addr;
  info->size = o.size;
  info->name_off = o.name_off;
  uint64_t rc = 0;
  if (pyl_read_u64(&c->v.mem, o.address + c->v.L->ob_refcnt_off, &rc)) {
    info->refcnt = (int64_t)rc;
  }
  if (c->h.rev.built) {
    info->in_degree = pyl_rev_degree(&c->h.rev, target);
  }
  if (c->roots.built) {
    info->unexplained = pyl_roots_unexplained(&c->h, &c->roots, target);
  }
}

struct pyl_graph pyl_q_graph(const struct pyl_ctx *c) {
  return (struct pyl_graph){.n = c->h.tab.n,
                            .offs = c->h.csr.offs,
                            .edges = c->h.csr.edges,
                            .roffs = c->h.rev.offs,
                            .redges = c->h.rev.edges};
}

uint32_t pyl_q_namespace_owner(struct pyl_ctx *c, uint32_t y) {
  if (c->v.types.rec[c->h.tab.type[y]].addr != c->v.L->dict_type) {
    return PYL_NONE;
  }
  for (uint32_t e = c->h.rev.offs[y]; e < c->h.rev.offs[y + 1]; e++) {
    uint32_t o = c->h.rev.edges[e];
    if (pyl_label_is_namespace(&c->h, o, y)) {
      return o;
    }
  }
  return PYL_NONE;
}

uint64_t pyl_q_gc_enabled(struct pyl_ctx *c) {
  uint32_t enabled = 0;
  if (c->v.L->gc_enabled_addr != 0 &&
      pyl_read_u32(&c->v.mem, c->v.L->gc_enabled_addr, &enabled)) {
    return enabled != 0;
  }
  return PYL_GC_UNKNOWN;
}

void pyl_q_label(struct pyl_ctx *c, uint32_t src, uint32_t dst, uint32_t prev,
                 struct pyl_qstr *s, uint64_t *off) {
  char buf[PYL_LABEL_MAX];
  struct pyl_sbuf b;
  pyl_sbuf_init(&b, buf, sizeof(buf));
  pyl_label_edge(&c->h, src, dst, prev, &b);
  *off = pyl_qstr_add(s, buf);
}

void pyl_q_edge_row(struct pyl_ctx *c, struct pyl_edge_row *row, uint32_t obj,
                    struct pyl_qstr *s) {
  struct pyl_q_obj o = pyl_q_obj(c, obj);
  *row = (struct pyl_edge_row){.address = o.address,
                               .type_addr = o.type_addr,
                               .size = o.size,
                               .name_off = o.name_off,
                               .label_off = s->empty,
                               .root_desc_off = s->empty};
}

/* ---- pyl_roots_list ---- */

static void roots_rows(struct pyl_call *call, uint64_t limit) {
  struct pyl_ctx *c = call->c;
  const struct pyl_roots *r = &c->roots;
  uint64_t n = limit != 0 && limit < r->n ? limit : r->n;
  struct pyl_root_row *out = pyl_q_scratch(call, n, sizeof(*out));
  struct pyl_qstr s;
  pyl_qstr_begin(call, &s);
  for (uint64_t i = 0; out != NULL && i < n; i++) {
    const struct pyl_root *root = &r->rows[i];
    struct pyl_q_obj o = pyl_q_obj(c, root->obj);
    out[i] = (struct pyl_root_row){.address = o.address,
                                   .type_addr = o.type_addr,
                                   .size = o.size,
                                   .name_off = o.name_off,
                                   .kind = root->kind,
                                   .desc_off =
                                       pyl_qstr_add(&s, pyl_root_desc(r, root)),
                                   .unexplained = root->unexplained};
  }
  pyl_qstr_end(call, &s);
  call->res->n_rows = n;
  call->res->n_rows_total = r->n;
  call->res->rows_addr = (uint64_t)(uintptr_t)out;
  call->res->row_size = sizeof(*out);
}

PYL_EXPORT uint64_t pyl_roots_list(uint64_t limit, uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags & PYL_CHAIN_FORCE);
  struct pyl_target_info *info =
      call.status == PYL_OK ? pyl_q_info(&call) : NULL;
  if (info != NULL) {
    pyl_q_need_roots(&call, info);
  }
  if (call.status == PYL_OK) {
    roots_rows(&call, limit);
  }
  return pyl_call_end(&call, PYL_RESULT_ROOTS);
}

/* ---- pyl_refs ---- */

struct refs_ctx {
  struct pyl_ctx *c;
  struct pyl_edge_row *rows;
  struct pyl_qstr *qs;
  uint32_t src;
  uint32_t ns;  /* src's __dict__, whose entries are shown as src's */
  uint32_t n;   /* rows written */
  uint32_t cap; /* rows that fit */
  int rc;
};

static void add_ref(struct refs_ctx *x, uint32_t dst, const char *label) {
  if (x->n >= x->cap) {
    return;
  }
  struct pyl_ctx *c = x->c;
  struct pyl_edge_row *row = &x->rows[x->n++];
  pyl_q_edge_row(c, row, dst, x->qs);
  row->label_off = pyl_qstr_add(x->qs, label);
  row->depth = 1;
  row->via = c->h.tab.addr[x->src];
}

/* An entry of src's __dict__, said as src's attribute. */
static void ns_label(uint32_t dst, const char *label, void *arg) {
  struct refs_ctx *x = arg;
  char buf[PYL_LABEL_MAX];
  struct pyl_sbuf b;
  pyl_sbuf_init(&b, buf, sizeof(buf));
  if (!pyl_label_through(&x->c->h, x->src, x->ns, dst, &b)) {
    pyl_sbuf_str(&b, ".__dict__");
    pyl_sbuf_str(&b, label);
  }
  add_ref(x, dst, buf);
}

static void ref_label(uint32_t dst, const char *label, void *arg) {
  struct refs_ctx *x = arg;
  if (dst != x->ns || x->n >= x->cap) {
    add_ref(x, dst, label);
    return;
  }
  int rc = pyl_label_all(&x->c->h, x->ns, x->cap - x->n, ns_label, x);
  x->rc = x->rc == PYL_OK ? rc : x->rc;
}

/* src's __dict__ (PYL_NONE when it has none the graph shows): its
 * entries are src's attributes, as py-chain reads them. */
static uint32_t namespace_of(struct pyl_ctx *c, uint32_t src) {
  for (uint32_t e = c->h.csr.offs[src]; e < c->h.csr.offs[src + 1]; e++) {
    uint32_t d = c->h.csr.edges[e];
    if (c->v.types.rec[c->h.tab.type[d]].addr == c->v.L->dict_type &&
        pyl_label_is_namespace(&c->h, src, d)) {
      return d;
    }
  }
  return PYL_NONE;
}

static void refs_query(struct pyl_call *call, uint64_t addr,
                       uint64_t max_rows) {
  struct pyl_ctx *c = call->c;
  struct pyl_target_info *info = pyl_q_info(call);
  struct pyl_qstr qs;
  pyl_qstr_begin(call, &qs);
  uint32_t src = info != NULL ? pyl_q_find(call, addr) : PYL_NONE;
  if (src == PYL_NONE) {
    return;
  }
  pyl_q_describe(call, info, src);
  const uint32_t *offs = c->h.csr.offs;
  uint32_t ns = namespace_of(c, src);
  uint64_t n = offs[src + 1] - offs[src];
  if (ns != PYL_NONE) {
    n += (uint64_t)(offs[ns + 1] - offs[ns]) - 1;
  }
  uint64_t shown = max_rows != 0 && max_rows < n ? max_rows : n;
  struct refs_ctx x = {
      .c = c, .qs = &qs, .src = src, .ns = ns, .cap = (uint32_t)shown};
  x.rows = pyl_q_scratch(call, shown, sizeof(*x.rows));
  if (x.rows == NULL) {
    return;
  }
  uint64_t t = pyl_now_ns();
  int rc = pyl_label_all(&c->h, src, shown, ref_label, &x);
  rc = rc == PYL_OK ? x.rc : rc;
  if (rc == PYL_EABORTED) {
    pyl_call_fail(call, rc, pyl_control_why());
    return;
  }
  if (rc != PYL_OK) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the labels");
    return;
  }
  info->search_ns = pyl_now_ns() - t;
  call->res->n_rows = x.n;
  call->res->n_rows_total = n;
  call->res->rows_addr = (uint64_t)(uintptr_t)x.rows;
  call->res->row_size = sizeof(*x.rows);
  pyl_qstr_end(call, &qs);
}

PYL_EXPORT uint64_t pyl_refs(uint64_t addr, uint64_t max_rows, uint64_t flags) {
  struct pyl_call call;
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags & PYL_CHAIN_FORCE);
  if (call.status == PYL_OK) {
    refs_query(&call, addr, max_rows);
  }
  return pyl_call_end(&call, PYL_RESULT_REFS);
}
