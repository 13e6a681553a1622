/*
 * roots.c — where chains start: the modules of every interpreter, the
 * slots of interpreter and thread states, and the frames each thread is
 * running.  Interpreter and thread state slots are roots_state.c, type
 * objects' slots roots_types.c; the references no object explains ("held
 * by C code") are roots_residue.c.
 *
 * Order of the rows: modules (by name), interpreter slots, frames (thread
 * 1 first, innermost frame first), C-held.  Chain searches break ties by
 * this order.
 */
#include "roots.h"

#include "frames.h"
#include "keyrepr.h"
#include "pydict.h"
#include "roots_build.h"
#include "sort.h"

static const size_t rows_reserve = (size_t)1 << 33;
static const size_t strings_reserve = (size_t)1 << 31;
static const size_t explained_reserve = (size_t)1 << 31;
static const size_t tmp_reserve = (size_t)1 << 31;
static const size_t threads_reserve = (size_t)1 << 26;
static const size_t reserve_floor = (size_t)1 << 20;

enum {
  PYL_MAX_INTERPRETERS = 64,
  PYL_MAX_THREADS = 1 << 14, /* per interpreter */
  PYL_HIDDEN_INITIAL = 1 << 10,
};

bool pyl_roots_init(struct pyl_roots *r) {
  if (!pyl_vec_reserve(&r->v_rows, sizeof(struct pyl_root),
                       rows_reserve / sizeof(struct pyl_root), reserve_floor) ||
      !pyl_arena_reserve(&r->a_strings, strings_reserve, reserve_floor) ||
      !pyl_arena_reserve(&r->a_explained, explained_reserve, reserve_floor) ||
      !pyl_arena_reserve(&r->a_tmp, tmp_reserve, reserve_floor) ||
      !pyl_arena_reserve(&r->a_threads, threads_reserve, reserve_floor) ||
      !pyl_arena_reserve(&r->a_seen, tmp_reserve, reserve_floor)) {
    pyl_roots_release(r);
    return false;
  }
  r->rows = pyl_vec_data(&r->v_rows);
  r->strings = (char *)r->a_strings.base;
  r->explained = (uint32_t *)(void *)r->a_explained.base;
  pyl_roots_clear(r);
  return true;
}

static void forget(struct pyl_roots *r) {
  r->n = 0;
  r->strings_len = 0;
  r->n_frames = 0;
  r->n_threads = 0;
  r->n_overexplained = 0;
  r->incomplete = false;
  r->built = false;
}

void pyl_roots_clear(struct pyl_roots *r) {
  pyl_vec_clear(&r->v_rows);
  pyl_arena_decommit(&r->a_strings);
  pyl_arena_decommit(&r->a_explained);
  pyl_arena_decommit(&r->a_tmp);
  pyl_arena_decommit(&r->a_threads);
  pyl_arena_decommit(&r->a_seen);
  forget(r);
}

void pyl_roots_release(struct pyl_roots *r) {
  pyl_vec_release(&r->v_rows);
  pyl_arena_release(&r->a_strings);
  pyl_arena_release(&r->a_explained);
  pyl_arena_release(&r->a_tmp);
  pyl_arena_release(&r->a_threads);
  pyl_arena_release(&r->a_seen);
  r->rows = NULL;
  r->strings = NULL;
  r->explained = NULL;
  forget(r);
}

/* --- modules -------------------------------------------------------------- */

static int module_root(uint64_t key, uint64_t value, void *arg) {
  struct pyl_build *b = arg;
  uint32_t i = pyl_rb_find(b, value);
  if (i == PYL_NONE) {
    return 0;
  }
  char desc[PYL_DESC_MAX];
  struct pyl_sbuf s;
  pyl_sbuf_init(&s, desc, sizeof(desc));
  pyl_sbuf_str(&s, "module ");
  pyl_put_name(b->c, key, &s);
  if (b->interp_no != 0) {
    pyl_sbuf_str(&s, " (interpreter ");
    pyl_sbuf_dec(&s, b->interp_no + 1);
    pyl_sbuf_str(&s, ")");
  }
  /* The modules dict's own edges hold the module: nothing to count. */
  pyl_rb_add(b, i, PYL_ROOT_MODULE, pyl_rb_string(b, desc), 0);
  return b->status != PYL_OK;
}

static int by_desc(uint32_t a, uint32_t b, const void *arg) {
  const struct pyl_roots *r = arg;
  return pyl_strcmp(r->strings + r->rows[a].desc, r->strings + r->rows[b].desc);
}

/* Sort rows[0..n) by description. */
static void sort_rows(struct pyl_build *b, uint32_t n) {
  struct pyl_roots *r = b->r;
  pyl_arena_reset(&r->a_tmp);
  uint32_t *idx = pyl_arena_alloc(&r->a_tmp, sizeof(uint32_t) * (n + 1), 8);
  uint32_t *tmp = pyl_arena_alloc(&r->a_tmp, sizeof(uint32_t) * (n + 1), 8);
  struct pyl_root *copy = pyl_arena_alloc(
      &r->a_tmp, sizeof(struct pyl_root) * (n + 1), _Alignof(struct pyl_root));
  if (idx == NULL || tmp == NULL || copy == NULL) {
    pyl_rb_nomem(b);
    return;
  }
  for (uint32_t i = 0; i < n; i++) {
    idx[i] = i;
    copy[i] = r->rows[i];
  }
  pyl_sort_u32(idx, tmp, n, by_desc, r);
  for (uint32_t i = 0; i < n; i++) {
    r->rows[i] = copy[idx[i]];
  }
  pyl_arena_reset(&r->a_tmp);
}

static void modules(struct pyl_build *b) {
  uint64_t dict = pyl_peek(b->c, b->interp + b->c->L->interp_modules_offset);
  if (dict != 0 && !pyl_dict_foreach(b->c, dict, module_root, b)) {
    b->r->incomplete = true;
  }
}

static void thread_prefix(const struct pyl_build *b, const struct pyl_thread *t,
                          struct pyl_sbuf *s) {
  if (b->interp_no != 0) {
    pyl_rb_interp_prefix(b, s);
  }
  pyl_thread_name(t, s);
}

/* --- frames --------------------------------------------------------------- */

/* The frames are walked twice: first to count the references they hold
 * and to collect the value stack windows of running frames (which need
 * every other count to be judged), then to write their rows. */
struct frames_pass {
  struct pyl_build *b;
  const struct pyl_thread *t;
  bool rows;          /* second pass */
  uint32_t maybe_pos; /* second pass: next entry of b->maybe */
  char prefix[PYL_DESC_MAX];
};

/* A frame's code object that is not in the table (module bodies, exec):
 * nothing else counts the tuples it holds. */
static void frame_code(struct frames_pass *p, uint64_t code) {
  if (pyl_rb_find(p->b, code) == PYL_NONE) {
    pyl_rb_code_refs(p->b, code);
  }
}

static void maybe_push(struct pyl_build *b, uint32_t obj) {
  struct pyl_roots *r = b->r;
  if (!pyl_arena_fit(&r->a_tmp, (uint64_t)b->n_maybe + 1, sizeof(uint32_t))) {
    pyl_rb_nomem(b);
    return;
  }
  b->maybe = (uint32_t *)(void *)r->a_tmp.base;
  b->maybe[b->n_maybe++] = obj;
}

static void on_frame(void *arg, const struct pyl_frame *f) {
  struct frames_pass *p = arg;
  if (!p->rows) {
    p->b->r->n_frames++;
    frame_code(p, f->code);
    return;
  }
  struct pyl_sbuf s;
  pyl_sbuf_init(&s, p->prefix, sizeof(p->prefix));
  thread_prefix(p->b, p->t, &s);
  pyl_sbuf_str(&s, " frame ");
  pyl_code_where(p->b->c, f->code, f->line, &s);
}

static const char *slot_suffix(unsigned kind) {
  switch (kind) {
  case PYL_SLOT_LOCAL:
    return " local '";
  case PYL_SLOT_CELL:
    return " cell '";
  case PYL_SLOT_CELL_OBJ:
    return " cell object '";
  case PYL_SLOT_STACK:
  case PYL_SLOT_STACK_MAYBE:
    return " value stack";
  case PYL_SLOT_FUNC:
    return " function";
  case PYL_SLOT_LOCALS:
    return " f_locals";
  case PYL_SLOT_FRAME_OBJ:
    return " frame object";
  default:
    return "";
  }
}

static void slot_row(struct frames_pass *p, uint32_t obj,
                     const struct pyl_slot *slot) {
  struct pyl_build *b = p->b;
  char desc[PYL_DESC_MAX];
  struct pyl_sbuf s;
  pyl_sbuf_init(&s, desc, sizeof(desc));
  pyl_sbuf_str(&s, p->prefix);
  pyl_sbuf_str(&s, slot_suffix(slot->kind));
  if (slot->kind == PYL_SLOT_LOCAL || slot->kind == PYL_SLOT_CELL ||
      slot->kind == PYL_SLOT_CELL_OBJ) {
    pyl_put_name(b->c, slot->name, &s);
    pyl_sbuf_str(&s, "'");
  }
  pyl_rb_add(b, obj, PYL_ROOT_FRAME, pyl_rb_string(b, desc), 0);
}

static void on_slot(void *arg, const struct pyl_frame *f,
                    const struct pyl_slot *slot) {
  (void)f;
  struct frames_pass *p = arg;
  struct pyl_build *b = p->b;
  uint32_t obj = pyl_rb_find(b, slot->value);
  if (obj == PYL_NONE || b->status != PYL_OK) {
    return;
  }
  if (slot->kind == PYL_SLOT_STACK_MAYBE) {
    if (!p->rows) {
      maybe_push(b, obj);
    } else if (p->maybe_pos < b->n_maybe &&
               (b->maybe[p->maybe_pos++] & PYL_MAYBE_USED) != 0) {
      slot_row(p, obj, slot);
    }
    return;
  }
  if (!p->rows && slot->counted) {
    b->r->explained[obj]++;
  }
  if (p->rows && slot->root) {
    slot_row(p, obj, slot);
  }
}

/* --- the build ------------------------------------------------------------ */

struct interp_threads {
  uint64_t interp;
  struct pyl_thread *threads;
  uint32_t n;
};

static uint32_t interpreters(struct pyl_build *b, struct interp_threads *out) {
  const struct pyl_layout *L = b->c->L;
  uint64_t main = pyl_peek(b->c, L->rt_interp_main_addr);
  uint64_t list[PYL_MAX_INTERPRETERS];
  uint32_t n = 0;
  for (uint64_t i = pyl_peek(b->c, L->rt_interp_head_addr); i != 0;
       i = pyl_peek(b->c, i + L->interp_next_offset)) {
    if (n == PYL_MAX_INTERPRETERS) {
      b->r->incomplete = true;
      break;
    }
    list[n++] = i;
  }
  /* The main interpreter first, then the others oldest first (the list
   * is newest first). */
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (list[i] == main) {
      out[k++] = (struct interp_threads){.interp = main};
    }
  }
  for (uint32_t i = n; i > 0; i--) {
    if (list[i - 1] != main) {
      out[k++] = (struct interp_threads){.interp = list[i - 1]};
    }
  }
  return k;
}

static void read_threads(struct pyl_build *b, struct interp_threads *it) {
  struct pyl_roots *r = b->r;
  it->n = 0;
  it->threads = pyl_arena_alloc(&r->a_threads,
                                sizeof(struct pyl_thread) * PYL_MAX_THREADS, 8);
  if (it->threads == NULL) {
    pyl_rb_nomem(b);
    return;
  }
  bool more = false;
  it->n = pyl_threads(b->c, it->interp, it->threads, PYL_MAX_THREADS, &more);
  r->incomplete |= more;
  r->n_threads += it->n;
}

static void frames(struct pyl_build *b, struct interp_threads *its, uint32_t n,
                   bool rows) {
  struct frames_pass p = {.b = b, .rows = rows};
  const struct pyl_frame_visitor v = {
      .frame = on_frame, .slot = on_slot, .arg = &p};
  for (uint32_t k = 0; k < n && b->status == PYL_OK; k++) {
    b->interp = its[k].interp;
    b->interp_no = k;
    for (uint32_t i = 0; i < its[k].n && b->status == PYL_OK; i++) {
      p.t = &its[k].threads[i];
      if (!pyl_frames_walk(b->c, &b->h->tab, p.t, &v)) {
        b->r->incomplete = true;
      }
    }
  }
}

static int check_layout(const struct pyl_layout *L, struct pyl_sbuf *msg) {
  const uint64_t big[] = {L->interp_next_offset, L->interp_threads_offset,
                          L->interp_modules_offset};
  for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
    if (big[i] >= PYL_MAX_STATE_OFFSET) {
      pyl_sbuf_str(msg, "layout: an interpreter state offset is implausible");
      return PYL_ELAYOUT;
    }
  }
  bool frames = pyl_layout_minor(L) >= 11 ? L->iframe_localsplus_off != 0
                                          : L->pyframe_localsplus_off != 0;
  if (L->rt_interp_head_addr == 0 || L->rt_main_thread_addr == 0 ||
      L->interp_modules_offset == 0 || L->tstate_next_off == 0 ||
      L->code_type == 0 || L->cell_type == 0 || !frames) {
    pyl_sbuf_str(msg, "layout lacks the roots fields (interpreter, thread "
                      "and frame offsets)");
    return PYL_ELAYOUT;
  }
  return PYL_OK;
}

/* In-degree of every object: each edge is one reference. */
static bool in_degrees(struct pyl_build *b) {
  struct pyl_heap *h = b->h;
  struct pyl_roots *r = b->r;
  if (!pyl_arena_fit(&r->a_explained, (uint64_t)h->tab.n + 1,
                     sizeof(uint32_t))) {
    return false;
  }
  r->explained = (uint32_t *)(void *)r->a_explained.base;
  const uint32_t *edges = h->csr.edges;
  uint64_t n_edges = h->csr.n_edges;
  for (uint64_t e = 0; e < n_edges; e++) {
    r->explained[edges[e]]++;
  }
  return true;
}

static void build(struct pyl_build *b) {
  struct interp_threads its[PYL_MAX_INTERPRETERS];
  uint32_t n = interpreters(b, its);
  uint32_t n_modules = 0;
  if (n == 0) {
    /* no interpreter state (not initialised, or finalising): only what
     * the refcounts say */
    b->r->incomplete = true;
    its[0] = (struct interp_threads){.interp = 0};
  }
  for (uint32_t k = 0; k < n && b->status == PYL_OK; k++) {
    b->interp = its[k].interp;
    b->interp_no = k;
    modules(b);
    read_threads(b, &its[k]);
  }
  n_modules = b->r->n;
  sort_rows(b, n_modules);
  for (uint32_t k = 0; k < n && b->status == PYL_OK; k++) {
    b->interp = its[k].interp;
    b->interp_no = k;
    pyl_roots_interp(b);
    pyl_roots_types(b);
    for (uint32_t i = 0; i < its[k].n; i++) {
      pyl_roots_thread(b, &its[k].threads[i]);
    }
  }
  b->interp = its[0].interp;
  b->interp_no = 0;
  if (n != 0) {
    pyl_roots_globals(b);
  }
  pyl_roots_holders(b);
  pyl_arena_reset(&b->r->a_tmp);
  frames(b, its, n, false);
  pyl_roots_instances(b);
  for (uint32_t i = 0; i < b->n_maybe && b->status == PYL_OK; i++) {
    if (pyl_rb_residue(b, b->maybe[i]) > 0) {
      b->r->explained[b->maybe[i]]++;
      b->maybe[i] |= PYL_MAYBE_USED;
    }
  }
  frames(b, its, n, true);
  pyl_roots_residue(b);
}

int pyl_roots_build(struct pyl_heap *h, struct pyl_roots *r,
                    struct pyl_sbuf *msg) {
  struct pyl_view *c = h->v;
  pyl_roots_clear(r);
  struct pyl_build b = {.c = c, .h = h, .r = r, .msg = msg, .status = PYL_OK};
  b.status = check_layout(c->L, msg);
  if (b.status != PYL_OK) {
    return b.status;
  }
  if (!in_degrees(&b) ||
      !pyl_addrset_init(&b.hidden, &r->a_seen, PYL_HIDDEN_INITIAL)) {
    pyl_rb_nomem(&b);
    pyl_roots_clear(r);
    return b.status;
  }
  build(&b);
  pyl_arena_decommit(&r->a_tmp);
  pyl_arena_decommit(&r->a_threads);
  pyl_arena_decommit(&r->a_seen);
  if (b.status != PYL_OK) {
    pyl_roots_clear(r);
    return b.status;
  }
  r->built = true;
  return PYL_OK;
}
