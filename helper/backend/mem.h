/*
 * mem.h — the one seam between the engine and the memory it inspects.
 *
 * The engine sources never dereference a target address themselves: they
 * ask pyl_mem_ptr() for a host pointer to [addr, addr+len), or use the
 * typed readers below, and get NULL/false for memory that is not mapped.
 * The backend is chosen at compile time so the hot paths inline:
 *
 *   PYL_BACKEND_LIVE  the helper runs inside the target; a target address
 *                     is a host address once /proc/self/maps says it is
 *                     readable.
 *
 * (A core-file backend will translate addresses into mmap'd segments of
 * the core; it provides the same functions.)
 */
#ifndef PYL_MEM_H
#define PYL_MEM_H

#include <stdbool.h>
#include <stdint.h>

enum {
  PYL_PTR = 8, /* bytes of a target pointer (64-bit targets only) */
};

#if defined(PYL_BACKEND_LIVE)

#include "maps.h"

struct pyl_mem {
  struct pyl_maps maps;
};

/* A target address as a host pointer: in the live backend they are the
 * same thing.  The only integer-to-pointer conversion of the engine. */
static inline void *pyl_host_ptr(uint64_t addr) {
  return (void *)(uintptr_t)addr; // NOLINT(performance-no-int-to-ptr)
}

/* Take a snapshot of what is mapped (at the start of each graph build). */
static inline bool pyl_mem_open(struct pyl_mem *m) {
  return pyl_maps_load(&m->maps);
}

static inline void pyl_mem_release(struct pyl_mem *m) {
  pyl_maps_release(&m->maps);
}

static inline const void *pyl_mem_ptr(struct pyl_mem *m, uint64_t addr,
                                      uint64_t len) {
  return pyl_maps_readable(&m->maps, addr, len) ? pyl_host_ptr(addr) : NULL;
}

/* Whether a function pointer read from the target may be called. */
static inline bool pyl_mem_callable(const struct pyl_mem *m, uint64_t fn) {
  return fn != 0 && pyl_maps_executable(&m->maps, fn);
}

#else
#error "define a memory backend: PYL_BACKEND_LIVE"
#endif

/* Loads from a pointer pyl_mem_ptr() returned (no alignment assumed). */
static inline uint64_t pyl_ld_u64(const void *p, uint64_t off) {
  uint64_t v;
  __builtin_memcpy(&v, (const unsigned char *)p + off, sizeof(v));
  return v;
}

static inline int64_t pyl_ld_i64(const void *p, uint64_t off) {
  int64_t v;
  __builtin_memcpy(&v, (const unsigned char *)p + off, sizeof(v));
  return v;
}

static inline uint32_t pyl_ld_u32(const void *p, uint64_t off) {
  uint32_t v;
  __builtin_memcpy(&v, (const unsigned char *)p + off, sizeof(v));
  return v;
}

static inline uint8_t pyl_ld_u8(const void *p, uint64_t off) {
  return ((const unsigned char *)p)[off];
}

static inline bool pyl_read_u64(struct pyl_mem *m, uint64_t addr,
                                uint64_t *out) {
  const void *p = pyl_mem_ptr(m, addr, sizeof(*out));
  if (p == NULL) {
    return false;
  }
  *out = pyl_ld_u64(p, 0);
  return true;
}

static inline bool pyl_read_i64(struct pyl_mem *m, uint64_t addr,
                                int64_t *out) {
  const void *p = pyl_mem_ptr(m, addr, sizeof(*out));
  if (p == NULL) {
    return false;
  }
  *out = pyl_ld_i64(p, 0);
  return true;
}

static inline bool pyl_read_u32(struct pyl_mem *m, uint64_t addr,
                                uint32_t *out) {
  const void *p = pyl_mem_ptr(m, addr, sizeof(*out));
  if (p == NULL) {
    return false;
  }
  *out = pyl_ld_u32(p, 0);
  return true;
}

static inline bool pyl_read_u8(struct pyl_mem *m, uint64_t addr, uint8_t *out) {
  const void *p = pyl_mem_ptr(m, addr, 1);
  if (p == NULL) {
    return false;
  }
  *out = pyl_ld_u8(p, 0);
  return true;
}

#endif /* PYL_MEM_H */
