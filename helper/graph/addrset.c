/* addrset.c — open addressing over uint64_t slots. */
#include "addrset.h"

#include "objtab.h"

bool pyl_addrset_init(struct pyl_addrset *s, struct pyl_arena *a,
                      uint64_t cap) {
  uint64_t *slots = pyl_arena_alloc(a, cap * sizeof(uint64_t), 8);
  if (slots == NULL) {
    return false;
  }
  /* the arena may hand back used memory after a reset */
  __builtin_memset(slots, 0, cap * sizeof(uint64_t));
  s->arena = a;
  s->slots = slots;
  s->cap = cap;
  s->n = 0;
  return true;
}

uint64_t *pyl_addrset_slot(const struct pyl_addrset *s, uint64_t addr) {
  uint64_t pos = pyl_objtab_hash(addr) & (s->cap - 1);
  while (s->slots[pos] != 0 && (s->slots[pos] & ~PYL_ADDRSET_MARKS) != addr) {
    pos = (pos + 1) & (s->cap - 1);
  }
  return &s->slots[pos];
}

static bool grow(struct pyl_addrset *s) {
  struct pyl_addrset old = *s;
  if (!pyl_addrset_init(s, old.arena, old.cap * 4)) {
    *s = old;
    return false;
  }
  for (uint64_t i = 0; i < old.cap; i++) {
    if (old.slots[i] != 0) {
      *pyl_addrset_slot(s, old.slots[i] & ~PYL_ADDRSET_MARKS) = old.slots[i];
      s->n++;
    }
  }
  s->grew = true;
  return true;
}

int pyl_addrset_add(struct pyl_addrset *s, uint64_t addr) {
  if (*pyl_addrset_slot(s, addr) != 0) {
    return 0;
  }
  if ((s->n + 1) * 2 > s->cap && !grow(s)) {
    return -1;
  }
  *pyl_addrset_slot(s, addr) = addr;
  s->n++;
  return 1;
}
