/* frames.c — thread states and the frames they run, 3.8-3.13. */
#include "frames.h"

#include "code.h"
#include "heap.h"
#include "peek.h"
#include "keyrepr.h"
#include "linetable.h"
#include "pystr.h"

enum {
  PYL_MAX_FRAMES = 1 << 16,           /* deeper than any recursion limit */
  PYL_MAX_SLOTS = PYL_CODE_MAX_SLOTS, /* and stack entries */
  PYL_MAX_LINETABLE = 1 << 24,        /* bytes of a line table we read */
  PYL_OWNED_BY_GENERATOR = 1,         /* _PyInterpreterFrame.owner, 3.11+ */
  PYL_OWNED_BY_CSTACK = 3,            /* 3.12+ shim frames */
  PYL_CODEUNIT = 2,                   /* sizeof(_Py_CODEUNIT) */
  PYL_FILE_BUF = 512,
};

/* What the walk needs of a code object. */
struct code {
  uint64_t addr;
  struct pyl_code_slots slots;
  uint32_t stacksize;
  int64_t firstlineno;
  uint64_t linetable; /* bytes object */
};

static bool iframes(const struct pyl_layout *L) {
  return pyl_layout_minor(L) >= 11;
}

/* --- small readers -------------------------------------------------------- */

static int32_t rd32(struct pyl_view *c, uint64_t addr) {
  uint32_t v = 0;
  return pyl_read_u32(&c->mem, addr, &v) ? (int32_t)v : -1;
}

static bool has_type(struct pyl_view *c, uint64_t obj, uint64_t type) {
  return obj != 0 && obj % PYL_PTR == 0 && type != 0 &&
         pyl_peek(c, obj + c->L->ob_type_off) == type;
}

/* Length of a tuple (or bytes) from ob_size; 0 when unreadable. */
static uint32_t var_size(struct pyl_view *c, uint64_t obj) {
  int64_t n = 0;
  if (obj == 0 || !pyl_read_i64(&c->mem, obj + c->L->ob_size_off, &n) ||
      n < 0 || n > PYL_MAX_SLOTS) {
    return 0;
  }
  return (uint32_t)n;
}

/* --- threads -------------------------------------------------------------- */

static void read_thread(struct pyl_view *c, uint64_t ts, struct pyl_thread *t) {
  const struct pyl_layout *L = c->L;
  t->tstate = ts;
  t->ident = pyl_peek(c, ts + L->tstate_thread_id_off);
  t->tid = L->tstate_native_tid_off != 0
               ? pyl_peek(c, ts + L->tstate_native_tid_off)
               : 0;
}

uint32_t pyl_threads(struct pyl_view *c, uint64_t interp,
                     struct pyl_thread *out, uint32_t max, bool *more) {
  const struct pyl_layout *L = c->L;
  uint64_t ts = pyl_peek(c, interp + L->interp_threads_offset);
  uint32_t n = 0;
  *more = false;
  while (ts != 0) {
    if (n == max || ts % PYL_PTR != 0 ||
        pyl_mem_ptr(&c->mem, ts, L->tstate_next_off + PYL_PTR) == NULL) {
      *more = true;
      break;
    }
    read_thread(c, ts, &out[n]);
    pyl_thread_lookup_name(c, interp, &out[n]);
    n++;
    ts = pyl_peek(c, ts + L->tstate_next_off);
  }
  /* The list is newest first: reverse it, then move the main thread to
   * the front. */
  for (uint32_t i = 0; i < n / 2; i++) {
    struct pyl_thread tmp = out[i];
    out[i] = out[n - 1 - i];
    out[n - 1 - i] = tmp;
  }
  uint64_t main_ident = pyl_peek(c, L->rt_main_thread_addr);
  for (uint32_t i = 1; i < n; i++) {
    if (out[i].ident == main_ident) {
      struct pyl_thread main = out[i];
      for (uint32_t k = i; k > 0; k--) {
        out[k] = out[k - 1];
      }
      out[0] = main;
      break;
    }
  }
  for (uint32_t i = 0; i < n; i++) {
    out[i].number = i + 1;
  }
  return n;
}

void pyl_thread_name(const struct pyl_thread *t, struct pyl_sbuf *b) {
  pyl_sbuf_str(b, "thread ");
  pyl_sbuf_dec(b, t->number);
  if (t->name[0] != '\0') {
    pyl_sbuf_str(b, " '");
    pyl_sbuf_str(b, t->name);
    pyl_sbuf_str(b, "'");
  }
  if (t->tid != 0) {
    pyl_sbuf_str(b, " (tid ");
    pyl_sbuf_dec(b, t->tid);
  } else {
    pyl_sbuf_str(b, " (ident ");
    pyl_sbuf_hex(b, t->ident);
  }
  pyl_sbuf_str(b, ")");
}

/* --- code objects --------------------------------------------------------- */

static bool read_code(struct pyl_view *c, uint64_t addr, struct code *co) {
  const struct pyl_layout *L = c->L;
  if (!has_type(c, addr, L->code_type)) {
    return false;
  }
  *co = (struct code){.addr = addr};
  if (!pyl_code_slots(c, addr, &co->slots)) {
    return false;
  }
  co->stacksize = (uint32_t)rd32(c, addr + L->code_stacksize_off);
  co->firstlineno = rd32(c, addr + L->code_firstlineno_off);
  co->linetable =
      pyl_peek(c, addr + (L->code_lnotab_off != 0 ? L->code_lnotab_off
                                                  : L->code_linetable_off));
  return co->stacksize <= PYL_MAX_SLOTS;
}

static int64_t code_line(struct pyl_view *c, const struct code *co,
                         int64_t offset) {
  const struct pyl_layout *L = c->L;
  unsigned minor = pyl_layout_minor(L);
  enum pyl_linetable_format fmt = minor <= 9    ? PYL_LINES_LNOTAB
                                  : minor == 10 ? PYL_LINES_LINETABLE
                                                : PYL_LINES_LOCATIONS;
  uint32_t len = var_size(c, co->linetable);
  if (!has_type(c, co->linetable, L->bytes_type) || len > PYL_MAX_LINETABLE) {
    return -1;
  }
  const uint8_t *t =
      pyl_mem_ptr(&c->mem, co->linetable + L->bytes_sval_off, len);
  if (t == NULL) {
    return -1;
  }
  return pyl_line_for(fmt, t, len, co->firstlineno, offset);
}

static void str_into(struct pyl_view *c, uint64_t s, char *buf, size_t cap) {
  if (!pyl_is_str(c, s) || !pyl_str_utf8(c, s, buf, cap)) {
    buf[0] = '?';
    buf[1] = '\0';
  }
}

void pyl_code_where(struct pyl_view *c, uint64_t code, int64_t line,
                    struct pyl_sbuf *b) {
  const struct pyl_layout *L = c->L;
  char file[PYL_FILE_BUF];
  uint64_t name_off =
      L->code_qualname_off != 0 ? L->code_qualname_off : L->code_name_off;
  str_into(c, pyl_peek(c, code + L->code_filename_off), file, sizeof(file));
  const char *base = file;
  for (const char *p = file; *p != '\0'; p++) {
    if (*p == '/') {
      base = p + 1;
    }
  }
  pyl_put_name(c, pyl_peek(c, code + name_off), b);
  pyl_sbuf_str(b, "() ");
  pyl_sbuf_str(b, base);
  if (line >= 0) {
    pyl_sbuf_str(b, ":");
    pyl_sbuf_dec(b, (uint64_t)line);
  }
}

/* --- slots ---------------------------------------------------------------- */

struct walk {
  struct pyl_view *c;
  const struct pyl_objtab *tab; /* frame objects that are in the graph */
  const struct pyl_frame_visitor *v;
  struct pyl_frame fr;
};

static void emit(struct walk *w, uint64_t value, uint64_t name, unsigned kind,
                 bool counted, bool root) {
  if (value == 0) {
    return;
  }
  struct pyl_slot s = {.value = value,
                       .name = name,
                       .kind = (uint8_t)kind,
                       .counted = counted,
                       .root = root};
  w->v->slot(w->v->arg, &w->fr, &s);
}

/* The variables of a frame: localsplus[0..slots.n) at `base`.  A cell or
 * free variable reports its cell and, as a root, the value inside. */
static void variables(struct walk *w, const struct code *co, uint64_t base,
                      bool counted) {
  struct pyl_view *c = w->c;
  const uint64_t *slots =
      pyl_mem_ptr(&c->mem, base, (uint64_t)co->slots.n * PYL_PTR);
  if (slots == NULL) {
    return;
  }
  for (uint32_t i = 0; i < co->slots.n; i++) {
    uint64_t v = pyl_ld_u64(slots, (uint64_t)i * PYL_PTR);
    if (v == 0) {
      continue;
    }
    uint64_t name = pyl_code_slot_name(c, &co->slots, i);
    if (pyl_code_slot_is_cell(c, &co->slots, i) &&
        has_type(c, v, c->L->cell_type)) {
      emit(w, v, name, PYL_SLOT_CELL_OBJ, counted, true);
      emit(w, pyl_peek(c, v + c->L->cell_ref_off), name, PYL_SLOT_CELL, false,
           true);
    } else {
      emit(w, v, name, PYL_SLOT_LOCAL, counted, true);
    }
  }
}

/* Value stack entries [base, base + 8n): known ones are references the
 * frame holds; `maybe` ones are the whole window of a running frame. */
static void stack(struct walk *w, uint64_t base, uint64_t n, bool counted,
                  bool maybe) {
  struct pyl_view *c = w->c;
  const void *p = NULL;
  while (n > 0 && (p = pyl_mem_ptr(&c->mem, base, n * PYL_PTR)) == NULL) {
    n /= 2; /* a window may run past the end of the data stack chunk */
  }
  for (uint64_t i = 0; i < n; i++) {
    uint64_t v = pyl_ld_u64(p, i * PYL_PTR);
    if (v % PYL_PTR == 0) {
      emit(w, v, 0, maybe ? PYL_SLOT_STACK_MAYBE : PYL_SLOT_STACK,
           counted && !maybe, !maybe);
    }
  }
}

/* --- 3.8-3.10: PyFrameObject ---------------------------------------------- */

static int64_t pyframe_offset(struct pyl_view *c, const void *p) {
  int64_t lasti = (int32_t)pyl_ld_u32(p, c->L->pyframe_lasti_off);
  /* 3.10 counts code units, 3.8/3.9 bytes */
  return pyl_layout_minor(c->L) == 10 ? lasti * PYL_CODEUNIT : lasti;
}

static void pyframe_stack(struct walk *w, const void *p, const struct code *co,
                          bool counted) {
  const struct pyl_layout *L = w->c->L;
  uint64_t base = pyl_ld_u64(p, L->pyframe_valuestack_off);
  int64_t depth = -1;
  if (L->pyframe_stacktop_off != 0) {
    uint64_t top = pyl_ld_u64(p, L->pyframe_stacktop_off);
    depth = top != 0 && top >= base ? (int64_t)((top - base) / PYL_PTR) : -1;
  } else {
    depth = (int32_t)pyl_ld_u32(p, L->pyframe_stackdepth_off);
  }
  if (depth >= 0 && depth <= co->stacksize) {
    stack(w, base, (uint64_t)depth, counted, false);
  } else {
    stack(w, base, co->stacksize, false, true);
  }
}

static void pyframe_slots(struct walk *w, const void *p, const struct code *co,
                          bool traversed) {
  const struct pyl_layout *L = w->c->L;
  uint64_t f = w->fr.addr;
  bool counted = !traversed;
  variables(w, co, f + L->pyframe_localsplus_off, counted);
  pyframe_stack(w, p, co, counted);
  /* Module-level code runs with f_locals == f_globals: the module root
   * names that dict better ("module app" then ".name"). */
  uint64_t locals = pyl_ld_u64(p, L->pyframe_locals_off);
  emit(w, locals, 0, PYL_SLOT_LOCALS, counted,
       locals != pyl_ld_u64(p, L->pyframe_globals_off));
  const uint64_t others[] = {L->pyframe_back_off, L->pyframe_code_off,
                             L->pyframe_builtins_off, L->pyframe_globals_off,
                             L->pyframe_trace_off};
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
    emit(w, pyl_ld_u64(p, others[i]), 0, PYL_SLOT_OTHER, counted, false);
  }
  /* The eval loop owns one reference to the frame it runs, except for a
   * generator's frame (the generator holds it). */
  if (traversed && pyl_ld_u64(p, L->pyframe_gen_off) == 0) {
    emit(w, f, 0, PYL_SLOT_FRAME_OBJ, true, true);
  }
}

/* A frame whose code object is unreadable is skipped (the walk goes on
 * to its caller and reports false at the end). */
static bool walk_pyframes(struct walk *w, uint64_t f) {
  struct pyl_view *c = w->c;
  const struct pyl_layout *L = c->L;
  bool whole = true;
  uint32_t depth = 0;
  for (uint32_t steps = 0; f != 0; steps++) {
    const void *p = NULL;
    struct code co;
    if (steps == PYL_MAX_FRAMES || f % PYL_PTR != 0 ||
        (p = pyl_mem_ptr(&c->mem, f, L->pyframe_localsplus_off)) == NULL) {
      return false;
    }
    if (read_code(c, pyl_ld_u64(p, L->pyframe_code_off), &co)) {
      w->fr =
          (struct pyl_frame){.addr = f,
                             .code = co.addr,
                             .line = code_line(c, &co, pyframe_offset(c, p)),
                             .depth = depth++};
      w->v->frame(w->v->arg, &w->fr);
      pyframe_slots(w, p, &co, pyl_objtab_find(w->tab, f) != PYL_NONE);
    } else {
      whole = false;
    }
    f = pyl_ld_u64(p, L->pyframe_back_off);
  }
  return whole;
}

/* --- 3.11+: _PyInterpreterFrame ------------------------------------------- */

static void iframe_slots(struct walk *w, const void *p, const struct code *co,
                         uint8_t owner) {
  const struct pyl_layout *L = w->c->L;
  uint64_t base = w->fr.addr + L->iframe_localsplus_off;
  int32_t top = (int32_t)pyl_ld_u32(p, L->iframe_stacktop_off);
  /* A generator's traverse visits its frame's fields and
   * localsplus[0..stacktop); stacktop is -1 while the frame runs. */
  bool gen = owner == PYL_OWNED_BY_GENERATOR;
  bool counted = !(gen && top >= 0);
  variables(w, co, base, counted);
  uint64_t first = base + (uint64_t)co->slots.n * PYL_PTR;
  if (top >= 0 && (uint32_t)top > co->slots.n &&
      (uint32_t)top - co->slots.n <= co->stacksize) {
    stack(w, first, (uint32_t)top - co->slots.n, counted, false);
  } else if (top < 0) {
    stack(w, first, co->stacksize, false, true);
  }
  emit(w, pyl_ld_u64(p, L->iframe_func_off), 0, PYL_SLOT_FUNC, !gen, true);
  emit(w, co->addr, 0, PYL_SLOT_OTHER, !gen, false);
  uint64_t locals = pyl_ld_u64(p, L->iframe_locals_off);
  emit(w, locals, 0, PYL_SLOT_LOCALS, !gen,
       locals != pyl_ld_u64(p, L->iframe_globals_off));
  emit(w, pyl_ld_u64(p, L->iframe_frame_obj_off), 0, PYL_SLOT_FRAME_OBJ, !gen,
       true);
}

static uint64_t first_iframe(struct pyl_view *c, uint64_t tstate) {
  const struct pyl_layout *L = c->L;
  if (L->tstate_cframe_off != 0) {
    uint64_t cframe = pyl_peek(c, tstate + L->tstate_cframe_off);
    return cframe != 0 ? pyl_peek(c, cframe + L->cframe_current_frame_off) : 0;
  }
  return pyl_peek(c, tstate + L->tstate_frame_off);
}

static bool walk_iframes(struct walk *w, uint64_t f) {
  struct pyl_view *c = w->c;
  const struct pyl_layout *L = c->L;
  bool whole = true;
  uint32_t depth = 0;
  for (uint32_t steps = 0; f != 0; steps++) {
    const void *p = NULL;
    if (steps == PYL_MAX_FRAMES || f % PYL_PTR != 0 ||
        (p = pyl_mem_ptr(&c->mem, f, L->iframe_localsplus_off)) == NULL) {
      return false;
    }
    uint8_t owner = pyl_ld_u8(p, L->iframe_owner_off);
    uint64_t prev = pyl_ld_u64(p, L->iframe_previous_off);
    struct code co;
    bool shim = pyl_layout_minor(L) >= 12 && owner == PYL_OWNED_BY_CSTACK;
    if (!shim && !read_code(c, pyl_ld_u64(p, L->iframe_code_off), &co)) {
      whole = false;
    } else if (!shim) {
      uint64_t instr = pyl_ld_u64(p, L->iframe_instr_off);
      int64_t lasti =
          ((int64_t)instr - (int64_t)(co.addr + L->code_adaptive_off)) /
          PYL_CODEUNIT;
      w->fr = (struct pyl_frame){.addr = f,
                                 .code = co.addr,
                                 .line = code_line(c, &co, lasti),
                                 .depth = depth++};
      w->v->frame(w->v->arg, &w->fr);
      iframe_slots(w, p, &co, owner);
    }
    f = prev;
  }
  return whole;
}

bool pyl_frames_walk(struct pyl_view *c, const struct pyl_objtab *tab,
                     const struct pyl_thread *t,
                     const struct pyl_frame_visitor *v) {
  struct walk w = {.c = c, .tab = tab, .v = v};
  if (iframes(c->L)) {
    return walk_iframes(&w, first_iframe(c, t->tstate));
  }
  return walk_pyframes(&w, pyl_peek(c, t->tstate + c->L->tstate_frame_off));
}
