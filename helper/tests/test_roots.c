/* test_roots.c — pyl_roots_build on a fake heap with a fake interpreter.
 *
 * One interpreter (3.12 layout) with one thread running one interpreter
 * frame, whose code, names, kinds and line table are fake objects too.
 * Every object's refcount is set so that the expected residue is known:
 * held by interpreter slots, by frame locals, cells and the value stack
 * window, by C code (unexplained), immortal, and counted twice. */
#include "check.h"
#include "heap.h"
#include "fakepy.h"
#include "layout.h"
#include "roots.h"
#include "walk.h"

#include <stddef.h>
#include <string.h>

#define TPF_HEAPTYPE (1ull << 9)
#define TPF_HAVE_GC (1ull << 14)
#define TPF_UNICODE_SUBCLASS (1ull << 28)
#define IMMORTAL 0xffffffffull
#define A(p) ((uint64_t)(uintptr_t)(p))

struct fake_interp {
  uint64_t next, threads, modules, sysdict, builtins;
};
struct fake_tstate {
  uint64_t pad, next, ident, tid, cframe, dict;
};
struct fake_iframe { /* 3.12: code, previous, funcobj, ... localsplus */
  uint64_t code, previous, funcobj, globals, builtins, locals, frame_obj;
  uint64_t instr;
  int32_t stacktop;
  uint16_t return_offset;
  char owner;
  char pad;
  uint64_t localsplus[6]; /* 2 variables, then a stack of 4 */
};
struct fake_code {
  uint64_t ob_refcnt;
  struct fake_type *ob_type;
  int32_t nlocalsplus, stacksize, firstlineno, pad;
  uint64_t names, kinds, filename, name, qualname, linetable, consts;
  uint64_t co_names;
  uint16_t adaptive[16];
};
struct fake_str { /* compact ASCII, 3.12 */
  uint64_t ob_refcnt;
  struct fake_type *ob_type;
  int64_t length, hash;
  uint32_t state, pad;
  char data[16];
};
struct fake_bytes {
  uint64_t ob_refcnt;
  struct fake_type *ob_type;
  int64_t ob_size, hash;
  uint8_t sval[8];
};

struct world {
  struct fakepy f;
  struct fake_type tuple_t, str_t, bytes_t, code_t, cell_t;
  struct fake_interp interp;
  struct fake_tstate ts;
  uint64_t cframe; /* _PyCFrame: current_frame at 0 */
  struct fake_iframe frame;
  struct fake_code code;
  struct fake_str s_b, s_c, s_file, s_name;
  struct fake_bytes kinds, table;
  uint64_t head, main_interp, main_ident;
  /* the objects of build() */
  struct fake_obj *a, *b, *cell, *d, *e, *stk, *g, *h, *imm, *over, *t, *x, *y,
      *names;
};

static struct pyl_view view;
static struct pyl_heap heap = {.v = &view};
static struct pyl_roots roots;
static struct world w;

static void type_like(struct fake_type *t, const struct fake_type *model,
                      const char *name, uint64_t flags) {
  *t = *model;
  t->tp_name = name;
  t->tp_flags = flags;
  if ((flags & TPF_HAVE_GC) == 0) {
    t->tp_traverse = NULL;
  }
}

static void str_init(struct fake_str *s, const char *text) {
  memset(s, 0, sizeof(*s));
  s->ob_refcnt = IMMORTAL;
  s->ob_type = &w.str_t;
  s->length = (int64_t)strlen(text);
  s->state = 1u << 2 | 1u << 5 | 1u << 6; /* kind 1, compact, ascii */
  memcpy(s->data, text, strlen(text) + 1);
}

static void bytes_init(struct fake_bytes *b, const uint8_t *v, int64_t n) {
  memset(b, 0, sizeof(*b));
  b->ob_refcnt = IMMORTAL;
  b->ob_type = &w.bytes_t;
  b->ob_size = n;
  memcpy(b->sval, v, (size_t)n);
}

static struct fake_obj *box(int64_t n, uint64_t refcnt, int list) {
  struct fake_obj *o = fakepy_box(&w.f, &w.f.box, n, list);
  o->ob_refcnt = refcnt;
  return o;
}

static void layout(struct pyl_layout *L) {
  fakepy_layout(&w.f, L);
  L->tuple_type = A(&w.tuple_t);
  L->str_type = A(&w.str_t);
  L->bytes_type = A(&w.bytes_t);
  L->code_type = A(&w.code_t);
  L->cell_type = A(&w.cell_t);
  L->cell_ref_off = 24; /* a one-item box */
  L->bytes_sval_off = offsetof(struct fake_bytes, sval);
  L->rt_interp_head_addr = A(&w.head);
  L->rt_interp_main_addr = A(&w.main_interp);
  L->rt_main_thread_addr = A(&w.main_ident);
  L->interp_threads_offset = offsetof(struct fake_interp, threads);
  L->interp_modules_offset = offsetof(struct fake_interp, modules);
  L->interp_sysdict_offset = offsetof(struct fake_interp, sysdict);
  L->interp_builtins_offset = offsetof(struct fake_interp, builtins);
  L->tstate_next_off = offsetof(struct fake_tstate, next);
  L->tstate_thread_id_off = offsetof(struct fake_tstate, ident);
  L->tstate_native_tid_off = offsetof(struct fake_tstate, tid);
  L->tstate_cframe_off = offsetof(struct fake_tstate, cframe);
  L->tstate_dict_off = offsetof(struct fake_tstate, dict);
  L->iframe_func_off = offsetof(struct fake_iframe, funcobj);
  L->iframe_locals_off = offsetof(struct fake_iframe, locals);
  L->iframe_frame_obj_off = offsetof(struct fake_iframe, frame_obj);
  L->iframe_previous_off = offsetof(struct fake_iframe, previous);
  L->iframe_instr_off = offsetof(struct fake_iframe, instr);
  L->iframe_stacktop_off = offsetof(struct fake_iframe, stacktop);
  L->iframe_owner_off = offsetof(struct fake_iframe, owner);
  L->iframe_localsplus_off = offsetof(struct fake_iframe, localsplus);
  L->code_nlocalsplus_off = offsetof(struct fake_code, nlocalsplus);
  L->code_stacksize_off = offsetof(struct fake_code, stacksize);
  L->code_firstlineno_off = offsetof(struct fake_code, firstlineno);
  L->code_localsplusnames_off = offsetof(struct fake_code, names);
  L->code_localspluskinds_off = offsetof(struct fake_code, kinds);
  L->code_filename_off = offsetof(struct fake_code, filename);
  L->code_name_off = offsetof(struct fake_code, name);
  L->code_qualname_off = offsetof(struct fake_code, qualname);
  L->code_linetable_off = offsetof(struct fake_code, linetable);
  L->code_consts_off = offsetof(struct fake_code, consts);
  L->code_names_off = offsetof(struct fake_code, co_names);
  L->code_adaptive_off = offsetof(struct fake_code, adaptive);
  /* The fake types have no such slots: point them at NULL fields. */
  L->type_subclasses_off = offsetof(struct fake_type, ht_qualname);
  L->type_mro_off = offsetof(struct fake_type, ht_qualname);
  L->type_bases_off = offsetof(struct fake_type, ht_qualname);
  L->type_cache_off = offsetof(struct fake_type, ht_qualname);
  L->ht_slots_off = offsetof(struct fake_type, ht_qualname);
}

/* The thread runs run() of app.py; its code says line 15 at the
 * instruction the frame is on (firstlineno 10, one entry of 8 code units
 * with a line delta of +5). */
static void thread_and_frame(void) {
  static const uint8_t kinds[] = {0x20, 0x40}; /* local 'b', cell 'c' */
  static const uint8_t table[] = {0x80 | 13 << 3 | 7, 0x0a};
  str_init(&w.s_b, "b");
  str_init(&w.s_c, "c");
  str_init(&w.s_file, "/srv/app.py");
  str_init(&w.s_name, "Worker.run");
  bytes_init(&w.kinds, kinds, 2);
  bytes_init(&w.table, table, 2);
  w.names = fakepy_box(&w.f, &w.tuple_t, 2, -1); /* untracked */
  w.names->items[0] = A(&w.s_b);
  w.names->items[1] = A(&w.s_c);
  w.code = (struct fake_code){.ob_refcnt = 1,
                              .ob_type = &w.code_t,
                              .nlocalsplus = 2,
                              .stacksize = 4,
                              .firstlineno = 10,
                              .names = A(w.names),
                              .kinds = A(&w.kinds),
                              .filename = A(&w.s_file),
                              .name = A(&w.s_name),
                              .qualname = A(&w.s_name),
                              .linetable = A(&w.table)};
  w.frame = (struct fake_iframe){
      .code = A(&w.code),
      .funcobj = A(w.h),
      .instr = A(&w.code.adaptive[3]),
      .stacktop = -1, /* running */
      .owner = 0,
      .localsplus = {A(w.b), A(w.cell), A(w.stk), A(w.g), 0, 0}};
  w.cframe = A(&w.frame);
  w.ts = (struct fake_tstate){
      .ident = 0x1234, .tid = 77, .cframe = A(&w.cframe), .dict = A(w.t)};
  w.main_ident = 0x1234;
  w.interp = (struct fake_interp){
      .threads = A(&w.ts), .sysdict = A(w.d), .builtins = A(w.x)};
  w.head = A(&w.interp);
  w.main_interp = A(&w.interp);
}

/* The heap; refcounts are what CPython would have:
 *   x     the builtins dict [a, a, d, g, over], held by its slot
 *   y     [over], held by C code only: 1 unexplained
 *   a     twice in x, refcount 3: 1 unexplained
 *   d     the sys dict: its slot and x
 *   b     frame local 'b';  cell: frame cell 'c', holding e
 *   stk   only on the running frame's value stack window
 *   g     in the window too, but x explains its reference
 *   h     the frame's function;  t the thread state dict
 *   imm   immortal, referenced by nothing
 *   over  refcount 1 but two edges */
static void build(void) {
  fakepy_init(&w.f);
  type_like(&w.tuple_t, &w.f.box, "tuple", TPF_HAVE_GC);
  type_like(&w.cell_t, &w.f.box, "cell", TPF_HAVE_GC);
  type_like(&w.str_t, &w.f.leaf, "str", TPF_UNICODE_SUBCLASS);
  type_like(&w.bytes_t, &w.f.leaf, "bytes", 0);
  type_like(&w.code_t, &w.f.leaf, "code", 0);
  w.a = box(0, 3, 0);
  w.b = box(0, 1, 0);
  w.e = box(0, 1, 1);
  w.cell = fakepy_box(&w.f, &w.cell_t, 1, 1);
  w.cell->items[0] = A(w.e);
  w.d = box(0, 2, 2);
  w.stk = box(0, 1, 2);
  w.g = box(0, 1, 2);
  w.h = box(0, 1, 3);
  w.t = box(0, 1, 3);
  w.imm = box(0, IMMORTAL, 3);
  w.over = box(0, 1, 0);
  w.x = box(5, 1, 0);
  w.x->items[0] = A(w.a);
  w.x->items[1] = A(w.a);
  w.x->items[2] = A(w.d);
  w.x->items[3] = A(w.g);
  w.x->items[4] = A(w.over);
  w.y = box(1, 1, 1);
  w.y->items[0] = A(w.over);
  thread_and_frame();
  layout(pyl_layout_store());
}

static void build_roots(void) {
  char buf[256];
  struct pyl_sbuf msg;
  pyl_sbuf_init(&msg, buf, sizeof(buf));
  build();
  view.L = pyl_layout_store();
  view.type_extent = sizeof(struct fake_type);
  ASSERT_EQ(pyl_layout_check(view.L, &msg), PYL_OK);
  ASSERT_TRUE(pyl_objtab_init(&heap.tab, 1u << 16));
  ASSERT_TRUE(pyl_heap_init_sizes(&heap, 1u << 16));
  ASSERT_TRUE(pyl_csr_init(&heap.csr, 1u << 16, 1u << 18));
  ASSERT_TRUE(pyl_types_init(&view.types));
  ASSERT_TRUE(pyl_arena_reserve(&heap.work, 1u << 24, 1u << 20));
  ASSERT_TRUE(pyl_mem_open(&view.mem));
  ASSERT_EQ(pyl_walk(&heap, 0, &msg), PYL_OK);
  ASSERT_TRUE(pyl_roots_init(&roots));
  int rc = pyl_roots_build(&heap, &roots, &msg);
  if (rc != PYL_OK) {
    PYL_FAIL("pyl_roots_build: %d %s", rc, buf);
  }
}

static const struct pyl_root *root_of(const void *obj, unsigned kind,
                                      const char *desc) {
  uint32_t i = pyl_objtab_find(&heap.tab, A(obj));
  for (uint32_t k = 0; i != PYL_NONE && k < roots.n; k++) {
    const struct pyl_root *r = &roots.rows[k];
    if (r->obj == i && r->kind == kind &&
        strcmp(pyl_root_desc(&roots, r), desc) == 0) {
      return r;
    }
  }
  return NULL;
}

static uint32_t n_kind(unsigned kind) {
  uint32_t n = 0;
  for (uint32_t k = 0; k < roots.n; k++) {
    n += roots.rows[k].kind == kind;
  }
  return n;
}

static int64_t unexplained(const void *obj) {
  return pyl_roots_unexplained(&heap, &roots,
                               pyl_objtab_find(&heap.tab, A(obj)));
}

static void test_interpreter_and_thread_slots(void) {
  build_roots();
  ASSERT_TRUE(roots.built);
  ASSERT_EQ(roots.n_threads, 1);
  ASSERT_EQ(roots.n_frames, 1);
  ASSERT_FALSE(roots.incomplete);
  ASSERT_TRUE(root_of(w.d, PYL_ROOT_INTERPRETER, "interpreter sys.__dict__"));
  ASSERT_TRUE(
      root_of(w.x, PYL_ROOT_INTERPRETER, "interpreter builtins.__dict__"));
  ASSERT_TRUE(root_of(w.t, PYL_ROOT_INTERPRETER,
                      "interpreter thread 1 (tid 77) thread state dict"));
  ASSERT_EQ(n_kind(PYL_ROOT_INTERPRETER), 3);
  ASSERT_EQ(n_kind(PYL_ROOT_MODULE), 0);
}

static void test_frame_roots(void) {
  build_roots();
  const char *p = "thread 1 (tid 77) frame Worker.run() app.py:15";
  char want[256];
  snprintf(want, sizeof(want), "%s local 'b'", p);
  ASSERT_TRUE(root_of(w.b, PYL_ROOT_FRAME, want));
  snprintf(want, sizeof(want), "%s cell object 'c'", p);
  ASSERT_TRUE(root_of(w.cell, PYL_ROOT_FRAME, want));
  snprintf(want, sizeof(want), "%s cell 'c'", p);
  ASSERT_TRUE(root_of(w.e, PYL_ROOT_FRAME, want));
  snprintf(want, sizeof(want), "%s function", p);
  ASSERT_TRUE(root_of(w.h, PYL_ROOT_FRAME, want));
  /* the window entry that explains a missing reference, not the other */
  snprintf(want, sizeof(want), "%s value stack", p);
  ASSERT_TRUE(root_of(w.stk, PYL_ROOT_FRAME, want));
  ASSERT_FALSE(root_of(w.g, PYL_ROOT_FRAME, want));
  ASSERT_EQ(n_kind(PYL_ROOT_FRAME), 5);
}

static void test_residue(void) {
  build_roots();
  const struct pyl_root *ra =
      root_of(w.a, PYL_ROOT_C, "held by C code (1 reference unexplained)");
  ASSERT_TRUE(ra);
  ASSERT_EQ(ra->unexplained, 1);
  ASSERT_TRUE(
      root_of(w.y, PYL_ROOT_C, "held by C code (1 reference unexplained)"));
  ASSERT_EQ(n_kind(PYL_ROOT_C), 2);
  /* everything else is explained exactly */
  const struct fake_obj *zero[] = {w.b, w.cell, w.e, w.d, w.stk,
                                   w.g, w.h,    w.t, w.x, w.imm};
  for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
    if (unexplained(zero[i]) != 0) {
      PYL_FAIL("object %zu: %lld unexplained", i,
               (long long)unexplained(zero[i]));
    }
  }
  ASSERT_EQ(unexplained(w.a), 1);
  ASSERT_EQ(unexplained(w.over), (uint64_t)-1);
  ASSERT_EQ(roots.n_overexplained, 1);
}

/* Modules first, then interpreter slots, then frames, then C. */
static void test_order(void) {
  build_roots();
  for (uint32_t k = 1; k < roots.n; k++) {
    ASSERT_TRUE(roots.rows[k - 1].kind == PYL_ROOT_MODULE ||
                roots.rows[k - 1].kind <= roots.rows[k].kind ||
                roots.rows[k].kind == PYL_ROOT_FRAME);
  }
  uint32_t last_interp = 0;
  uint32_t first_frame = UINT32_MAX;
  uint32_t first_c = UINT32_MAX;
  for (uint32_t k = 0; k < roots.n; k++) {
    unsigned kind = roots.rows[k].kind;
    last_interp = kind == PYL_ROOT_INTERPRETER ? k : last_interp;
    first_frame = kind == PYL_ROOT_FRAME && k < first_frame ? k : first_frame;
    first_c = kind == PYL_ROOT_C && k < first_c ? k : first_c;
  }
  ASSERT_TRUE(last_interp < first_frame);
  ASSERT_TRUE(first_frame < first_c);
}

/* A build after a clear starts from nothing; release unmaps. */
static void test_rebuild(void) {
  build_roots();
  uint32_t n = roots.n;
  char buf[256];
  struct pyl_sbuf msg;
  pyl_sbuf_init(&msg, buf, sizeof(buf));
  pyl_roots_clear(&roots);
  ASSERT_FALSE(roots.built);
  ASSERT_EQ(roots.n, 0);
  ASSERT_EQ(pyl_roots_build(&heap, &roots, &msg), PYL_OK);
  ASSERT_EQ(roots.n, n);
  pyl_roots_release(&roots);
  ASSERT_TRUE(roots.rows == NULL);
}

/* A layout without the roots fields is refused with a message. */
static void test_layout_refused(void) {
  build_roots();
  char buf[256];
  struct pyl_sbuf msg;
  pyl_sbuf_init(&msg, buf, sizeof(buf));
  pyl_layout_store()->rt_interp_head_addr = 0;
  ASSERT_EQ(pyl_roots_build(&heap, &roots, &msg), PYL_ELAYOUT);
  ASSERT_TRUE(strstr(buf, "roots fields") != NULL);
  ASSERT_FALSE(roots.built);
}

const struct pyl_test pyl_roots_tests[] = {
    {"roots_interpreter_and_thread_slots", test_interpreter_and_thread_slots},
    {"roots_frames", test_frame_roots},
    {"roots_residue", test_residue},
    {"roots_order", test_order},
    {"roots_rebuild", test_rebuild},
    {"roots_layout_refused", test_layout_refused},
    PYL_TESTS_END,
};
