/* labels.c — edge labels: facts matched to the graph's references. */
#include "labels.h"

#include "facts.h"
#include "keyrepr.h"
#include "pydict.h"
#include "pystr.h"
#include "sort.h"

enum {
  PYL_MAX_ITEMS = 1 << 28, /* tuple sizes we believe */
  PYL_LABEL_SIZE = 256,
  PYL_NAME_SIZE = 128,
};

static void render(struct pyl_ctx *c, const struct fact *x,
                   struct pyl_sbuf *b) {
  char name[PYL_NAME_SIZE];
  switch (x->kind & ~PYL_USED) {
  case F_INDEX:
    pyl_sbuf_str(b, "[");
    pyl_sbuf_dec(b, x->idx);
    pyl_sbuf_str(b, "]");
    break;
  case F_KEY_OF:
    pyl_sbuf_str(b, "key of [");
    pyl_key_repr(c, x->arg, b);
    pyl_sbuf_str(b, "]");
    break;
  case F_KEY_VALUE:
    pyl_sbuf_str(b, "[");
    pyl_key_repr(c, x->arg, b);
    pyl_sbuf_str(b, "]");
    break;
  case F_ATTR_STR:
    pyl_sbuf_str(b, ".");
    pyl_put_name(c, x->arg, b);
    break;
  case F_ATTR_CSTR:
  case F_CSTR:
    pyl_sbuf_str(b, (x->kind & ~PYL_USED) == F_CSTR ? "" : ".");
    pyl_sbuf_str(b, pyl_peek_cstr(c, x->arg, name, sizeof(name)) ? name : "?");
    break;
  case F_NAMED:
    pyl_sbuf_str(b, x->text);
    pyl_sbuf_str(b, " '");
    pyl_put_name(c, x->arg, b);
    pyl_sbuf_str(b, "'");
    break;
  case F_CLOSURE:
    pyl_sbuf_str(b, "[");
    pyl_sbuf_dec(b, x->idx);
    pyl_sbuf_str(b, "] '");
    pyl_put_name(c, x->arg, b);
    pyl_sbuf_str(b, "'");
    break;
  default:
    pyl_sbuf_str(b, x->text);
    break;
  }
}

static void fallback(uint32_t k, struct pyl_sbuf *b) {
  pyl_sbuf_str(b, "referent #");
  pyl_sbuf_dec(b, k);
}

/* ---- entry points of this file ---- */

void pyl_label_edge(struct pyl_ctx *c, uint32_t src, uint32_t dst,
                    uint32_t prev, struct pyl_sbuf *b) {
  size_t top = c->scratch.used;
  struct facts f;
  uint64_t target = c->tab.addr[dst];
  /* One reference: facts about other referents need not be kept (a list
   * of millions then costs a scan, not memory). */
  pyl_facts_begin(&f, c, target);
  pyl_facts_collect(&f, c->tab.addr[src],
                    prev != PYL_NONE ? c->tab.addr[prev] : 0);
  bool done = false;
  for (uint32_t i = 0; i < f.n && !done; i++) {
    if (f.v[i].addr == target) {
      render(c, &f.v[i], b);
      done = true;
    }
  }
  for (uint32_t k = c->csr.offs[src]; k < c->csr.offs[src + 1] && !done; k++) {
    if (c->csr.edges[k] == dst) {
      fallback(k - c->csr.offs[src], b);
      done = true;
    }
  }
  if (!done) {
    pyl_sbuf_str(b, "(not a reference the graph has)");
  }
  c->scratch.used = top;
}

static int by_addr(uint32_t a, uint32_t b, const void *ctx) {
  const struct fact *v = ctx;
  if (v[a].addr != v[b].addr) {
    return v[a].addr < v[b].addr ? -1 : 1;
  }
  return 0; /* stable: decoding order breaks ties */
}

/* The first fact for addr that no reference took yet, or NULL. */
static struct fact *take(struct fact *v, const uint32_t *order, uint32_t n,
                         uint64_t addr) {
  uint32_t lo = 0;
  uint32_t hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (v[order[mid]].addr < addr) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (; lo < n && v[order[lo]].addr == addr; lo++) {
    if ((v[order[lo]].kind & PYL_USED) == 0) {
      v[order[lo]].kind |= PYL_USED;
      return &v[order[lo]];
    }
  }
  return NULL;
}

/* ---- a reference through a part the referrer owns ---- */

enum part_kind {
  PART_NONE,
  PART_DICT,       /* module, class or instance __dict__: .name */
  PART_TUPLE,      /* __defaults__[i], __mro__[i], __bases__[i], args[i] */
  PART_KWDEFAULTS, /* __kwdefaults__['name'] */
  PART_CLOSURE,    /* __closure__ 'name' */
  PART_FRAME,      /* 3.8-3.10 generator frame: gi_frame local 'x' */
};

static bool derives(struct pyl_ctx *c, uint64_t type, uint64_t base) {
  for (unsigned d = 0; type != 0 && d < PYL_MAX_BASES; d++) {
    if (type == base) {
      return true;
    }
    type = pyl_peek(c, type + c->L->tp_base_off);
  }
  return false;
}

static bool slot_is(struct pyl_ctx *c, uint64_t obj, uint64_t off,
                    uint64_t part) {
  return off != 0 && pyl_peek(c, obj + off) == part;
}

/* The instance __dict__ of obj is part (whichever way it is stored). */
static bool instance_dict_is(struct pyl_ctx *c, uint64_t obj, uint64_t type,
                             uint64_t part) {
  size_t top = c->scratch.used;
  struct facts f;
  pyl_facts_begin(&f, c, part);
  pyl_facts_attributes(&f, obj, type);
  bool found = false;
  for (uint32_t i = 0; i < f.n; i++) {
    found = found || (f.v[i].kind == F_TEXT && f.v[i].text != NULL &&
                      pyl_streq(f.v[i].text, ".__dict__"));
  }
  c->scratch.used = top;
  return found;
}

static enum part_kind part_of(struct pyl_ctx *c, uint64_t owner, uint64_t part,
                              const char **name) {
  const struct pyl_layout *L = c->L;
  uint64_t type = pyl_peek_type(c, owner);
  uint64_t flags = type != 0 ? pyl_peek_flags(c, type) : 0;
  *name = NULL;
  if (type == 0 || part == 0) {
    return PART_NONE;
  }
  if (derives(c, type, L->module_type)) {
    return slot_is(c, owner, L->lb_module_dict_off, part) ? PART_DICT
                                                          : PART_NONE;
  }
  if ((flags & PYL_TPF_TYPE_SUBCLASS) != 0) {
    *name = slot_is(c, owner, L->type_mro_off, part)     ? "__mro__"
            : slot_is(c, owner, L->type_bases_off, part) ? "__bases__"
                                                         : NULL;
    return *name != NULL                             ? PART_TUPLE
           : slot_is(c, owner, L->tp_dict_off, part) ? PART_DICT
                                                     : PART_NONE;
  }
  if (type == L->lb_function_type) {
    *name = "__defaults__";
    return slot_is(c, owner, L->lb_func_defaults_off, part) ? PART_TUPLE
           : slot_is(c, owner, L->lb_func_kwdefaults_off, part)
               ? PART_KWDEFAULTS
           : slot_is(c, owner, L->lb_func_closure_off, part) ? PART_CLOSURE
                                                             : PART_NONE;
  }
  if ((flags & PYL_TPF_BASE_EXC_SUBCLASS) != 0 &&
      slot_is(c, owner, L->lb_exc_args_off, part)) {
    *name = "args";
    return PART_TUPLE;
  }
  bool gen = type == L->lb_gen_type || type == L->lb_coro_type ||
             type == L->lb_asyncgen_type;
  if (gen && slot_is(c, owner, L->lb_gi_frame_off, part)) {
    *name = type == L->lb_gen_type    ? "gi_frame"
            : type == L->lb_coro_type ? "cr_frame"
                                      : "ag_frame";
    return PART_FRAME;
  }
  return instance_dict_is(c, owner, type, part) ? PART_DICT : PART_NONE;
}

struct find_value {
  struct pyl_ctx *c;
  uint64_t value;
  uint64_t key;
};

static int match_value(uint64_t key, uint64_t value, void *arg) {
  struct find_value *fv = arg;
  if (value == fv->value) {
    fv->key = key;
    return 1;
  }
  return 0;
}

/* The key under which dict holds value, or 0. */
static uint64_t key_of(struct pyl_ctx *c, uint64_t dict, uint64_t value) {
  struct find_value fv = {.c = c, .value = value, .key = 0};
  (void)pyl_dict_foreach(c, dict, match_value, &fv);
  return fv.key;
}

static int64_t index_in(struct pyl_ctx *c, uint64_t tuple, uint64_t item) {
  int64_t n = pyl_peek_i64(c, tuple + c->L->ob_size_off);
  for (int64_t i = 0; i < n && i < PYL_MAX_ITEMS; i++) {
    if (pyl_peek_item(c, tuple, i) == item) {
      return i;
    }
  }
  return -1;
}

/* gi_frame local 'x': the frame object's fact for dst, when a local. */
static bool frame_local(struct pyl_ctx *c, uint64_t frame, uint64_t dst,
                        const char *name, struct pyl_sbuf *b) {
  size_t top = c->scratch.used;
  struct facts f;
  pyl_facts_begin(&f, c, dst);
  pyl_facts_frame(&f, frame);
  bool found = false;
  for (uint32_t i = 0; i < f.n && !found; i++) {
    if (f.v[i].kind == F_NAMED) {
      pyl_sbuf_str(b, name);
      pyl_sbuf_str(b, " ");
      render(c, &f.v[i], b);
      found = true;
    }
  }
  c->scratch.used = top;
  return found;
}

bool pyl_label_through(struct pyl_ctx *c, uint32_t owner, uint32_t part,
                       uint32_t dst, struct pyl_sbuf *b) {
  uint64_t o = c->tab.addr[owner];
  uint64_t p = c->tab.addr[part];
  uint64_t d = c->tab.addr[dst];
  const char *name = NULL;
  uint64_t key = 0;
  int64_t i = -1;
  switch (part_of(c, o, p, &name)) {
  case PART_DICT:
    key = key_of(c, p, d);
    if (key == 0 || !pyl_is_str(c, key)) {
      return false;
    }
    pyl_sbuf_str(b, ".");
    pyl_put_name(c, key, b);
    return true;
  case PART_KWDEFAULTS:
    key = key_of(c, p, d);
    if (key == 0) {
      return false;
    }
    pyl_sbuf_str(b, "__kwdefaults__[");
    pyl_key_repr(c, key, b);
    pyl_sbuf_str(b, "]");
    return true;
  case PART_CLOSURE:
    i = index_in(c, p, d);
    if (i < 0) {
      return false;
    }
    pyl_sbuf_str(b, "__closure__ '");
    pyl_put_name(c, pyl_freevar_name(c, o, i), b);
    pyl_sbuf_str(b, "'");
    return true;
  case PART_TUPLE:
    i = index_in(c, p, d);
    if (i < 0) {
      return false;
    }
    pyl_sbuf_str(b, name);
    pyl_sbuf_str(b, "[");
    pyl_sbuf_dec(b, (uint64_t)i);
    pyl_sbuf_str(b, "]");
    return true;
  case PART_FRAME:
    return frame_local(c, p, d, name, b);
  default:
    return false;
  }
}

/* Edges in reading order: by the fact each one took (a list's items by
 * index, a dict's in entry order, then attributes...), the unexplained
 * ones last in graph order. */
struct edge_order {
  const uint32_t *match;
  uint32_t n_facts;
};

static int by_reading_order(uint32_t a, uint32_t b, const void *ctx) {
  const struct edge_order *o = ctx;
  uint64_t ka =
      o->match[a] != PYL_NONE ? o->match[a] : (uint64_t)o->n_facts + a;
  uint64_t kb =
      o->match[b] != PYL_NONE ? o->match[b] : (uint64_t)o->n_facts + b;
  return ka < kb ? -1 : ka > kb;
}

bool pyl_label_all(struct pyl_ctx *c, uint32_t src, pyl_label_fn fn,
                   void *arg) {
  size_t top = c->scratch.used;
  struct facts f;
  pyl_facts_begin(&f, c, 0);
  pyl_facts_collect(&f, c->tab.addr[src], 0);
  c->scratch.used = f.start + (size_t)f.n * sizeof(struct fact);
  uint32_t first = c->csr.offs[src];
  uint32_t n_edges = c->csr.offs[src + 1] - first;
  size_t n_max = (f.n > n_edges ? f.n : n_edges) + (size_t)1;
  uint32_t *order = pyl_arena_alloc(&c->scratch, n_max * 4, 8);
  uint32_t *tmp = pyl_arena_alloc(&c->scratch, n_max * 4, 8);
  uint32_t *match = pyl_arena_alloc(&c->scratch, n_max * 4, 8);
  if (f.oom || order == NULL || tmp == NULL || match == NULL) {
    c->scratch.used = top;
    return false;
  }
  for (uint32_t i = 0; i < f.n; i++) {
    order[i] = i;
  }
  pyl_sort_u32(order, tmp, f.n, by_addr, f.v);
  for (uint32_t k = 0; k < n_edges; k++) {
    const struct fact *x =
        take(f.v, order, f.n, c->tab.addr[c->csr.edges[first + k]]);
    match[k] = x != NULL ? (uint32_t)(x - f.v) : PYL_NONE;
  }
  for (uint32_t k = 0; k < n_edges; k++) {
    order[k] = k;
  }
  struct edge_order eo = {.match = match, .n_facts = f.n};
  pyl_sort_u32(order, tmp, n_edges, by_reading_order, &eo);
  char buf[PYL_LABEL_SIZE];
  struct pyl_sbuf b;
  for (uint32_t i = 0; i < n_edges; i++) {
    uint32_t k = order[i];
    pyl_sbuf_init(&b, buf, sizeof(buf));
    if (match[k] != PYL_NONE) {
      render(c, &f.v[match[k]], &b);
    } else {
      fallback(k, &b);
    }
    fn(k, buf, arg);
  }
  c->scratch.used = top;
  return true;
}
