/* referents_live.c — tp_is_gc and tp_traverse, called in the live target. */
#include "referents.h"

#include "control.h"
#include "decode.h"
#include "mem.h"
#include "validate.h"

typedef int (*pyl_is_gc_slot)(void *obj);
typedef int (*pyl_traverse_slot)(void *obj, pyl_visit_fn visit, void *arg);

/* The type table stores slots as integers (they are target addresses);
 * turning one back into a function pointer is the point of this file. */
static pyl_is_gc_slot as_is_gc(uint64_t fn) {
  pyl_is_gc_slot f;
  _Static_assert(sizeof(f) == sizeof(fn), "function pointers are 64-bit");
  __builtin_memcpy(&f, &fn, sizeof(f));
  return f;
}

static pyl_traverse_slot as_traverse(uint64_t fn) {
  pyl_traverse_slot f;
  __builtin_memcpy(&f, &fn, sizeof(f));
  return f;
}

bool pyl_object_is_gc(const struct pyl_type *ty, uint64_t addr) {
  if (ty->traverse == 0) {
    return false;
  }
  if (ty->is_gc == 0) {
    return true;
  }
  return as_is_gc(ty->is_gc)(pyl_host_ptr(addr)) != 0;
}

struct traverse_call {
  pyl_traverse_slot fn;
  void *obj;
  pyl_visit_fn visit;
  void *arg;
};

static void call_traverse(void *p) {
  const struct traverse_call *t = p;
  (void)t->fn(t->obj, t->visit, t->arg);
}

bool pyl_referents(struct pyl_view *c, const struct pyl_type *ty, uint64_t addr,
                   pyl_visit_fn visit, void *arg) {
  if (ty->decode == PYL_DECODE_STRUCTSEQ) {
    pyl_decode_structseq(c, ty, addr, visit, arg);
    return true;
  }
  struct traverse_call t = {.fn = as_traverse(ty->traverse),
                            .obj = pyl_host_ptr(addr),
                            .visit = visit,
                            .arg = arg};
  /* The validated builtins cannot fault: skip the guard's cost on the
   * most common containers. */
  if (pyl_validate_covers(c, ty)) {
    call_traverse(&t);
    return true;
  }
  return pyl_control_guarded(call_traverse, &t);
}
