/*
 * maps.h — which addresses of the live process may be read or called.
 *
 * A snapshot of /proc/self/maps, taken when a graph build starts (the
 * target is stopped, so its mappings do not change under us): sorted,
 * merged readable ranges and executable ranges.  A 1 MiB-granule cache in
 * front of the binary search answers the common case (a pointer into a
 * pymalloc arena seen before) with one L1 load.
 */
#ifndef PYL_MAPS_H
#define PYL_MAPS_H

#include "arena.h"

#include <stdbool.h>
#include <stdint.h>

/* Canonical user addresses on x86-64 are below 2^47. */
#define PYL_ADDR_LIMIT (1ull << 47)

enum {
  PYL_CHUNK_SHIFT = 20,
  PYL_CHUNK_SLOTS = 4096,
};

struct pyl_range {
  uint64_t lo, hi; /* [lo, hi) */
};

struct pyl_maps {
  struct pyl_arena arena; /* text of the maps file, then the ranges */
  const struct pyl_range *rd;
  uint32_t n_rd;
  const struct pyl_range *ex;
  uint32_t n_ex;
  /* (granule << 1) | 1 when the whole granule is inside one readable
   * range; 0 when unknown. */
  uint64_t granule[PYL_CHUNK_SLOTS];
};

/* Snapshot /proc/self/maps (open/read/close only).  False on failure. */
bool pyl_maps_load(struct pyl_maps *m);

/* Build from the text of a maps file (also used by the unit tests). */
bool pyl_maps_parse(struct pyl_maps *m, const char *text, uint64_t len);

/* Drop the snapshot and its memory. */
void pyl_maps_release(struct pyl_maps *m);

bool pyl_maps_readable_slow(struct pyl_maps *m, uint64_t addr, uint64_t len);

/* Whether [addr, addr+len) may be read. */
static inline bool pyl_maps_readable(struct pyl_maps *m, uint64_t addr,
                                     uint64_t len) {
  uint64_t end = addr + len;
  if (end < addr || end > PYL_ADDR_LIMIT || len == 0) {
    return false;
  }
  uint64_t g0 = addr >> PYL_CHUNK_SHIFT;
  uint64_t g1 = (end - 1) >> PYL_CHUNK_SHIFT;
  if (m->granule[g0 % PYL_CHUNK_SLOTS] == ((g0 << 1) | 1) &&
      (g1 == g0 || m->granule[g1 % PYL_CHUNK_SLOTS] == ((g1 << 1) | 1))) {
    return true;
  }
  return pyl_maps_readable_slow(m, addr, len);
}

/* Whether addr lies in an executable mapping (a plausible C function). */
bool pyl_maps_executable(const struct pyl_maps *m, uint64_t addr);

#endif /* PYL_MAPS_H */
