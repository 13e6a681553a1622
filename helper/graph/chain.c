/* chain.c — backward search to the nearest roots; reachability. */
#include "chain.h"

#include "control.h"
#include "objtab.h"
#include "sort.h"

uint64_t *pyl_bitmap_new(struct pyl_arena *a, uint32_t n) {
  size_t words = ((size_t)n + 63) / 64 + 1;
  uint64_t *b = pyl_arena_alloc(a, words * sizeof(uint64_t), 64);
  if (b != NULL) {
    /* Scratch pages may hold a previous call's bytes. */
    __builtin_memset(b, 0, words * sizeof(uint64_t));
  }
  return b;
}

static int by_root_obj(uint32_t a, uint32_t b, const void *ctx) {
  const uint32_t *obj = ctx;
  if (obj[a] != obj[b]) {
    return obj[a] < obj[b] ? -1 : 1;
  }
  return 0; /* the sort is stable: roots order is kept */
}

bool pyl_rootset_build(struct pyl_rootset *rs, const uint32_t *root_obj,
                       size_t stride, uint32_t n_roots, uint32_t n_objs,
                       struct pyl_arena *a) {
  size_t words = (size_t)n_roots + 1;
  rs->n_roots = n_roots;
  rs->is_root = pyl_bitmap_new(a, n_objs);
  rs->obj = pyl_arena_alloc(a, words * sizeof(uint32_t), 8);
  rs->by_obj = pyl_arena_alloc(a, words * sizeof(uint32_t), 8);
  uint32_t *tmp = pyl_arena_alloc(a, words * sizeof(uint32_t), 8);
  if (rs->is_root == NULL || rs->obj == NULL || rs->by_obj == NULL ||
      tmp == NULL) {
    return false;
  }
  const unsigned char *at = (const unsigned char *)root_obj;
  uint32_t n = 0;
  for (uint32_t i = 0; i < n_roots; i++, at += stride) {
    __builtin_memcpy(&rs->obj[i], at, sizeof(uint32_t));
    if (rs->obj[i] < n_objs) {
      pyl_bit_set(rs->is_root, rs->obj[i]);
      rs->by_obj[n++] = i;
    }
  }
  pyl_sort_u32(rs->by_obj, tmp, n, by_root_obj, rs->obj);
  rs->n_roots = n;
  return true;
}

uint32_t pyl_rootset_find(const struct pyl_rootset *rs, uint32_t obj,
                          uint32_t *first) {
  uint32_t lo = 0;
  uint32_t hi = rs->n_roots;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (rs->obj[rs->by_obj[mid]] < obj) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *first = lo;
  uint32_t k = lo;
  while (k < rs->n_roots && rs->obj[rs->by_obj[k]] == obj) {
    k++;
  }
  return k - lo;
}

bool pyl_search_alloc(struct pyl_search *s, uint32_t n_objs, uint32_t max_found,
                      struct pyl_arena *a) {
  s->next = pyl_arena_alloc(a, ((size_t)n_objs + 1) * sizeof(uint32_t), 64);
  s->queue = pyl_arena_alloc(a, ((size_t)n_objs + 1) * sizeof(uint32_t), 64);
  s->seen = pyl_bitmap_new(a, n_objs);
  s->found = pyl_arena_alloc(a, ((size_t)max_found + 1) * sizeof(*s->found),
                             _Alignof(struct pyl_found));
  s->max_found = max_found;
  s->n_found = 0;
  s->n_seen = 0;
  s->complete = false;
  return s->next != NULL && s->queue != NULL && s->seen != NULL &&
         s->found != NULL;
}

static void found(struct pyl_search *s, uint32_t obj, uint32_t dist) {
  if (s->n_found < s->max_found) {
    s->found[s->n_found++] = (struct pyl_found){.obj = obj, .dist = dist};
  }
}

uint32_t pyl_chain_search(const struct pyl_graph *g,
                          const struct pyl_rootset *rs, uint32_t target,
                          bool all, struct pyl_search *s) {
  uint32_t *queue = s->queue;
  uint32_t head = 0;
  uint32_t tail = 1;
  uint32_t level_end = 1;
  uint32_t dist = 0;
  s->n_found = 0;
  queue[0] = target;
  s->next[target] = PYL_NONE;
  pyl_bit_set(s->seen, target);
  if (pyl_bit(rs->is_root, target)) {
    found(s, target, 0);
    if (!all) {
      s->n_seen = 1;
      s->complete = false;
      return s->n_found;
    }
  }
  while (head < tail && pyl_control_tick()) {
    uint32_t x = queue[head++];
    /* Another root ends its chain: what holds it matters less than it. */
    if (x == target || !pyl_bit(rs->is_root, x)) {
      for (uint32_t k = g->roffs[x]; k < g->roffs[x + 1]; k++) {
        uint32_t r = g->redges[k];
        if (pyl_bit(s->seen, r)) {
          continue;
        }
        pyl_bit_set(s->seen, r);
        s->next[r] = x;
        queue[tail++] = r;
        if (pyl_bit(rs->is_root, r)) {
          found(s, r, dist + 1);
        }
      }
    }
    if (head == level_end) {
      dist++;
      level_end = tail;
      if (!all && s->n_found > 0) {
        break;
      }
    }
  }
  s->n_seen = tail;
  s->complete = head == tail;
  return s->n_found;
}

uint32_t pyl_chain_path(const struct pyl_search *s, uint32_t from,
                        uint32_t *out, uint32_t max) {
  uint32_t n = 0;
  for (uint32_t x = from; x != PYL_NONE && n < max; x = s->next[x]) {
    out[n++] = x;
  }
  return n;
}

uint32_t pyl_bfs_forward(const struct pyl_graph *g, const uint32_t *src,
                         uint32_t n_src, uint64_t *seen, uint32_t *queue,
                         uint32_t *parent) {
  uint32_t tail = 0;
  for (uint32_t i = 0; i < n_src; i++) {
    uint32_t x = src[i];
    if (x < g->n && !pyl_bit(seen, x)) {
      pyl_bit_set(seen, x);
      queue[tail++] = x;
      if (parent != NULL) {
        parent[x] = PYL_NONE;
      }
    }
  }
  for (uint32_t head = 0; head < tail && pyl_control_tick(); head++) {
    uint32_t x = queue[head];
    for (uint32_t k = g->offs[x]; k < g->offs[x + 1]; k++) {
      uint32_t y = g->edges[k];
      if (pyl_bit(seen, y)) {
        continue;
      }
      pyl_bit_set(seen, y);
      queue[tail++] = y;
      if (parent != NULL) {
        parent[y] = x;
      }
    }
  }
  return tail;
}

bool pyl_chain_unreachable(const struct pyl_graph *g,
                           const struct pyl_rootset *rs, uint32_t target,
                           const struct pyl_search *s, struct pyl_arena *a,
                           struct pyl_unreachable *out) {
  uint64_t *from_roots = pyl_bitmap_new(a, g->n);
  uint64_t *from_target = pyl_bitmap_new(a, g->n);
  uint32_t *queue =
      pyl_arena_alloc(a, ((size_t)g->n + 1) * sizeof(uint32_t), 64);
  uint32_t *src =
      pyl_arena_alloc(a, ((size_t)rs->n_roots + 1) * sizeof(uint32_t), 8);
  if (from_roots == NULL || from_target == NULL || queue == NULL ||
      src == NULL) {
    return false;
  }
  for (uint32_t i = 0; i < rs->n_roots; i++) {
    src[i] = rs->obj[rs->by_obj[i]];
  }
  (void)pyl_bfs_forward(g, src, rs->n_roots, from_roots, queue, NULL);
  uint32_t n_fwd = pyl_bfs_forward(g, &target, 1, from_target, queue, NULL);
  /* Nothing that reaches the target is reached from a root (else the
   * search would have met that root), so those all count as garbage. */
  out->referrers = s->n_seen - 1;
  out->garbage = s->n_seen;
  out->cycle_group = 0;
  for (uint32_t i = 0; i < n_fwd && pyl_control_tick(); i++) {
    uint32_t x = queue[i];
    if (pyl_bit(s->seen, x)) {
      out->cycle_group++;
    } else if (!pyl_bit(from_roots, x)) {
      out->garbage++;
    }
  }
  return true;
}
