/* labels.c — edge labels: facts matched to the graph's references. */
#include "labels.h"

#include "facts.h"
#include "keyrepr.h"
#include "pydict.h"
#include "pystr.h"
#include "chain.h"
#include "heap.h"
#include "control.h"

enum {
  PYL_MAX_ITEMS = 1 << 28, /* tuple sizes we believe */
  PYL_LABEL_SIZE = 256,
  PYL_NAME_SIZE = 128,
};

static void render(struct pyl_view *c, const struct fact *x,
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

void pyl_label_edge(struct pyl_heap *h, uint32_t src, uint32_t dst,
                    uint32_t prev, struct pyl_sbuf *b) {
  struct pyl_view *c = h->v;
  size_t top = c->scratch.used;
  struct facts f;
  uint64_t target = h->tab.addr[dst];
  /* One reference: facts about other referents need not be kept (a list
   * of millions then costs a scan, not memory). */
  pyl_facts_begin(&f, c, target);
  pyl_facts_collect(&f, h->tab.addr[src],
                    prev != PYL_NONE ? h->tab.addr[prev] : 0);
  bool done = false;
  /* A stop request ends the search: the caller checks and fails. */
  for (uint32_t i = 0; i < f.n && !done && pyl_control_tick(); i++) {
    if (f.v[i].addr == target) {
      render(c, &f.v[i], b);
      done = true;
    }
  }
  for (uint32_t k = h->csr.offs[src];
       k < h->csr.offs[src + 1] && !done && pyl_control_tick(); k++) {
    if (h->csr.edges[k] == dst) {
      fallback(k - h->csr.offs[src], b);
      done = true;
    }
  }
  if (!done) {
    pyl_sbuf_str(b, "(not a reference the graph has)");
  }
  c->scratch.used = top;
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

static bool derives(struct pyl_view *c, uint64_t type, uint64_t base) {
  for (unsigned d = 0; type != 0 && d < PYL_MAX_BASES; d++) {
    if (type == base) {
      return true;
    }
    type = pyl_peek(c, type + c->L->tp_base_off);
  }
  return false;
}

static bool slot_is(struct pyl_view *c, uint64_t obj, uint64_t off,
                    uint64_t part) {
  return off != 0 && pyl_peek(c, obj + off) == part;
}

/* The instance __dict__ of obj is part (whichever way it is stored). */
static bool instance_dict_is(struct pyl_view *c, uint64_t obj, uint64_t type,
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

static enum part_kind part_of(struct pyl_view *c, uint64_t owner, uint64_t part,
                              const char **name) {
  const struct pyl_layout *L = c->L;
  uint64_t type = pyl_peek_type(c, owner);
  uint64_t flags = type != 0 ? pyl_peek_flags(c, type) : 0;
  *name = NULL;
  if (type == 0 || part == 0) {
    return PART_NONE;
  }
  if (derives(c, type, L->module_type)) {
    return slot_is(c, owner, L->module_dict_off, part) ? PART_DICT : PART_NONE;
  }
  if ((flags & PYL_TPF_TYPE_SUBCLASS) != 0) {
    *name = slot_is(c, owner, L->type_mro_off, part)     ? "__mro__"
            : slot_is(c, owner, L->type_bases_off, part) ? "__bases__"
                                                         : NULL;
    return *name != NULL                             ? PART_TUPLE
           : slot_is(c, owner, L->tp_dict_off, part) ? PART_DICT
                                                     : PART_NONE;
  }
  if (type == L->function_type) {
    *name = "__defaults__";
    return slot_is(c, owner, L->func_defaults_off, part)     ? PART_TUPLE
           : slot_is(c, owner, L->func_kwdefaults_off, part) ? PART_KWDEFAULTS
           : slot_is(c, owner, L->func_closure_off, part)    ? PART_CLOSURE
                                                             : PART_NONE;
  }
  if ((flags & PYL_TPF_BASE_EXC_SUBCLASS) != 0 &&
      slot_is(c, owner, L->exc_args_off, part)) {
    *name = "args";
    return PART_TUPLE;
  }
  bool gen =
      type == L->gen_type || type == L->coro_type || type == L->asyncgen_type;
  if (gen && slot_is(c, owner, L->gen_frame_off, part)) {
    *name = type == L->gen_type    ? "gi_frame"
            : type == L->coro_type ? "cr_frame"
                                   : "ag_frame";
    return PART_FRAME;
  }
  return instance_dict_is(c, owner, type, part) ? PART_DICT : PART_NONE;
}

struct find_value {
  struct pyl_view *c;
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
static uint64_t key_of(struct pyl_view *c, uint64_t dict, uint64_t value) {
  struct find_value fv = {.c = c, .value = value, .key = 0};
  (void)pyl_dict_foreach(c, dict, match_value, &fv);
  return fv.key;
}

static int64_t index_in(struct pyl_view *c, uint64_t tuple, uint64_t item) {
  int64_t n = pyl_peek_i64(c, tuple + c->L->ob_size_off);
  for (int64_t i = 0; i < n && i < PYL_MAX_ITEMS; i++) {
    if (pyl_peek_item(c, tuple, i) == item) {
      return i;
    }
  }
  return -1;
}

/* gi_frame local 'x': the frame object's fact for dst, when a local. */
static bool frame_local(struct pyl_view *c, uint64_t frame, uint64_t dst,
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

bool pyl_label_is_namespace(struct pyl_heap *h, uint32_t owner, uint32_t part) {
  const char *name = NULL;
  return part_of(h->v, h->tab.addr[owner], h->tab.addr[part], &name) ==
         PART_DICT;
}

bool pyl_label_through(struct pyl_heap *h, uint32_t owner, uint32_t part,
                       uint32_t dst, struct pyl_sbuf *b) {
  struct pyl_view *c = h->v;
  uint64_t o = h->tab.addr[owner];
  uint64_t p = h->tab.addr[part];
  uint64_t d = h->tab.addr[dst];
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

/* Which reference takes which fact: the k-th reference of src to an
 * object takes the k-th fact about that object, in decoding order.  So a
 * fact is a reference's when fewer facts before it are about the same
 * object than src has references to that object: counting src's
 * references per referent (an array over the object table, of which only
 * the referents' entries are touched, and a bitmap saying which those
 * are) decides each fact in turn.  The facts before the last row shown
 * are all that is looked at; the references no fact explains (the last
 * ones to each referent) only when rows are left for them.  Linear in the
 * references and facts of src: scanning for a fact's reference would be
 * quadratic when many share a referent (a list of a million Nones),
 * sorting them n log n and many times the memory. */
struct counts {
  uint32_t *n;      /* per object: references of src not taken yet */
  uint64_t *is_dst; /* per object: a referent of src (n is valid) */
};

static int count_refs(struct pyl_heap *h, const uint32_t *edges,
                      uint32_t n_edges, struct counts *cnt) {
  struct pyl_view *c = h->v;
  cnt->is_dst = pyl_bitmap_new(&c->scratch, h->tab.n);
  cnt->n = pyl_arena_alloc(&c->scratch, ((size_t)h->tab.n + 1) * 4, 64);
  if (cnt->is_dst == NULL || cnt->n == NULL) {
    return PYL_ENOMEM;
  }
  for (uint32_t k = 0; k < n_edges; k++) {
    if (!pyl_control_tick()) {
      return PYL_EABORTED;
    }
    uint32_t d = edges[k];
    if (!pyl_bit(cnt->is_dst, d)) {
      pyl_bit_set(cnt->is_dst, d);
      cnt->n[d] = 0; /* scratch pages may hold old bytes */
    }
    cnt->n[d]++;
  }
  return PYL_OK;
}

/* The references no fact took (the last cnt->n[d] ones to each d), in
 * graph order, while rows are left. */
static int unexplained(struct pyl_view *c, const uint32_t *edges,
                       uint32_t n_edges, struct counts *cnt, uint64_t *left,
                       pyl_label_fn fn, void *arg) {
  uint64_t *mark = pyl_bitmap_new(&c->scratch, n_edges);
  if (mark == NULL) {
    return PYL_ENOMEM;
  }
  for (uint32_t k = n_edges; k-- > 0;) {
    if (!pyl_control_tick()) {
      return PYL_EABORTED;
    }
    if (cnt->n[edges[k]] > 0) {
      cnt->n[edges[k]]--;
      pyl_bit_set(mark, k);
    }
  }
  char buf[PYL_LABEL_SIZE];
  struct pyl_sbuf b;
  for (uint32_t k = 0; k<n_edges && * left> 0; k++) {
    if (!pyl_control_tick()) {
      return PYL_EABORTED;
    }
    if (pyl_bit(mark, k)) {
      pyl_sbuf_init(&b, buf, sizeof(buf));
      fallback(k, &b);
      fn(edges[k], buf, arg);
      --*left;
    }
  }
  return PYL_OK;
}

int pyl_label_all(struct pyl_heap *h, uint32_t src, uint64_t max,
                  pyl_label_fn fn, void *arg) {
  struct pyl_view *c = h->v;
  size_t top = c->scratch.used;
  const uint32_t *edges = h->csr.edges + h->csr.offs[src];
  uint32_t n_edges = h->csr.offs[src + 1] - h->csr.offs[src];
  struct facts f;
  pyl_facts_begin(&f, c, 0);
  pyl_facts_collect(&f, h->tab.addr[src], 0);
  c->scratch.used = f.start + (size_t)f.n * sizeof(struct fact);
  struct counts cnt;
  int rc = f.oom ? PYL_ENOMEM : count_refs(h, edges, n_edges, &cnt);
  /* Reading order: the facts in decoding order (a list's items by index,
   * a dict's in entry order, then attributes...), then the references no
   * fact explains in graph order.  Only the labels shown are rendered. */
  uint64_t left = max != 0 ? max : UINT64_MAX;
  char buf[PYL_LABEL_SIZE];
  struct pyl_sbuf b;
  for (uint32_t i = 0; rc == PYL_OK && i < f.n && left > 0; i++) {
    uint32_t d = pyl_objtab_find(&h->tab, f.v[i].addr);
    if (!pyl_control_tick()) {
      rc = PYL_EABORTED;
    } else if (d != PYL_NONE && pyl_bit(cnt.is_dst, d) && cnt.n[d] > 0) {
      cnt.n[d]--;
      pyl_sbuf_init(&b, buf, sizeof(buf));
      render(c, &f.v[i], &b);
      fn(d, buf, arg);
      left--;
    }
  }
  if (rc == PYL_OK && left > 0) {
    rc = unexplained(c, edges, n_edges, &cnt, &left, fn, arg);
  }
  c->scratch.used = top;
  return rc;
}
