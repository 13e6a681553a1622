/* pystr.c — str headers, UTF-8 rendering and sizes. */
#include "pystr.h"

#include "view.h"

enum {
  PYL_STR_MAX_LENGTH = 1 << 30, /* sanity bound on a str we read */
  PYL_WCHAR_SIZE = 4,           /* wchar_t on Linux */
};

bool pyl_str_header(struct pyl_view *c, uint64_t addr, struct pyl_str *out) {
  const struct pyl_layout *L = c->L;
  uint64_t need = L->unicode_state_off + 4;
  if (need < L->unicode_length_off + 8) {
    need = L->unicode_length_off + 8;
  }
  const void *p = pyl_mem_ptr(&c->mem, addr, need);
  if (p == NULL) {
    return false;
  }
  int64_t length = pyl_ld_i64(p, L->unicode_length_off);
  uint32_t state = pyl_ld_u32(p, L->unicode_state_off);
  unsigned kind = (state >> L->unicode_kind_shift) & 7u;
  out->compact = ((state >> L->unicode_compact_bit) & 1u) != 0;
  out->ascii = ((state >> L->unicode_ascii_bit) & 1u) != 0;
  /* Before 3.12 a legacy string that is not "ready" has kind 0
   * (PyUnicode_WCHAR_KIND) and no data yet. */
  if (length < 0 || length > PYL_STR_MAX_LENGTH ||
      (kind != 0 && kind != 1 && kind != 2 && kind != 4) ||
      (out->compact && kind == 0) || (out->ascii && kind != 1)) {
    return false;
  }
  out->length = (uint64_t)length;
  out->kind = kind;
  if (out->compact) {
    out->data = addr + (out->ascii ? L->sizeof_ascii_object
                                   : L->sizeof_compact_unicode);
  } else if (kind == 0 ||
             !pyl_read_u64(&c->mem, addr + L->unicode_data_off, &out->data)) {
    out->data = 0;
  }
  return true;
}

bool pyl_is_str(struct pyl_view *c, uint64_t addr) {
  const struct pyl_layout *L = c->L;
  uint64_t type = 0;
  uint64_t flags = 0;
  return addr % 8 == 0 && pyl_read_u64(&c->mem, addr + L->ob_type_off, &type) &&
         type % 8 == 0 &&
         pyl_read_u64(&c->mem, type + L->tp_flags_off, &flags) &&
         (flags & PYL_TPF_UNICODE_SUBCLASS) != 0;
}

static size_t put_utf8(char *out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static uint32_t code_point(const void *data, unsigned kind, uint64_t i) {
  if (kind == 1) {
    return pyl_ld_u8(data, i);
  }
  if (kind == 2) {
    uint16_t v;
    __builtin_memcpy(&v, (const unsigned char *)data + i * 2, sizeof(v));
    return v;
  }
  uint32_t cp = pyl_ld_u32(data, i * 4);
  return cp > 0x10ffff ? 0xfffd : cp;
}

/* NUL code points as NUL bytes (raw) or as the text \x00. */
static bool str_utf8(struct pyl_view *c, uint64_t addr, char *buf, size_t cap,
                     bool raw, size_t *out_len) {
  struct pyl_str s;
  *out_len = 0;
  if (cap == 0) {
    return false;
  }
  buf[0] = '\0';
  if (!pyl_str_header(c, addr, &s) || s.data == 0) {
    return false;
  }
  /* Read only what fits: a long string is cut, not copied whole. */
  uint64_t n = s.length < cap ? s.length : cap;
  const void *data = pyl_mem_ptr(&c->mem, s.data, n * s.kind + 1);
  if (data == NULL) {
    return false;
  }
  size_t len = 0;
  for (uint64_t i = 0; i < n; i++) {
    char tmp[4];
    uint32_t cp = code_point(data, s.kind, i);
    size_t k = 0;
    if (cp == 0 && !raw) {
      __builtin_memcpy(tmp, "\\x00", 4);
      k = 4;
    } else {
      k = put_utf8(tmp, cp);
    }
    if (len + k >= cap) {
      break;
    }
    for (size_t j = 0; j < k; j++) {
      buf[len++] = tmp[j];
    }
  }
  buf[len] = '\0';
  *out_len = len;
  return true;
}

bool pyl_str_utf8(struct pyl_view *c, uint64_t addr, char *buf, size_t cap) {
  size_t len = 0;
  return str_utf8(c, addr, buf, cap, false, &len);
}

bool pyl_str_utf8_raw(struct pyl_view *c, uint64_t addr, char *buf, size_t cap,
                      size_t *len) {
  return str_utf8(c, addr, buf, cap, true, len);
}

bool pyl_str_equals(struct pyl_view *c, uint64_t addr, const char *want) {
  struct pyl_str s;
  if (!pyl_str_header(c, addr, &s) || s.data == 0 ||
      s.length != pyl_strlen(want)) {
    return false;
  }
  const void *data = pyl_mem_ptr(&c->mem, s.data, s.length * s.kind + 1);
  if (data == NULL) {
    return false;
  }
  for (uint64_t i = 0; i < s.length; i++) {
    if (code_point(data, s.kind, i) != (unsigned char)want[i]) {
      return false;
    }
  }
  return true;
}

/* unicode.__sizeof__, field by field (docs/sizes.md). */
uint64_t pyl_str_size(struct pyl_view *c, uint64_t addr, uint64_t basicsize) {
  const struct pyl_layout *L = c->L;
  struct pyl_str s;
  if (!pyl_str_header(c, addr, &s)) {
    return basicsize;
  }
  uint64_t size = 0;
  if (s.compact && s.ascii) {
    size = L->sizeof_ascii_object + s.length + 1;
  } else if (s.compact) {
    size = L->sizeof_compact_unicode + (s.length + 1) * s.kind;
  } else {
    size = basicsize + (s.data != 0 ? (s.length + 1) * s.kind : 0);
  }
  if (!(s.compact && s.ascii)) {
    uint64_t utf8 = 0;
    int64_t utf8_len = 0;
    if (pyl_read_u64(&c->mem, addr + L->unicode_utf8_off, &utf8) && utf8 != 0 &&
        utf8 != s.data &&
        pyl_read_i64(&c->mem, addr + L->unicode_utf8_length_off, &utf8_len) &&
        utf8_len >= 0) {
      size += (uint64_t)utf8_len + 1;
    }
  }
  if (L->unicode_wstr_off != 0) {
    uint64_t wstr = 0;
    if (pyl_read_u64(&c->mem, addr + L->unicode_wstr_off, &wstr) && wstr != 0 &&
        wstr != s.data) {
      int64_t wlen = (int64_t)s.length;
      if ((s.compact && s.ascii) ||
          pyl_read_i64(&c->mem, addr + L->unicode_wstr_length_off, &wlen)) {
        if (wlen >= 0) {
          size += ((uint64_t)wlen + 1) * PYL_WCHAR_SIZE;
        }
      }
    }
  }
  return size;
}
