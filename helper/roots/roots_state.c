/*
 * roots_state.c — roots in the interpreter's own state: the slots of each
 * interpreter and thread state (sys.modules, the sys and builtins dicts,
 * import, codec and warnings registries, gc lists, hooks, exceptions being
 * raised or handled...), the C globals of libpython that hold objects, and
 * the dict copies single-phase extension modules keep in C.
 */
#include "frames.h"
#include "keyrepr.h"
#include "roots_build.h"

/* --- interpreter state ---------------------------------------------------- */

struct slot_name {
  uint64_t off;
  const char *what;
};

static void slot_roots(struct pyl_build *b, uint64_t base, const char *prefix,
                       const struct slot_name *slots, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (slots[i].off == 0 || slots[i].off >= PYL_MAX_STATE_OFFSET) {
      continue; /* not in this version */
    }
    char desc[PYL_DESC_MAX];
    struct pyl_sbuf s;
    pyl_sbuf_init(&s, desc, sizeof(desc));
    pyl_sbuf_str(&s, prefix);
    pyl_sbuf_str(&s, slots[i].what);
    pyl_rb_root(b, pyl_peek(b->c, base + slots[i].off), PYL_ROOT_INTERPRETER,
                desc, true);
  }
}

static void interp_slots(struct pyl_build *b) {
  const struct pyl_layout *L = b->c->L;
  const struct slot_name slots[] = {
      {L->interp_modules_offset, "sys.modules"},
      {L->interp_sysdict_offset, "sys.__dict__"},
      {L->interp_builtins_offset, "builtins.__dict__"},
      {L->interp_importlib_offset, "importlib._bootstrap"},
      {L->interp_import_func_offset, "builtins.__import__"},
      {L->interp_dict_offset, "state dict"},
      {L->interp_builtins_copy_offset, "builtins.__dict__ copy"},
      {L->interp_sysdict_copy_offset, "sys.__dict__ copy"},
      {L->interp_codec_path_offset, "codecs search functions"},
      {L->interp_codec_cache_offset, "codecs cache"},
      {L->interp_codec_errors_offset, "codecs error handlers"},
      {L->interp_warn_filters_offset, "warnings.filters"},
      {L->interp_warn_once_offset, "warnings._onceregistry"},
      {L->interp_warn_action_offset, "warnings._defaultaction"},
      {L->interp_gc_garbage_offset, "gc.garbage"},
      {L->interp_gc_callbacks_offset, "gc.callbacks"},
      {L->interp_audit_hooks_offset, "sys.addaudithook() hooks"},
      {L->interp_forkers_before_offset, "os.register_at_fork(before=)"},
      {L->interp_forkers_parent_offset,
       "os.register_at_fork(after_in_parent=)"},
      {L->interp_forkers_child_offset, "os.register_at_fork(after_in_child=)"},
      {L->interp_modules_by_index_offset, "single-phase modules by index"},
      {L->interp_errnomap_offset, "OSError errno map"},
      {L->interp_exc_group_offset, "ExceptionGroup type"},
      {L->interp_not_shareable_offset, "NotShareableError type"},
      {L->interp_interned_offset, "interned strings"},
      {L->interp_str_replace_inf_offset, "cached str 'inf'"},
      {L->interp_objreduce_offset, "cached object.__reduce__"},
      {L->interp_slots_pname_offset, "cached slot name"},
  };
  char prefix[PYL_DESC_MAX];
  struct pyl_sbuf s;
  pyl_sbuf_init(&s, prefix, sizeof(prefix));
  pyl_rb_interp_prefix(b, &s);
  slot_roots(b, b->interp, prefix, slots, sizeof(slots) / sizeof(slots[0]));
  if (b->interp_no == 0 && L->rt_gc_garbage_addr != 0) {
    /* 3.8 keeps the collector's lists in _PyRuntime */
    const struct slot_name gc[] = {{L->rt_gc_garbage_addr, "gc.garbage"},
                                   {L->rt_gc_callbacks_addr, "gc.callbacks"}};
    for (size_t i = 0; i < sizeof(gc) / sizeof(gc[0]); i++) {
      char desc[PYL_DESC_MAX];
      struct pyl_sbuf d;
      pyl_sbuf_init(&d, desc, sizeof(desc));
      pyl_sbuf_str(&d, prefix);
      pyl_sbuf_str(&d, gc[i].what);
      pyl_rb_root(b, pyl_peek(b->c, gc[i].off), PYL_ROOT_INTERPRETER, desc,
                  true);
    }
  }
}

/* Runs of object pointers: the _ast module's types and singletons
 * (3.10+), typing's C types (3.12+). */
static void pointer_runs(struct pyl_build *b) {
  enum { MAX_RUN = 4096 };
  const struct pyl_layout *L = b->c->L;
  const struct {
    uint64_t off;
    uint64_t n;
    const char *what;
  } runs[] = {{L->interp_ast_offset, L->interp_ast_n, "_ast state"},
              {L->interp_typing_offset, L->interp_typing_n, "typing C types"}};
  for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
    if (runs[k].off == 0 || runs[k].off >= PYL_MAX_STATE_OFFSET ||
        runs[k].n > MAX_RUN) {
      continue;
    }
    char desc[PYL_DESC_MAX];
    struct pyl_sbuf d;
    pyl_sbuf_init(&d, desc, sizeof(desc));
    pyl_rb_interp_prefix(b, &d);
    pyl_sbuf_str(&d, runs[k].what);
    for (uint64_t i = 0; i < runs[k].n; i++) {
      pyl_rb_root(b, pyl_peek(b->c, b->interp + runs[k].off + i * 8),
                  PYL_ROOT_INTERPRETER, desc, true);
    }
  }
}

/* 3.10+: atexit.register() callbacks live in C structs of the
 * interpreter state. */
static void atexit_roots(struct pyl_build *b) {
  enum { MAX_CALLBACKS = 1 << 20 };
  const struct pyl_layout *L = b->c->L;
  if (L->interp_atexit_offset == 0 ||
      L->interp_atexit_offset >= PYL_MAX_STATE_OFFSET) {
    return;
  }
  uint64_t array = pyl_peek(b->c, b->interp + L->interp_atexit_offset);
  uint32_t n = 0;
  if (array == 0 ||
      !pyl_read_u32(&b->c->mem, b->interp + L->interp_atexit_n_offset, &n) ||
      n > MAX_CALLBACKS) {
    return;
  }
  char prefix[PYL_DESC_MAX];
  struct pyl_sbuf s;
  pyl_sbuf_init(&s, prefix, sizeof(prefix));
  pyl_rb_interp_prefix(b, &s);
  pyl_sbuf_str(&s, "atexit callback ");
  const struct slot_name parts[] = {{L->atexit_cb_func_off, "function"},
                                    {L->atexit_cb_args_off, "args"},
                                    {L->atexit_cb_kwargs_off, "kwargs"}};
  for (uint32_t i = 0; i < n; i++) {
    uint64_t cb = pyl_peek(b->c, array + (uint64_t)i * 8);
    for (size_t k = 0; cb != 0 && k < sizeof(parts) / sizeof(parts[0]); k++) {
      char desc[PYL_DESC_MAX];
      struct pyl_sbuf d;
      pyl_sbuf_init(&d, desc, sizeof(desc));
      pyl_sbuf_str(&d, prefix);
      pyl_sbuf_str(&d, parts[k].what);
      pyl_rb_root(b, pyl_peek(b->c, cb + parts[k].off), PYL_ROOT_INTERPRETER,
                  desc, true);
    }
  }
}

/* A single-phase extension module's PyModuleDef keeps a copy of the
 * module's dict (m_base.m_copy, to re-create the module): only C holds
 * it.  Each definition once (one PyModuleDef may serve several module
 * objects). */
static void module_copies(struct pyl_build *b) {
  struct pyl_view *c = b->c;
  struct pyl_heap *h = b->h;
  const struct pyl_layout *L = c->L;
  uint32_t id = PYL_NONE;
  for (uint32_t t = 0; t < c->types.n && id == PYL_NONE; t++) {
    id = c->types.rec[t].addr == L->module_type ? t : PYL_NONE;
  }
  if (id == PYL_NONE || L->module_def_off == 0) {
    return;
  }
  pyl_arena_reset(&b->r->a_tmp);
  uint64_t *defs = pyl_arena_alloc(
      &b->r->a_tmp, sizeof(uint64_t) * (c->types.rec[id].count + 1), 8);
  uint64_t n_defs = 0;
  if (defs == NULL) {
    pyl_rb_nomem(b);
    return;
  }
  for (uint32_t i = 0; i < h->tab.n && n_defs <= c->types.rec[id].count; i++) {
    uint64_t def = h->tab.type[i] == id
                       ? pyl_peek(b->c, h->tab.addr[i] + L->module_def_off)
                       : 0;
    bool seen = def == 0;
    for (uint64_t k = 0; k < n_defs && !seen; k++) {
      seen = defs[k] == def;
    }
    if (seen) {
      continue;
    }
    defs[n_defs++] = def;
    char desc[PYL_DESC_MAX];
    struct pyl_sbuf s;
    pyl_sbuf_init(&s, desc, sizeof(desc));
    pyl_sbuf_str(&s, "interpreter saved __dict__ of extension module '");
    pyl_put_name(c, pyl_peek(b->c, h->tab.addr[i] + L->module_name_off), &s);
    pyl_sbuf_str(&s, "'");
    pyl_rb_root(b, pyl_peek(b->c, def + L->moduledef_copy_off),
                PYL_ROOT_INTERPRETER, desc, true);
  }
  pyl_arena_reset(&b->r->a_tmp);
}

/* C globals of libpython that hold objects: the single-phase extension
 * registry (3.8-3.11) and the Python signal handlers. */
static void c_globals(struct pyl_build *b) {
  enum { MAX_SIGNALS = 1024 };
  const struct pyl_layout *L = b->c->L;
  if (L->import_extensions_addr != 0) {
    pyl_rb_root(b, pyl_peek(b->c, L->import_extensions_addr),
                PYL_ROOT_INTERPRETER,
                "interpreter single-phase extension definitions", true);
  }
  if (L->signal_handlers_addr == 0 || L->signal_handlers_n > MAX_SIGNALS ||
      L->signal_handler_size < 8) {
    return;
  }
  for (uint64_t i = 1; i < L->signal_handlers_n; i++) {
    char desc[PYL_DESC_MAX];
    struct pyl_sbuf s;
    pyl_sbuf_init(&s, desc, sizeof(desc));
    pyl_sbuf_str(&s, "interpreter handler of signal ");
    pyl_sbuf_dec(&s, i);
    pyl_rb_root(b,
                pyl_peek(b->c, L->signal_handlers_addr +
                                   i * L->signal_handler_size +
                                   L->signal_handler_func_off),
                PYL_ROOT_INTERPRETER, desc, true);
  }
}

/* --- threads -------------------------------------------------------------- */

void pyl_roots_thread(struct pyl_build *b, const struct pyl_thread *t) {
  const struct pyl_layout *L = b->c->L;
  const struct slot_name slots[] = {
      {L->tstate_cur_exc_off, "exception being raised"},
      {L->tstate_curexc_type_off, "exception type being raised"},
      {L->tstate_curexc_value_off, "exception being raised"},
      {L->tstate_curexc_tb_off, "traceback being raised"},
      {L->tstate_exc_type_off, "exception type being handled"},
      {L->tstate_exc_value_off, "exception being handled"},
      {L->tstate_exc_tb_off, "traceback being handled"},
      {L->tstate_dict_off, "thread state dict"},
      {L->tstate_context_off, "contextvars context"},
      {L->tstate_traceobj_off, "sys.settrace() function"},
      {L->tstate_profileobj_off, "sys.setprofile() function"},
      {L->tstate_async_exc_off, "pending async exception"},
      {L->tstate_agen_firstiter_off, "asyncgen firstiter hook"},
      {L->tstate_agen_finalizer_off, "asyncgen finalizer hook"},
      /* only a weakref when threading set it: a root only if in the table */
      {L->tstate_on_delete_data_off, "threading sentinel lock weakref"},
      {L->tstate_tlocal_key_off, "threading.local key"},
      {L->tstate_tlocal_sentinel_off, "threading.local sentinel"},
  };
  char prefix[PYL_DESC_MAX];
  struct pyl_sbuf s;
  pyl_sbuf_init(&s, prefix, sizeof(prefix));
  pyl_rb_interp_prefix(b, &s);
  pyl_thread_name(t, &s);
  pyl_sbuf_str(&s, " ");
  slot_roots(b, t->tstate, prefix, slots, sizeof(slots) / sizeof(slots[0]));
}

void pyl_roots_interp(struct pyl_build *b) {
  interp_slots(b);
  pointer_runs(b);
  atexit_roots(b);
}

void pyl_roots_globals(struct pyl_build *b) {
  module_copies(b);
  c_globals(b);
}
