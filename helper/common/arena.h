/*
 * arena.h — the helper's only source of memory.
 *
 * Inside a stopped target a thread may hold the malloc lock, so every byte
 * the helper uses comes from mmap.  An arena reserves a large PROT_NONE
 * region once (address space only, no commit charge) and commits a growing
 * prefix with mprotect, so an array living at the arena base can grow in
 * place without copying and without ever moving.  Committed bytes are what
 * pyl_result.mapped_bytes reports.
 */
#ifndef PYL_ARENA_H
#define PYL_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pyl_arena {
  unsigned char *base; /* NULL until reserved */
  size_t reserved;     /* bytes of address space */
  size_t committed;    /* read-write prefix */
  size_t used;         /* bump offset for pyl_arena_alloc */
};

/* Bytes committed right now by all arenas, and the most ever. */
uint64_t pyl_arena_mapped_now(void);
uint64_t pyl_arena_mapped_peak(void);

/* Reserve `want` bytes of address space, halving down to `floor` when the
 * kernel refuses (RLIMIT_AS).  No-op if already reserved. */
bool pyl_arena_reserve(struct pyl_arena *a, size_t want, size_t floor);

/* Make the first `bytes` bytes usable; grows geometrically to keep the
 * number of mprotect calls small.  False when past the reservation. */
bool pyl_arena_commit(struct pyl_arena *a, size_t bytes);

/* Make exactly the first `bytes` bytes usable (rounded up to a page), for
 * arrays that grow in big known steps and must not be over-committed. */
bool pyl_arena_commit_exact(struct pyl_arena *a, size_t bytes);

/* Bump allocation, zeroed on first use (fresh or decommitted pages are
 * zero; pyl_arena_reset does not re-zero, see there). */
void *pyl_arena_alloc(struct pyl_arena *a, size_t size, size_t align);

/* Forget allocations but keep pages: memory handed out afterwards may hold
 * old bytes. */
void pyl_arena_reset(struct pyl_arena *a);

/* Give every page back to the kernel (MADV_DONTNEED, PROT_NONE); keep the
 * reservation.  Later allocations see zeroed memory again. */
void pyl_arena_decommit(struct pyl_arena *a);

/* Unmap the reservation. */
void pyl_arena_release(struct pyl_arena *a);

/* Allocation callbacks for libiberty's htab_create_alloc_ex, with the
 * arena as their argument: calloc semantics, and a free that does nothing
 * (the arena goes all at once). */
void *pyl_arena_calloc_cb(void *arena, size_t n, size_t size);
void pyl_arena_free_cb(void *arena, void *p);

/* Ensure an array of `n` elements of `elem` bytes fits at the arena base. */
static inline bool pyl_arena_fit(struct pyl_arena *a, uint64_t n, size_t elem) {
  if (n > (uint64_t)SIZE_MAX / elem) {
    return false;
  }
  size_t bytes = (size_t)n * elem;
  return bytes <= a->committed || pyl_arena_commit(a, bytes);
}

#endif /* PYL_ARENA_H */
