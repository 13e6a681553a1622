/* facts.c — which decoders an object needs (pyl_facts_collect), and those of
 * builtin containers, functions, methods, types, modules, exceptions, deque and
 * lru_cache. */
#include "facts.h"

#include "kinds.h"

#include "pydict.h"

enum {
  PYL_MAX_ITEMS = 1 << 28, /* container sizes we believe */
  PYL_MAX_LINKS = 1 << 26, /* lru_cache links we follow */
};

/* ---- containers ---- */

static void items(struct facts *f, uint64_t array, int64_t n) {
  if (array == 0 || n <= 0 || n > PYL_MAX_ITEMS) {
    return;
  }
  const void *p = pyl_mem_ptr(&f->c->mem, array, (uint64_t)n * PYL_PTR);
  for (int64_t i = 0; p != NULL && i < n; i++) {
    pyl_fact_add(f, pyl_ld_u64(p, (uint64_t)i * PYL_PTR), F_INDEX, NULL, 0,
                 (uint32_t)i);
  }
}

static void list_facts(struct facts *f, uint64_t obj) {
  const struct pyl_layout *L = f->c->L;
  items(f, pyl_peek(f->c, obj + L->list_ob_item_off),
        pyl_peek_i64(f->c, obj + L->ob_size_off));
}

static void tuple_facts(struct facts *f, uint64_t obj, uint64_t prev) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  int64_t n = pyl_peek_i64(c, obj + L->ob_size_off);
  bool closure = prev != 0 && pyl_peek_type(c, prev) == L->function_type &&
                 pyl_peek(c, prev + L->func_closure_off) == obj;
  if (!closure) {
    items(f, obj + L->tuple_ob_item_off, n);
    return;
  }
  for (int64_t i = 0; i < n && i < PYL_MAX_ITEMS; i++) {
    pyl_fact_add(f, pyl_peek_item(c, obj, i), F_CLOSURE, NULL,
                 pyl_freevar_name(c, prev, i), (uint32_t)i);
  }
}

static void set_facts(struct facts *f, uint64_t obj, const char *label) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  uint64_t mask = pyl_peek(c, obj + L->set_mask_off);
  uint64_t table = pyl_peek(c, obj + L->set_table_off);
  if (mask >= PYL_MAX_ITEMS || table == 0) {
    return;
  }
  const void *p = pyl_mem_ptr(&c->mem, table, (mask + 1) * L->sizeof_setentry);
  for (uint64_t i = 0; p != NULL && i <= mask; i++) {
    pyl_fact_add(f, pyl_ld_u64(p, i * L->sizeof_setentry), F_TEXT, label, 0, 0);
  }
}

static int dict_item(uint64_t key, uint64_t value, void *arg) {
  struct facts *f = arg;
  pyl_fact_add(f, key, F_KEY_OF, NULL, key, 0);
  pyl_fact_add(f, value, F_KEY_VALUE, NULL, key, 0);
  return f->oom;
}

static void dict_facts(struct facts *f, uint64_t obj) {
  (void)pyl_dict_foreach(f->c, obj, dict_item, f);
}

static void deque_facts(struct facts *f, uint64_t obj) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  int64_t n = pyl_peek_i64(c, obj + L->ob_size_off);
  uint64_t block = pyl_peek(c, obj + L->deque_leftblock_off);
  int64_t i = pyl_peek_i64(c, obj + L->deque_leftindex_off);
  int64_t len = (int64_t)L->deque_blocklen;
  if (n < 0 || n > PYL_MAX_ITEMS || len <= 0 || i < 0 || i >= len) {
    return;
  }
  for (int64_t k = 0; k < n && block != 0; k++) {
    pyl_fact_add(
        f, pyl_peek(c, block + L->deque_block_data_off + (uint64_t)i * PYL_PTR),
        F_INDEX, NULL, 0, (uint32_t)k);
    if (++i == len) {
      block = pyl_peek(c, block + L->deque_block_rightlink_off);
      i = 0;
    }
  }
}

/* lru_cache_object: its root link is the object itself. */
static void lru_facts(struct facts *f, uint64_t obj) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  pyl_fact_field(f, obj, L->lru_cache_off, "cache");
  pyl_fact_field(f, obj, L->lru_func_off, "__wrapped__");
  pyl_fact_field(f, obj, L->lru_dict_off, ".__dict__");
  uint64_t link = pyl_peek(c, obj + L->lru_elem_next_off);
  for (uint32_t k = 0; link != obj && link != 0 && k < PYL_MAX_LINKS; k++) {
    pyl_fact_add(f, pyl_peek(c, link + L->lru_elem_key_off), F_TEXT,
                 "cache key", 0, 0);
    pyl_fact_add(f, pyl_peek(c, link + L->lru_elem_result_off), F_TEXT,
                 "cached result", 0, 0);
    link = pyl_peek(c, link + L->lru_elem_next_off);
  }
}

/* ---- functions, methods, types, modules, exceptions ---- */

static void function_facts(struct facts *f, uint64_t obj) {
  const struct pyl_layout *L = f->c->L;
  pyl_fact_field(f, obj, L->func_code_off, "__code__");
  pyl_fact_field(f, obj, L->func_globals_off, "__globals__");
  pyl_fact_field(f, obj, L->func_builtins_off, "__builtins__");
  pyl_fact_field(f, obj, L->func_name_off, "__name__");
  pyl_fact_field(f, obj, L->func_qualname_off, "__qualname__");
  pyl_fact_field(f, obj, L->func_module_off, "__module__");
  pyl_fact_field(f, obj, L->func_defaults_off, "__defaults__");
  pyl_fact_field(f, obj, L->func_kwdefaults_off, "__kwdefaults__");
  pyl_fact_field(f, obj, L->func_doc_off, "__doc__");
  pyl_fact_field(f, obj, L->func_dict_off, "__dict__");
  pyl_fact_field(f, obj, L->func_closure_off, "__closure__");
  pyl_fact_field(f, obj, L->func_annotations_off, "__annotations__");
  pyl_fact_field(f, obj, L->func_typeparams_off, "__type_params__");
}

static void type_facts(struct facts *f, uint64_t obj) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  pyl_fact_field(f, obj, L->tp_dict_off, ".__dict__");
  pyl_fact_field(f, obj, L->type_mro_off, "__mro__");
  pyl_fact_field(f, obj, L->type_bases_off, "__bases__");
  pyl_fact_field(f, obj, L->tp_base_off, "__base__");
  if ((pyl_peek_flags(c, obj) & PYL_TPF_HEAPTYPE) != 0) {
    pyl_fact_field(f, obj, L->ht_module_off, "(module that defined it)");
  }
}

static void exception_facts(struct facts *f, uint64_t obj) {
  const struct pyl_layout *L = f->c->L;
  pyl_fact_field(f, obj, L->exc_dict_off, ".__dict__");
  pyl_fact_field(f, obj, L->exc_args_off, "args");
  pyl_fact_field(f, obj, L->exc_notes_off, "__notes__");
  pyl_fact_field(f, obj, L->exc_traceback_off, "__traceback__");
  pyl_fact_field(f, obj, L->exc_context_off, "__context__");
  pyl_fact_field(f, obj, L->exc_cause_off, "__cause__");
}

/* The builtin layout the object's type derives from: the first type of
 * the tp_base chain a decoder knows. */
static void base_facts(struct facts *f, uint64_t obj, uint64_t type,
                       uint64_t prev) {
  struct pyl_view *c = f->c;
  const struct pyl_layout *L = c->L;
  for (unsigned d = 0; type != 0 && d < PYL_MAX_BASES; d++) {
    if (type == L->dict_type) {
      dict_facts(f, obj);
    } else if (type == L->list_type) {
      list_facts(f, obj);
    } else if (type == L->tuple_type) {
      tuple_facts(f, obj, prev);
    } else if (type == L->set_type) {
      set_facts(f, obj, "member of set");
    } else if (type == L->frozenset_type) {
      set_facts(f, obj, "member of frozenset");
    } else if (type == L->module_type) {
      pyl_fact_field(f, obj, L->module_dict_off, ".__dict__");
    } else if (type == L->type_type) {
      type_facts(f, obj);
    } else if (type == L->function_type) {
      function_facts(f, obj);
    } else if (type == L->method_type) {
      pyl_fact_field(f, obj, L->method_func_off, "__func__");
      pyl_fact_field(f, obj, L->method_self_off, "__self__");
    } else if (type == L->cfunction_type) {
      pyl_fact_field(f, obj, L->cfunc_self_off, "__self__");
      pyl_fact_field(f, obj, L->cfunc_module_off, "__module__");
    } else if (type == L->cell_type) {
      pyl_fact_field(f, obj, L->cell_ref_off, "cell_contents");
    } else if (type == L->classmethod_type) {
      pyl_fact_field(f, obj, L->classmethod_callable_off, "__func__");
      pyl_fact_field(f, obj, L->classmethod_dict_off, "__dict__");
    } else if (type == L->staticmethod_type) {
      pyl_fact_field(f, obj, L->staticmethod_callable_off, "__func__");
      pyl_fact_field(f, obj, L->staticmethod_dict_off, "__dict__");
    } else if (type == L->property_type) {
      pyl_fact_field(f, obj, L->property_get_off, "fget");
      pyl_fact_field(f, obj, L->property_set_off, "fset");
      pyl_fact_field(f, obj, L->property_del_off, "fdel");
      pyl_fact_field(f, obj, L->property_doc_off, "__doc__");
      pyl_fact_field(f, obj, L->property_name_off, "__name__");
    } else if (type == L->frame_type) {
      pyl_facts_frame(f, obj);
    } else if (type == L->gen_type || type == L->coro_type ||
               type == L->asyncgen_type) {
      pyl_facts_gen(f, obj);
    } else if (type == L->traceback_type) {
      pyl_fact_field(f, obj, L->traceback_next_off, "tb_next");
      pyl_fact_field(f, obj, L->traceback_frame_off, "tb_frame");
    } else if (pyl_type_named(c, type, "collections.deque")) {
      deque_facts(f, obj);
    } else if (pyl_type_named(c, type, "functools._lru_cache_wrapper")) {
      lru_facts(f, obj);
    } else {
      type = pyl_peek(c, type + L->tp_base_off);
      continue;
    }
    return;
  }
}

void pyl_facts_collect(struct facts *f, uint64_t obj, uint64_t prev) {
  struct pyl_view *c = f->c;
  uint64_t type = pyl_peek_type(c, obj);
  if (type == 0) {
    return;
  }
  if ((pyl_peek_flags(c, type) & PYL_TPF_BASE_EXC_SUBCLASS) != 0) {
    exception_facts(f, obj);
  }
  base_facts(f, obj, type, prev);
  pyl_facts_attributes(f, obj, type);
  pyl_facts_members(f, obj, type);
  if ((pyl_peek_flags(c, type) & PYL_TPF_HEAPTYPE) != 0) {
    pyl_fact_slot(f, obj + c->L->ob_type_off, F_TEXT, "__class__", 0);
  }
}
