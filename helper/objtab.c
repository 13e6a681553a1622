/* objtab.c — growth and insertion for the object table. */
#include "objtab.h"

enum {
  PYL_OBJTAB_MIN_CAP = 1 << 16,
  PYL_ARENA_FLOOR = 1 << 20,
};

/* Grow at 70% load: linear probing stays short and the table costs
 * 11-23 bytes per object. */
static uint64_t grow_threshold(uint64_t cap) { return cap / 10 * 7; }

static uint64_t max_slots(uint32_t max_objs) {
  uint64_t cap = PYL_OBJTAB_MIN_CAP;
  while (grow_threshold(cap) < (uint64_t)max_objs) {
    cap *= 2;
  }
  return cap;
}

bool pyl_objtab_init(struct pyl_objtab *t, uint32_t max_objs) {
  uint64_t slots = max_slots(max_objs);
  if (!pyl_arena_reserve(&t->a_addr, (size_t)max_objs * sizeof(uint64_t),
                         PYL_ARENA_FLOOR) ||
      !pyl_arena_reserve(&t->a_type, (size_t)max_objs * sizeof(uint32_t),
                         PYL_ARENA_FLOOR) ||
      !pyl_arena_reserve(&t->a_slots[0], (size_t)slots * sizeof(uint64_t),
                         PYL_ARENA_FLOOR) ||
      !pyl_arena_reserve(&t->a_slots[1], (size_t)slots * sizeof(uint64_t),
                         PYL_ARENA_FLOOR)) {
    pyl_objtab_release(t);
    return false;
  }
  t->max_objs = max_objs;
  t->addr = (uint64_t *)(void *)t->a_addr.base;
  t->type = (uint32_t *)(void *)t->a_type.base;
  pyl_objtab_clear(t);
  return true;
}

void pyl_objtab_clear(struct pyl_objtab *t) {
  pyl_arena_decommit(&t->a_addr);
  pyl_arena_decommit(&t->a_type);
  pyl_arena_decommit(&t->a_slots[0]);
  pyl_arena_decommit(&t->a_slots[1]);
  t->cur = 0;
  t->slots = (uint64_t *)(void *)t->a_slots[0].base;
  t->cap = 0;
  t->grow_at = 0;
  t->n = 0;
}

void pyl_objtab_release(struct pyl_objtab *t) {
  pyl_arena_release(&t->a_addr);
  pyl_arena_release(&t->a_type);
  pyl_arena_release(&t->a_slots[0]);
  pyl_arena_release(&t->a_slots[1]);
  t->addr = NULL;
  t->type = NULL;
  t->slots = NULL;
  t->cap = 0;
  t->grow_at = 0;
  t->n = 0;
  t->max_objs = 0;
}

/* Put a slot value (tag and index) into a table of cap slots. */
static void place(uint64_t *slots, uint64_t cap, uint64_t slot) {
  uint64_t pos = ((slot >> 32) * cap) >> 32;
  while (slots[pos] != 0) {
    if (++pos == cap) {
      pos = 0;
    }
  }
  slots[pos] = slot;
}

/* Move every slot into the other (zeroed) arena, twice as large.  The new
 * home of a slot is twice its old home (give or take one), so reading the
 * old table in order writes the new one in order. */
static bool grow(struct pyl_objtab *t) {
  uint64_t cap = t->cap == 0 ? PYL_OBJTAB_MIN_CAP : t->cap * 2;
  unsigned next = t->cur ^ 1u;
  struct pyl_arena *dst = &t->a_slots[next];
  if (cap > UINT32_MAX || !pyl_arena_fit(dst, cap, sizeof(uint64_t))) {
    return false;
  }
  uint64_t *slots = (uint64_t *)(void *)dst->base;
  for (uint64_t p = 0; p < t->cap; p++) {
    if (t->slots[p] != 0) {
      place(slots, cap, t->slots[p]);
    }
  }
  if (t->cap != 0) {
    pyl_arena_decommit(&t->a_slots[t->cur]);
  }
  t->cur = next;
  t->slots = slots;
  t->cap = cap;
  t->grow_at = grow_threshold(cap);
  return true;
}

uint32_t pyl_objtab_insert_h(struct pyl_objtab *t, uint64_t key, uint64_t h,
                             uint32_t type, bool *inserted) {
  *inserted = false;
  if (t->cap != 0) {
    uint32_t idx = pyl_objtab_find_h(t, key, h);
    if (idx != PYL_NONE) {
      return idx;
    }
  }
  if (t->n >= t->max_objs) {
    return PYL_NONE;
  }
  if ((uint64_t)t->n + 1 > t->grow_at && !grow(t)) {
    return PYL_NONE;
  }
  uint32_t idx = t->n;
  if (!pyl_arena_fit(&t->a_addr, (uint64_t)idx + 1, sizeof(uint64_t)) ||
      !pyl_arena_fit(&t->a_type, (uint64_t)idx + 1, sizeof(uint32_t))) {
    return PYL_NONE;
  }
  t->addr[idx] = key;
  t->type[idx] = type;
  place(t->slots, t->cap, (pyl_objtab_tag(h) << 32) | ((uint64_t)idx + 1));
  t->n = idx + 1;
  *inserted = true;
  return idx;
}
