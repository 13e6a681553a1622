/* facts_frames.c — references of frames and generators, by local name. */
#include "facts.h"

enum {
  PYL_MAX_SLOTS = 1 << 20, /* frame locals/stack entries we believe */
};

/* co_localspluskinds (3.11+) */
#define PYL_CO_FAST_CELL 0x40
#define PYL_CO_FAST_FREE 0x80

/* How the references of a frame are said: of a frame object, or of the
 * frame a generator, coroutine or async generator embeds. */
struct frame_words {
  const char *frame_obj; /* the frame's frame object */
  const char *code;
  const char *func;
  const char *locals; /* the f_locals mapping */
  const char *local;  /* a local variable slot: "<local> 'x'" */
  const char *cell;   /* a cell or free variable slot */
  const char *stack;
};

static const struct frame_words frame_words = {
    "(the frame itself)", "f_code", "function of the frame",
    "f_locals",           "local",  "cell",
    "(evaluation stack)"};
static const struct frame_words gen_words = {"gi_frame",
                                             "gi_code",
                                             "gi_frame function",
                                             "gi_frame.f_locals",
                                             "gi_frame local",
                                             "gi_frame cell",
                                             "(gi_frame evaluation stack)"};
static const struct frame_words coro_words = {"cr_frame",
                                              "cr_code",
                                              "cr_frame function",
                                              "cr_frame.f_locals",
                                              "cr_frame local",
                                              "cr_frame cell",
                                              "(cr_frame evaluation stack)"};
static const struct frame_words agen_words = {"ag_frame",
                                              "ag_code",
                                              "ag_frame function",
                                              "ag_frame.f_locals",
                                              "ag_frame local",
                                              "ag_frame cell",
                                              "(ag_frame evaluation stack)"};

/* The name of local slot i of code, and whether it holds a cell. */
static uint64_t slot_name(struct pyl_view *c, uint64_t code, int64_t i,
                          bool *cell) {
  const struct pyl_layout *L = c->L;
  *cell = false;
  if (pyl_layout_minor(L) >= 11) {
    uint64_t kinds = pyl_peek(c, code + L->code_localspluskinds_off);
    unsigned kind =
        kinds != 0 ? pyl_peek_u8(c, kinds + L->bytes_sval_off + (uint64_t)i)
                   : 0;
    *cell = (kind & (PYL_CO_FAST_CELL | PYL_CO_FAST_FREE)) != 0;
    return pyl_peek_item(c, pyl_peek(c, code + L->code_localsplusnames_off), i);
  }
  int64_t nlocals = pyl_peek_i32(c, code + L->code_nlocals_off);
  if (i < nlocals) {
    return pyl_peek_item(c, pyl_peek(c, code + L->code_varnames_off), i);
  }
  *cell = true;
  uint64_t cells = pyl_peek(c, code + L->code_cellvars_off);
  int64_t ncells = cells != 0 ? pyl_peek_i64(c, cells + L->ob_size_off) : 0;
  if (i < nlocals + ncells) {
    return pyl_peek_item(c, cells, i - nlocals);
  }
  return pyl_peek_item(c, pyl_peek(c, code + L->code_freevars_off),
                       i - nlocals - ncells);
}

/* Local slots of code: 3.8-3.10 locals + cells + free variables, 3.11+
 * co_nlocalsplus. */
static int64_t slot_count(struct pyl_view *c, uint64_t code) {
  const struct pyl_layout *L = c->L;
  if (code == 0 || pyl_peek_type(c, code) != L->code_type) {
    return 0;
  }
  if (pyl_layout_minor(L) >= 11) {
    return pyl_peek_i32(c, code + L->code_nlocalsplus_off);
  }
  int64_t n = pyl_peek_i32(c, code + L->code_nlocals_off);
  for (uint64_t off = L->code_cellvars_off; off != 0;
       off = off == L->code_cellvars_off ? L->code_freevars_off : 0) {
    uint64_t names = pyl_peek(c, code + off);
    n += names != 0 ? pyl_peek_i64(c, names + L->ob_size_off) : 0;
  }
  return n;
}

static void slot_facts(struct facts *f, uint64_t slots, uint64_t code,
                       int64_t n_stack_end, const struct frame_words *w) {
  struct pyl_view *c = f->c;
  int64_t n = slot_count(c, code);
  if (n < 0 || n > PYL_MAX_SLOTS) {
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    bool cell = false;
    uint64_t name = slot_name(c, code, i, &cell);
    pyl_fact_add(f, pyl_peek(c, slots + (uint64_t)i * PYL_PTR), F_NAMED,
                 cell ? w->cell : w->local, name, 0);
  }
  for (int64_t i = n; i < n_stack_end && i < n + PYL_MAX_SLOTS; i++) {
    pyl_fact_add(f, pyl_peek(c, slots + (uint64_t)i * PYL_PTR), F_TEXT,
                 w->stack, 0, 0);
  }
}

/* 3.11+: a _PyInterpreterFrame at fr (in a frame object or generator). */
static void iframe_facts(struct facts *f, uint64_t fr,
                         const struct frame_words *w) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  if (fr == 0 || L->iframe_localsplus_off == 0) {
    return;
  }
  /* Offset 0 is a real field here: pyl_fact_slot, not pyl_fact_field. */
  pyl_fact_slot(f, fr + L->iframe_frame_obj_off, F_TEXT, w->frame_obj, 0);
  pyl_fact_slot(f, fr + L->iframe_locals_off, F_TEXT, w->locals, 0);
  pyl_fact_slot(f, fr + L->iframe_func_off, F_TEXT, w->func, 0);
  pyl_fact_slot(f, fr + L->iframe_code_off, F_TEXT, w->code, 0);
  uint64_t code = pyl_peek(c, fr + L->iframe_code_off);
  int64_t top = pyl_peek_i32(c, fr + L->iframe_stacktop_off);
  slot_facts(f, fr + L->iframe_localsplus_off, code, top, w);
}

void pyl_facts_frame(struct facts *f, uint64_t obj) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  pyl_fact_field(f, obj, L->lb_frame_back_off, "f_back");
  pyl_fact_field(f, obj, L->lb_frame_trace_off, "f_trace");
  if (pyl_layout_minor(L) >= 11) {
    iframe_facts(f, pyl_peek(c, obj + L->lb_frame_iframe_off), &frame_words);
    return;
  }
  pyl_fact_field(f, obj, L->pyframe_code_off, "f_code");
  pyl_fact_field(f, obj, L->pyframe_builtins_off, "f_builtins");
  pyl_fact_field(f, obj, L->pyframe_globals_off, "f_globals");
  pyl_fact_field(f, obj, L->pyframe_locals_off, "f_locals");
  uint64_t code = pyl_peek(c, obj + L->pyframe_code_off);
  uint64_t slots = obj + L->pyframe_localsplus_off;
  /* The value stack follows the local slots: 3.8/3.9 up to f_stacktop
   * (NULL while running), 3.10 f_stackdepth entries. */
  uint64_t stack = pyl_peek(c, obj + L->pyframe_valuestack_off);
  int64_t depth = 0;
  if (L->pyframe_stacktop_off != 0) {
    uint64_t top = pyl_peek(c, obj + L->pyframe_stacktop_off);
    depth = top >= stack ? (int64_t)((top - stack) / PYL_PTR) : 0;
  } else if (L->pyframe_stackdepth_off != 0) {
    depth = pyl_peek_i32(c, obj + L->pyframe_stackdepth_off);
  }
  int64_t n = slot_count(c, code);
  if (stack != slots + (uint64_t)n * PYL_PTR) {
    depth = 0; /* not laid out as expected: name only the locals */
  }
  slot_facts(f, slots, code, n + depth, &frame_words);
}

void pyl_facts_gen(struct facts *f, uint64_t obj) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  uint64_t type = pyl_peek_type(c, obj);
  const struct frame_words *w = type == L->lb_gen_type    ? &gen_words
                                : type == L->lb_coro_type ? &coro_words
                                                          : &agen_words;
  pyl_fact_field(f, obj, L->lb_gi_name_off, "__name__");
  pyl_fact_field(f, obj, L->lb_gi_qualname_off, "__qualname__");
  pyl_fact_field(f, obj, L->lb_gi_code_off, w->code);
  pyl_fact_field(f, obj, L->lb_gi_frame_off, w->frame_obj);
  /* exc_value is at offset 0 of the state on 3.11+: pyl_fact_slot. */
  pyl_fact_slot(f, obj + L->lb_gi_exc_value_off, F_TEXT,
                "(exception being handled)", 0);
  if (L->lb_gi_iframe_off != 0) {
    iframe_facts(f, obj + L->lb_gi_iframe_off, w);
  }
}

/* The name of free variable i of a function's code. */
uint64_t pyl_freevar_name(struct pyl_view *c, uint64_t func, int64_t i) {
  const struct pyl_layout *L = c->L;
  uint64_t code = pyl_peek(c, func + L->lb_func_code_off);
  if (code == 0 || pyl_peek_type(c, code) != L->code_type) {
    return 0;
  }
  if (pyl_layout_minor(L) <= 10) {
    return pyl_peek_item(c, pyl_peek(c, code + L->code_freevars_off), i);
  }
  int64_t n = pyl_peek_i32(c, code + L->code_nlocalsplus_off);
  int64_t nfree = pyl_peek_i32(c, code + L->lb_code_nfreevars_off);
  return pyl_peek_item(c, pyl_peek(c, code + L->code_localsplusnames_off),
                       n - nfree + i);
}
