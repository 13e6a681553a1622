/* objtab.c — insertion and in-place doubling of the object table. */
#include "objtab.h"

enum {
  PYL_OBJTAB_M0 = 16,   /* multipliers 16..31 */
  PYL_OBJTAB_MIN_J = 4, /* first shape: 256..496 homes a sub-table */
  /* Index bits B = j + 10 leave room for 2^9 * 2^j objects in all, 32
   * times one sub-table's homes: the 16 sub-tables double long before the
   * index outgrows B (and a sub-table that lags behind is doubled). */
  PYL_OBJTAB_IBITS_OVER_J = 10,
  /* Grow rather than let an element sit this far from home: probes stay
   * within a cache line or two. */
  PYL_OBJTAB_MAX_DIST = 1024,
  /* Past this a full table refuses insertions: the distance field (14
   * bits) must never overflow. */
  PYL_OBJTAB_HARD_DIST = 1 << 13,
  PYL_ARENA_FLOOR = 1 << 16,
};

#define PYL_DIST_ONE (1ull << PYL_OBJTAB_DIST_SHIFT)
#define PYL_FRAC_TOP (PYL_OBJTAB_DIST_SHIFT - 1)

/* 16 * 2^(k/16), rounded: the sub-tables' loads are spread evenly over a
 * doubling cycle (see objtab.h). */
static const uint8_t multipliers[PYL_OBJTAB_SUBS] = {
    16, 17, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 31};

/* Double at 80% load: a sub-table's load is between 40% and 80%, and the
 * 16 together average about 55%. */
static uint64_t grow_threshold(uint64_t cap) { return cap / 5 * 4; }

/* Objects one sub-table may need to hold: its share of max_objs, twice
 * over (hashing spreads keys evenly; the margin is for small tables). */
static uint64_t sub_share(uint32_t max_objs) {
  return ((uint64_t)max_objs * 2 + PYL_OBJTAB_SUBS - 1) / PYL_OBJTAB_SUBS +
         1024;
}

/* j of the largest sub-table max_objs can need. */
static unsigned max_j(uint64_t mul, uint32_t max_objs) {
  unsigned j = PYL_OBJTAB_MIN_J;
  while (grow_threshold(mul << j) < sub_share(max_objs)) {
    j++;
  }
  return j;
}

static void reset_sub(struct pyl_objtab_sub *s, uint64_t mul) {
  s->slots = (uint64_t *)(void *)s->arena.base;
  s->mul = mul;
  s->cap = 0;
  s->grow_at = 0;
  s->n = 0;
  s->fbits = PYL_OBJTAB_SUB_KEY_BITS - PYL_OBJTAB_MIN_J;
  s->ibits = PYL_OBJTAB_MIN_J + PYL_OBJTAB_IBITS_OVER_J;
}

bool pyl_objtab_init(struct pyl_objtab *t, uint32_t max_objs) {
  bool ok =
      pyl_vec_reserve(&t->v_addr, sizeof(uint64_t), max_objs,
                      PYL_ARENA_FLOOR) &&
      pyl_vec_reserve(&t->v_type, sizeof(uint32_t), max_objs, PYL_ARENA_FLOOR);
  for (unsigned k = 0; k < PYL_OBJTAB_SUBS && ok; k++) {
    uint64_t mul = multipliers[k];
    size_t slots = (size_t)(PYL_OBJTAB_HEAD + (mul << max_j(mul, max_objs)));
    ok = pyl_arena_reserve(&t->sub[k].arena, slots * sizeof(uint64_t),
                           slots * sizeof(uint64_t));
  }
  if (!ok) {
    pyl_objtab_release(t);
    return false;
  }
  t->max_objs = max_objs;
  t->addr = pyl_vec_data(&t->v_addr);
  t->type = pyl_vec_data(&t->v_type);
  pyl_objtab_clear(t);
  return true;
}

void pyl_objtab_clear(struct pyl_objtab *t) {
  pyl_vec_clear(&t->v_addr);
  pyl_vec_clear(&t->v_type);
  for (unsigned k = 0; k < PYL_OBJTAB_SUBS; k++) {
    pyl_arena_decommit(&t->sub[k].arena);
    reset_sub(&t->sub[k], multipliers[k]);
  }
  t->n = 0;
}

void pyl_objtab_release(struct pyl_objtab *t) {
  pyl_vec_release(&t->v_addr);
  pyl_vec_release(&t->v_type);
  for (unsigned k = 0; k < PYL_OBJTAB_SUBS; k++) {
    pyl_arena_release(&t->sub[k].arena);
    reset_sub(&t->sub[k], multipliers[k]);
  }
  t->addr = NULL;
  t->type = NULL;
  t->n = 0;
  t->max_objs = 0;
}

/* Move every element to the doubled shape, from the top down.  The new
 * home 2 * home + (top bit of frac) is at or above the old one, and each
 * element goes to its new home or right below the one placed before, so
 * it only moves up and never onto an element not yet read; its distance
 * from home grows by at most one.  frac loses its top bit and the index
 * field gains one, which is frac's low bits shifted up by one: every shift
 * is by a constant.  Empty slots take the same steps (writing a zero where
 * nothing else can land), so that the loop has no branch to mispredict on
 * a random mix of empty and full slots. */
static void double_up(struct pyl_objtab_sub *s) {
  uint64_t *slots = s->slots;
  const uint64_t imask = (1ull << s->ibits) - 1;
  const uint64_t frac_low = ((1ull << PYL_FRAC_TOP) - 1) & ~imask;
  uint64_t last = PYL_OBJTAB_HEAD + 2 * s->cap;
  for (uint64_t p = PYL_OBJTAB_HEAD + s->cap; p-- > 1;) {
    uint64_t v = slots[p];
    uint64_t home = p + (v >> PYL_OBJTAB_DIST_SHIFT) - 1;
    uint64_t home2 = 2 * home - PYL_OBJTAB_HEAD + ((v >> PYL_FRAC_TOP) & 1);
    uint64_t to = home2 < last ? home2 : last - 1;
    to = v != 0 ? to : p;
    uint64_t v2 = ((home2 - to + 1) << PYL_OBJTAB_DIST_SHIFT) |
                  ((v & frac_low) << 1) | (v & imask);
    slots[p] = 0;
    slots[to] = v != 0 ? v2 : 0;
    last = v != 0 ? to : last;
  }
}

/* Give the sub-table its first shape, or double it. */
static bool grow(struct pyl_objtab *t, struct pyl_objtab_sub *s) {
  uint64_t cap2 = s->cap == 0 ? s->mul << PYL_OBJTAB_MIN_J : 2 * s->cap;
  if (cap2 > (s->mul << max_j(s->mul, t->max_objs)) ||
      !pyl_arena_commit_exact(&s->arena,
                              (PYL_OBJTAB_HEAD + cap2) * sizeof(uint64_t))) {
    return false;
  }
  if (s->cap != 0) {
    double_up(s);
    s->fbits--;
    s->ibits++;
  }
  s->cap = cap2;
  s->grow_at = grow_threshold(cap2);
  return true;
}

/* Add the object where its probe stopped (the sub-table in use).  When
 * the sub-table had to double first, *again tells the caller to probe
 * again. */
static uint32_t add_at_stop(struct pyl_objtab *t, struct pyl_objtab_sub *s,
                            uint64_t key, uint64_t h, const uint64_t *stop_p,
                            uint32_t type, bool *again) {
  *again = false;
  uint64_t *slots = s->slots;
  uint64_t stop = (uint64_t)(stop_p - slots);
  uint64_t y = pyl_objtab_y(s, h);
  uint64_t home = PYL_OBJTAB_HEAD + (y >> s->fbits);
  uint64_t w = pyl_objtab_want(s, y) + ((home - stop) << PYL_OBJTAB_DIST_SHIFT);
  /* The bottom of the run, and the farthest distance in it after the
   * shift. */
  uint64_t e = stop;
  uint64_t top = w;
  for (uint64_t v; (v = slots[e]) != 0; e--) {
    top = v > top ? v : top;
  }
  uint64_t far = (top >> PYL_OBJTAB_DIST_SHIFT) + 1;
  /* Below the load limit, index fits, close to home, and slots[0] stays
   * empty; else double, and probe again. */
  bool fits = (uint64_t)t->n + 1 < (1ull << s->ibits);
  if (s->n + 1 > s->grow_at || !fits || e == 0 || far > PYL_OBJTAB_MAX_DIST) {
    if (grow(t, s)) {
      *again = true;
      return PYL_NONE;
    }
    if (s->n + 1 > s->grow_at || !fits || e == 0 ||
        far > PYL_OBJTAB_HARD_DIST) {
      return PYL_NONE;
    }
  }
  uint32_t idx = t->n;
  if (!pyl_vec_fit(&t->v_addr, (uint64_t)idx + 1) ||
      !pyl_vec_fit(&t->v_type, (uint64_t)idx + 1)) {
    return PYL_NONE;
  }
  for (uint64_t q = e; q < stop; q++) {
    slots[q] = slots[q + 1] + PYL_DIST_ONE;
  }
  slots[stop] = w + idx + 1;
  s->n++;
  t->addr[idx] = key;
  t->type[idx] = type;
  t->n = idx + 1;
  return idx;
}

/* Probe and add until added (each round after a doubling). */
static uint32_t insert_new(struct pyl_objtab *t, struct pyl_objtab_sub *s,
                           uint64_t key, uint64_t h, uint32_t type,
                           bool *inserted) {
  *inserted = false;
  if (s->cap == 0 && !grow(t, s)) {
    return PYL_NONE;
  }
  for (bool again = true; again;) {
    const uint64_t *stop;
    uint32_t idx = pyl_objtab_probe(t, h, &stop);
    if (idx != PYL_NONE) {
      return idx;
    }
    if (t->n >= t->max_objs) {
      return PYL_NONE;
    }
    idx = add_at_stop(t, s, key, h, stop, type, &again);
    if (idx != PYL_NONE) {
      *inserted = true;
      return idx;
    }
  }
  return PYL_NONE;
}

uint32_t pyl_objtab_add_at(struct pyl_objtab *t, uint64_t key, uint64_t h,
                           const uint64_t *stop, uint32_t type) {
  struct pyl_objtab_sub *s =
      &t->sub[(h >> PYL_OBJTAB_SUB_KEY_BITS) & (PYL_OBJTAB_SUBS - 1)];
  if (t->n >= t->max_objs || h == PYL_OBJTAB_BAD_HASH) {
    return PYL_NONE;
  }
  bool again = true;
  if (stop != NULL) {
    uint32_t idx = add_at_stop(t, s, key, h, stop, type, &again);
    if (!again) {
      return idx;
    }
  }
  /* the sub-table was not in use yet, or has just doubled */
  bool inserted = false;
  return insert_new(t, s, key, h, type, &inserted);
}

uint32_t pyl_objtab_insert_h(struct pyl_objtab *t, uint64_t key, uint64_t h,
                             uint32_t type, bool *inserted) {
  *inserted = false;
  if (h == PYL_OBJTAB_BAD_HASH) {
    return PYL_NONE;
  }
  return insert_new(
      t, &t->sub[(h >> PYL_OBJTAB_SUB_KEY_BITS) & (PYL_OBJTAB_SUBS - 1)], key,
      h, type, inserted);
}
