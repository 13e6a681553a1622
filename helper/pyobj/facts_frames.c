/* facts_frames.c — references of frames and generators, by local name. */
#include "facts.h"

#include "code.h"

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

static void slot_facts(struct facts *f, uint64_t slots, uint64_t code,
                       int64_t n_stack_end, const struct frame_words *w) {
  struct pyl_view *c = f->c;
  struct pyl_code_slots cs;
  int64_t n = pyl_code_slots(c, code, &cs) ? cs.n : 0;
  for (uint32_t i = 0; i < (uint32_t)n; i++) {
    pyl_fact_add(f, pyl_peek(c, slots + (uint64_t)i * PYL_PTR), F_NAMED,
                 pyl_code_slot_is_cell(c, &cs, i) ? w->cell : w->local,
                 pyl_code_slot_name(c, &cs, i), 0);
  }
  for (int64_t i = n; i < n_stack_end && i < n + PYL_CODE_MAX_SLOTS; i++) {
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
  pyl_fact_field(f, obj, L->pyframe_back_off, "f_back");
  pyl_fact_field(f, obj, L->pyframe_trace_off, "f_trace");
  if (pyl_layout_minor(L) >= 11) {
    iframe_facts(f, pyl_peek(c, obj + L->pyframe_frame_off), &frame_words);
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
  struct pyl_code_slots cs;
  int64_t n = pyl_code_slots(c, code, &cs) ? cs.n : 0;
  if (stack != slots + (uint64_t)n * PYL_PTR) {
    depth = 0; /* not laid out as expected: name only the locals */
  }
  slot_facts(f, slots, code, n + depth, &frame_words);
}

void pyl_facts_gen(struct facts *f, uint64_t obj) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  uint64_t type = pyl_peek_type(c, obj);
  const struct frame_words *w = type == L->gen_type    ? &gen_words
                                : type == L->coro_type ? &coro_words
                                                       : &agen_words;
  pyl_fact_field(f, obj, L->gen_name_off, "__name__");
  pyl_fact_field(f, obj, L->gen_qualname_off, "__qualname__");
  pyl_fact_field(f, obj, L->gen_code_off, w->code);
  pyl_fact_field(f, obj, L->gen_frame_off, w->frame_obj);
  /* exc_value is at offset 0 of the state on 3.11+: pyl_fact_slot. */
  pyl_fact_slot(f, obj + L->gen_exc_value_off, F_TEXT,
                "(exception being handled)", 0);
  if (L->gen_iframe_off != 0) {
    iframe_facts(f, obj + L->gen_iframe_off, w);
  }
}

/* The name of free variable i of a function's code. */
uint64_t pyl_freevar_name(struct pyl_view *c, uint64_t func, int64_t i) {
  const struct pyl_layout *L = c->L;
  uint64_t code = pyl_peek(c, func + L->func_code_off);
  if (code == 0 || pyl_peek_type(c, code) != L->code_type) {
    return 0;
  }
  if (pyl_layout_minor(L) <= 10) {
    return pyl_peek_item(c, pyl_peek(c, code + L->code_freevars_off), i);
  }
  int64_t n = pyl_peek_i32(c, code + L->code_nlocalsplus_off);
  int64_t nfree = pyl_peek_i32(c, code + L->code_nfreevars_off);
  return pyl_peek_item(c, pyl_peek(c, code + L->code_localsplusnames_off),
                       n - nfree + i);
}
