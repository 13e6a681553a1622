/* threadnames.c — a thread's name as the threading module knows it. */
#include "heap.h"
#include "attrs.h"
#include "frames.h"
#include "keyrepr.h"
#include "peek.h"
#include "pydict.h"
#include "pystr.h"

struct by_ident {
  struct pyl_view *c;
  uint64_t ident;
  uint64_t thread; /* the Thread object, once found */
};

/* threading._active maps get_ident() (the pthread_t, as an int) to the
 * Thread object. */
static int match_ident(uint64_t key, uint64_t value, void *arg) {
  struct by_ident *b = arg;
  int64_t v = 0;
  if (pyl_peek_type(b->c, key) == b->c->L->int_type &&
      pyl_int_value(b->c, key, &v) && (uint64_t)v == b->ident) {
    b->thread = value;
    return 1;
  }
  return 0;
}

void pyl_thread_lookup_name(struct pyl_view *c, uint64_t interp,
                            struct pyl_thread *t) {
  const struct pyl_layout *L = c->L;
  t->name[0] = '\0';
  if (L->interp_modules_offset == 0 || L->module_dict_off == 0) {
    return;
  }
  uint64_t modules = pyl_peek(c, interp + L->interp_modules_offset);
  uint64_t threading =
      modules != 0 ? pyl_dict_get_str(c, modules, "threading") : 0;
  uint64_t globals =
      threading != 0 ? pyl_peek(c, threading + L->module_dict_off) : 0;
  uint64_t active = globals != 0 ? pyl_dict_get_str(c, globals, "_active") : 0;
  if (active == 0 || pyl_peek_type(c, active) != L->dict_type) {
    return;
  }
  struct by_ident b = {.c = c, .ident = t->ident};
  pyl_dict_foreach(c, active, match_ident, &b);
  uint64_t name = b.thread != 0 ? pyl_attr_lookup(c, b.thread, "_name") : 0;
  if (name == 0 || !pyl_is_str(c, name) ||
      !pyl_str_utf8(c, name, t->name, sizeof(t->name))) {
    t->name[0] = '\0';
  }
}
