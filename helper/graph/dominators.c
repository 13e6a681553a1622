/* dominators.c — semi-NCA dominators, retained sizes, biggest children. */
#include "dominators.h"

#include "control.h"
#include "util.h"

enum {
  PREFETCH_EDGES = 8, /* edges of one object fetched ahead */
  AHEAD = 16,         /* objects between two prefetch stages */
};

/* The six arrays of the memory plan (dominators.h), named by phase. */
struct dom_work {
  const struct pyl_graph *g;
  uint32_t *w[6];
  uint32_t n_num; /* numbers handed out: the super-root and the reached */
};

/* Preorder numbers from an iterative DFS.  The current path is the chain
 * of ancestor links (path compression only rewrites them later) and each
 * object on it resumes at its cursor, so the stack costs nothing beyond
 * arrays the later phases need anyway. */
static bool dfs(struct dom_work *wk, const uint32_t *src, uint32_t n_src) {
  const struct pyl_graph *g = wk->g;
  const uint32_t *offs = g->offs;
  const uint32_t *edges = g->edges;
  uint32_t *num = wk->w[0];
  uint32_t *vertex = wk->w[1];
  uint32_t *parent = wk->w[2];
  uint32_t *anc = wk->w[3];
  uint32_t *end = wk->w[4];
  uint32_t *cursor = wk->w[5];
  /* Reset scratch pages may hold an earlier call's numbers. */
  __builtin_memset(num, 0, (size_t)g->n * sizeof(uint32_t));
  vertex[0] = PYL_NONE;
  parent[0] = 0;
  anc[0] = 0;
  uint32_t cur = 0;
  uint32_t next = 1;
  uint32_t si = 0; /* the super-root's cursor, in src */
  for (;;) {
    uint32_t t = PYL_NONE;
    if (cur == 0) {
      while (si < n_src) {
        uint32_t s = src[si++];
        if (s >= g->n) {
          continue;
        }
        if (num[s] == 0) {
          t = s;
          break;
        }
        /* Reached first from another object: the edge from the super-root
         * makes the super-root its semidominator and immediate dominator,
         * which starting semi and idom at 0 gives; anc keeps the real DFS
         * parent, which is what path compression must follow. */
        parent[num[s]] = 0;
      }
      if (t == PYL_NONE) {
        break;
      }
    } else {
      uint32_t k = cursor[cur];
      uint32_t e = end[cur];
      while (k < e && num[edges[k]] != 0) {
        k++;
      }
      if (k == e) {
        cur = anc[cur];
        /* Backing up a long path (numbered in a row) revisits each
         * object's remaining edges, long out of the cache: fetch the
         * edges of the objects a few steps up, then their numbers. */
        if (cur > 2 * AHEAD) {
          uint32_t up = cur - 2 * AHEAD;
          __builtin_prefetch(&edges[cursor[up]]);
          up = cur - AHEAD;
          if (cursor[up] < end[up]) {
            __builtin_prefetch(&num[edges[cursor[up]]]);
          }
        }
        continue;
      }
      t = edges[k];
      cursor[cur] = k + 1;
    }
    if (!pyl_control_tick()) {
      return false;
    }
    uint32_t b = offs[t];
    uint32_t e = offs[t + 1];
    num[t] = next;
    vertex[next] = t;
    parent[next] = cur;
    anc[next] = cur;
    cursor[next] = b;
    end[next] = e;
    cur = next++;
    /* The DFS is one chain of dependent misses (offsets, edges, numbers):
     * fetch what the first few children will need side by side. */
    for (uint32_t k = b; k < e && k < b + PREFETCH_EDGES; k++) {
      __builtin_prefetch(&num[edges[k]]);
      __builtin_prefetch(&offs[edges[k]]);
    }
  }
  wk->n_num = next;
  return true;
}

/* The smallest semidominator on the path from j up to (not including) the
 * first ancestor numbered below last (the processed ones are >= last).
 * label[] holds semidominator values directly, not vertices: semi-NCA only
 * needs the value.  Path compression reverses the path in anc[] on the way
 * up and restores it (compressed) on the way down, so a path of millions
 * of objects needs no stack. */
static uint32_t eval(uint32_t *anc, uint32_t *label, uint32_t j,
                     uint32_t last) {
  if (anc[j] < last) {
    return label[j];
  }
  uint32_t below = PYL_NONE;
  uint32_t x = j;
  do {
    uint32_t up = anc[x];
    anc[x] = below;
    below = x;
    x = up;
  } while (anc[x] >= last);
  uint32_t root = anc[x];
  uint32_t best = label[x];
  while (below != PYL_NONE) {
    uint32_t y = below;
    below = anc[y];
    anc[y] = root;
    if (best < label[y]) {
      label[y] = best;
    } else {
      best = label[y];
    }
  }
  return best;
}

/* Semidominators, last number first, each from its referrers. */
static bool semidominators(struct dom_work *wk) {
  const struct pyl_graph *g = wk->g;
  const uint32_t *roffs = g->roffs;
  const uint32_t *redges = g->redges;
  const uint32_t *num = wk->w[0];
  const uint32_t *vertex = wk->w[1];
  const uint32_t *parent = wk->w[2];
  uint32_t *anc = wk->w[3];
  uint32_t *label = wk->w[4];
  uint32_t *semi = wk->w[5];
  for (uint32_t i = wk->n_num - 1; i >= 1; i--) {
    if (!pyl_control_tick()) {
      return false;
    }
    /* A software pipeline over the objects to come: their referrer
     * offsets, then referrers, then the referrers' numbers. */
    if (i > 4 * AHEAD) {
      __builtin_prefetch(&roffs[vertex[i - 4 * AHEAD]]);
      __builtin_prefetch(&redges[roffs[vertex[i - 3 * AHEAD]]]);
      uint32_t u = vertex[i - 2 * AHEAD];
      uint32_t k = roffs[u];
      uint32_t end = roffs[u + 1];
      for (; k < end && k < roffs[u] + PREFETCH_EDGES; k++) {
        __builtin_prefetch(&num[redges[k]]);
      }
      u = vertex[i - AHEAD];
      k = roffs[u];
      end = roffs[u + 1];
      for (; k < end && k < roffs[u] + PREFETCH_EDGES; k++) {
        uint32_t j = num[redges[k]];
        __builtin_prefetch(&anc[j]);
        __builtin_prefetch(&label[j]);
      }
    }
    uint32_t w = vertex[i];
    /* The DFS parent is a referrer; 0 for a source. */
    uint32_t s = parent[i];
    for (uint32_t k = roffs[w]; k < roffs[w + 1] && s != 0; k++) {
      uint32_t j = num[redges[k]];
      if (j == 0) {
        continue; /* a referrer not reached */
      }
      /* Not processed yet: a referrer numbered below w is a candidate
       * itself (and has no label yet: labels are written as each number
       * is processed, so the DFS can use their array). */
      uint32_t t = j <= i ? j : eval(anc, label, j, i + 1);
      if (t < s) {
        s = t;
      }
    }
    label[i] = s;
    semi[i] = s;
  }
  return true;
}

/* Immediate dominators in number order: the nearest ancestor of the DFS
 * parent in the dominator tree so far that is numbered at most semi.
 * Ancestors' numbers shrink going up, so skew-binary jump pointers (Myers,
 * "An applicative random-access stack") find it in O(log depth) steps. */
static bool nearest_common_ancestors(struct dom_work *wk) {
  const uint32_t *semi = wk->w[5];
  uint32_t *idom = wk->w[2]; /* starts as the DFS parents */
  uint32_t *jump = wk->w[3];
  uint32_t *depth = wk->w[4];
  idom[0] = 0;
  jump[0] = 0;
  depth[0] = 0;
  for (uint32_t i = 1; i < wk->n_num; i++) {
    if (!pyl_control_tick()) {
      return false;
    }
    uint32_t s = semi[i];
    uint32_t c = idom[i];
    while (c > s) {
      c = jump[c] > s ? jump[c] : idom[c];
    }
    idom[i] = c;
    uint32_t jc = jump[c];
    depth[i] = depth[c] + 1;
    jump[i] =
        depth[c] - depth[jc] == depth[jc] - depth[jump[jc]] ? jump[jc] : c;
  }
  return true;
}

/* Object-space outputs.  Children have larger numbers than their
 * immediate dominator, so one pass from the last number up sums each
 * subtree before its root is added to its own dominator. */
static bool outputs(struct pyl_dom *d, struct dom_work *wk,
                    const uint32_t *size) {
  uint32_t n = wk->g->n;
  const uint32_t *vertex = wk->w[1];
  const uint32_t *idnum = wk->w[2];
  uint32_t *idom = wk->w[0];
  uint64_t *ret = (uint64_t *)(void *)wk->w[3];
  uint32_t *big = wk->w[5];
  for (uint32_t v = 0; v < n; v++) {
    if (!pyl_control_tick()) {
      return false;
    }
    idom[v] = PYL_NONE; /* stays so when not reached */
    ret[v] = 0;
    big[v] = PYL_NONE;
  }
  uint64_t super_ret = 0;
  uint32_t super_big = PYL_NONE;
  for (uint32_t i = wk->n_num - 1; i >= 1; i--) {
    if (!pyl_control_tick()) {
      return false;
    }
    uint32_t v = vertex[i];
    uint64_t r = ret[v] + size[v];
    ret[v] = r;
    uint32_t p = idnum[i];
    uint32_t *best = &super_big;
    if (p == 0) {
      idom[v] = PYL_DOM_SUPER;
      super_ret += r;
    } else {
      uint32_t pv = vertex[p];
      idom[v] = pv;
      ret[pv] += r;
      best = &big[pv];
    }
    uint32_t b = *best;
    if (b == PYL_NONE || r > ret[b] || (r == ret[b] && v < b)) {
      *best = v;
    }
  }
  d->idom = idom;
  d->retained = ret;
  d->big_child = big;
  d->super_big_child = super_big;
  d->super_retained = super_ret;
  d->n_reached = wk->n_num - 1;
  return true;
}

bool pyl_dom_build(struct pyl_dom *d, const struct pyl_graph *g,
                   const uint32_t *src, uint32_t n_src, const uint32_t *size,
                   struct pyl_arena *a) {
  *d = (struct pyl_dom){.n = g->n, .super_big_child = PYL_NONE, .n_reached = 0};
  /* Numbers and objects must stay clear of PYL_DOM_SUPER and PYL_NONE. */
  if (g->n > PYL_DOM_SUPER - 2) {
    return false;
  }
  /* Even, so that W3 starts 8-byte aligned for the retained sizes. */
  size_t stride = ((size_t)g->n + 2) & ~(size_t)1;
  uint32_t *block = pyl_arena_alloc(a, 6 * stride * sizeof(uint32_t), 64);
  if (block == NULL) {
    return false;
  }
  struct dom_work wk = {.g = g};
  for (int k = 0; k < 6; k++) {
    wk.w[k] = block + (size_t)k * stride;
  }
  return dfs(&wk, src, n_src) && semidominators(&wk) &&
         nearest_common_ancestors(&wk) && outputs(d, &wk, size);
}

uint32_t pyl_dom_children(const struct pyl_dom *d, uint32_t v, uint32_t *out,
                          uint32_t max) {
  uint32_t count = 0;
  for (uint32_t u = 0; u < d->n; u++) {
    if (d->idom[u] == v) {
      if (count < max) {
        out[count] = u;
      }
      count++;
    }
  }
  return count;
}
