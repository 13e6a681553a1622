/* roots_rows.c — the building blocks every roots_*.c file adds rows
 * with (roots_build.h); apart from the driver (roots.c) so that the
 * files it calls depend on these and not on it. */
#include "roots_build.h"

#include "peek.h"

enum {
  PYL_TYPE_NAME_MAX = 128, /* longer tp_names are cut */
};

void pyl_rb_nomem(struct pyl_build *b) {
  if (b->status == PYL_OK) {
    b->status = PYL_ENOMEM;
    pyl_sbuf_str(b->msg, "out of helper memory for the roots");
  }
}

uint32_t pyl_rb_string(struct pyl_build *b, const char *s) {
  struct pyl_roots *r = b->r;
  size_t len = pyl_strlen(s) + 1;
  if (r->strings_len + len > UINT32_MAX ||
      !pyl_arena_fit(&r->a_strings, r->strings_len + len, 1)) {
    pyl_rb_nomem(b);
    return UINT32_MAX;
  }
  uint32_t off = (uint32_t)r->strings_len;
  __builtin_memcpy(r->strings + off, s, len);
  r->strings_len += len;
  return off;
}

void pyl_rb_add(struct pyl_build *b, uint32_t obj, unsigned kind, uint32_t desc,
                uint32_t unexplained) {
  struct pyl_roots *r = b->r;
  if (desc == UINT32_MAX || b->status != PYL_OK) {
    return;
  }
  if (!pyl_vec_fit(&r->v_rows, (uint64_t)r->n + 1)) {
    pyl_rb_nomem(b);
    return;
  }
  r->rows[r->n++] = (struct pyl_root){
      .obj = obj, .kind = kind, .desc = desc, .unexplained = unexplained};
}

void pyl_rb_root(struct pyl_build *b, uint64_t addr, unsigned kind,
                 const char *desc, bool counted) {
  uint32_t i = pyl_rb_find(b, addr);
  if (i == PYL_NONE) {
    return;
  }
  if (counted) {
    b->r->explained[i]++;
  }
  pyl_rb_add(b, i, kind, pyl_rb_string(b, desc), 0);
}

void pyl_rb_interp_prefix(const struct pyl_build *b, struct pyl_sbuf *s) {
  pyl_sbuf_str(s, "interpreter ");
  if (b->interp_no != 0) {
    pyl_sbuf_dec(s, b->interp_no + 1);
    pyl_sbuf_str(s, " ");
  }
}

void pyl_rb_type_name(struct pyl_build *b, uint64_t type, struct pyl_sbuf *s) {
  uint64_t name = pyl_peek(b->c, type + b->c->L->tp_name_off);
  char buf[PYL_TYPE_NAME_MAX];
  pyl_sbuf_str(
      s, name != 0 && pyl_peek_cstr(b->c, name, buf, sizeof(buf)) ? buf : "?");
}
