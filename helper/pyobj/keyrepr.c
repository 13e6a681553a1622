/* keyrepr.c — short reprs of dict keys and names, read from memory. */
#include "keyrepr.h"

#include "peek.h"
#include "pystr.h"

enum {
  PYL_KEY_CHARS = 48,  /* of a str key before "..." */
  PYL_NAME_SIZE = 256, /* longest name shown (labels and roots) */
  PYL_MAX_TUPLE_REPR = 4,
};

void pyl_put_name(struct pyl_view *c, uint64_t addr, struct pyl_sbuf *b) {
  char buf[PYL_NAME_SIZE];
  if (addr != 0 && pyl_is_str(c, addr) &&
      pyl_str_utf8(c, addr, buf, sizeof(buf))) {
    pyl_sbuf_str(b, buf);
  } else {
    pyl_sbuf_str(b, "?");
  }
}

/* s[0..len) quoted, as Python's repr escapes it (NUL bytes included). */
static void put_escaped(struct pyl_sbuf *b, const char *s, size_t len,
                        bool cut) {
  static const char hex[] = "0123456789abcdef";
  pyl_sbuf_str(b, "'");
  const unsigned char *end = (const unsigned char *)s + len;
  for (const unsigned char *p = (const unsigned char *)s; p < end; p++) {
    char esc[5] = {'\\', 0, 0, 0, 0};
    if (*p == '\\' || *p == '\'') {
      esc[1] = (char)*p;
    } else if (*p == '\n') {
      esc[1] = 'n';
    } else if (*p == '\t') {
      esc[1] = 't';
    } else if (*p == '\r') {
      esc[1] = 'r';
    } else if (*p < 0x20 || *p == 0x7f) {
      esc[1] = 'x';
      esc[2] = hex[*p >> 4];
      esc[3] = hex[*p & 15];
    } else {
      esc[0] = (char)*p;
    }
    pyl_sbuf_str(b, esc);
  }
  pyl_sbuf_str(b, cut ? "...'" : "'");
}

static void repr_str(struct pyl_view *c, uint64_t addr, struct pyl_sbuf *b) {
  char buf[PYL_KEY_CHARS * 4 + 8];
  struct pyl_str h;
  size_t len = 0;
  if (!pyl_str_header(c, addr, &h) ||
      !pyl_str_utf8_raw(c, addr, buf, sizeof(buf), &len)) {
    pyl_sbuf_str(b, "<str>");
    return;
  }
  /* Cut at PYL_KEY_CHARS code points (UTF-8 continuation bytes skipped). */
  size_t chars = 0;
  size_t i = 0;
  for (; i < len; i++) {
    if (((unsigned char)buf[i] & 0xc0) != 0x80 && chars++ == PYL_KEY_CHARS) {
      break;
    }
  }
  put_escaped(b, buf, i, i < len || h.length > chars);
}

bool pyl_int_value(struct pyl_view *c, uint64_t addr, int64_t *out) {
  const struct pyl_layout *L = c->L;
  unsigned bits = L->long_digit_size == 4 ? 30 : 15;
  uint64_t nd = 0;
  bool neg = false;
  uint64_t digits = 0;
  if (L->long_lv_tag_off != 0) {
    uint64_t tag = pyl_peek(c, addr + L->long_lv_tag_off);
    nd = tag >> 3;
    neg = (tag & 3) == 2;
    digits = addr + L->long_lv_tag_off + PYL_PTR;
  } else {
    int64_t size = pyl_peek_i64(c, addr + L->ob_size_off);
    nd = (uint64_t)(size < 0 ? -size : size);
    neg = size < 0;
    digits = addr + L->ob_size_off + PYL_PTR;
  }
  if (nd * bits > 63) {
    return false;
  }
  uint64_t v = 0;
  for (uint64_t i = nd; i > 0; i--) {
    uint64_t d =
        L->long_digit_size == 4
            ? (uint64_t)(uint32_t)pyl_peek_i32(c, digits + (i - 1) * 4)
            : (uint64_t)(pyl_peek_i32(c, digits + (i - 1) * 2) & 0xffff);
    v = (v << bits) | d;
  }
  *out = neg ? -(int64_t)v : (int64_t)v;
  return true;
}

static void repr_bytes(struct pyl_view *c, uint64_t addr, struct pyl_sbuf *b) {
  char buf[PYL_KEY_CHARS + 1];
  int64_t n = pyl_peek_i64(c, addr + c->L->ob_size_off);
  int64_t k = n < PYL_KEY_CHARS ? n : PYL_KEY_CHARS;
  const void *p =
      k >= 0 ? pyl_mem_ptr(&c->mem, addr + c->L->bytes_sval_off, (uint64_t)k)
             : NULL;
  if (p == NULL) {
    pyl_sbuf_str(b, "<bytes>");
    return;
  }
  for (int64_t i = 0; i < k; i++) {
    unsigned char ch = pyl_ld_u8(p, (uint64_t)i);
    /* Non-ASCII bytes would be UTF-8 to put_escaped: cut there. */
    buf[i] = '\0';
    if (ch < 0x80) {
      buf[i] = (char)ch;
    } else {
      k = i;
    }
  }
  pyl_sbuf_str(b, "b");
  put_escaped(b, buf, (size_t)k, k < n);
}

/* A value that is not a tuple (tuples inside tuples show as (...)). */
static void repr_atom(struct pyl_view *c, uint64_t addr, struct pyl_sbuf *b) {
  const struct pyl_layout *L = c->L;
  uint64_t type = addr != 0 ? pyl_peek_type(c, addr) : 0;
  uint64_t flags = type != 0 ? pyl_peek_flags(c, type) : 0;
  int64_t v = 0;
  char name[PYL_NAME_SIZE];
  if (addr == L->none_object) {
    pyl_sbuf_str(b, "None");
  } else if (type == 0) {
    pyl_sbuf_str(b, "?");
  } else if (type == L->bool_type && pyl_int_value(c, addr, &v)) {
    pyl_sbuf_str(b, v != 0 ? "True" : "False");
  } else if ((flags & PYL_TPF_UNICODE_SUBCLASS) != 0) {
    repr_str(c, addr, b);
  } else if ((flags & PYL_TPF_LONG_SUBCLASS) != 0 &&
             pyl_int_value(c, addr, &v)) {
    if (v < 0) {
      pyl_sbuf_str(b, "-");
    }
    pyl_sbuf_dec(b, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
  } else if (type == L->bytes_type) {
    repr_bytes(c, addr, b);
  } else if ((flags & PYL_TPF_TUPLE_SUBCLASS) != 0) {
    pyl_sbuf_str(b, "(...)");
  } else if ((flags & PYL_TPF_TYPE_SUBCLASS) != 0 &&
             pyl_peek_cstr(c, pyl_peek(c, addr + L->tp_name_off), name,
                           sizeof(name))) {
    pyl_sbuf_str(b, "<class '");
    pyl_sbuf_str(b, name);
    pyl_sbuf_str(b, "'>");
  } else {
    pyl_sbuf_str(b, "<");
    pyl_sbuf_str(b, pyl_peek_cstr(c, pyl_peek(c, type + L->tp_name_off), name,
                                  sizeof(name))
                        ? name
                        : "object");
    pyl_sbuf_str(b, " object at ");
    pyl_sbuf_hex(b, addr);
    pyl_sbuf_str(b, ">");
  }
}

void pyl_key_repr(struct pyl_view *c, uint64_t addr, struct pyl_sbuf *b) {
  uint64_t type = addr != 0 ? pyl_peek_type(c, addr) : 0;
  if (type == 0 || (pyl_peek_flags(c, type) & PYL_TPF_TUPLE_SUBCLASS) == 0) {
    repr_atom(c, addr, b);
    return;
  }
  int64_t n = pyl_peek_i64(c, addr + c->L->ob_size_off);
  pyl_sbuf_str(b, "(");
  for (int64_t i = 0; i < n && i < PYL_MAX_TUPLE_REPR; i++) {
    pyl_sbuf_str(b, i > 0 ? ", " : "");
    repr_atom(c, pyl_peek_item(c, addr, i), b);
  }
  pyl_sbuf_str(b, n > PYL_MAX_TUPLE_REPR ? ", ...)" : n == 1 ? ",)" : ")");
}
