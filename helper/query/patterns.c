/* patterns.c — the objects of a type grouped by path pattern, and
 * pyl_patterns. */
#include "patterns.h"

#include "kinds.h"
#include "labels.h"
#include "roots.h"
#include "sort.h"

enum {
  PYL_PAT_MAX_NODES = 1u << 20, /* distinct pattern prefixes per query */
  PYL_PAT_LABEL_BYTES = 48,     /* label space per node, on average */
};

struct pyl_pattern_node {
  uint32_t parent; /* PYL_NONE at a root */
  uint32_t row;    /* census row of the object it ends at */
  uint32_t label;  /* offset in labels */
  uint32_t next;   /* the next node of its hash bucket */
  uint64_t hash;
};

struct builder {
  struct pyl_call *call;
  struct pyl_ctx *c;
  struct pyl_pattern_set *set;
  struct pyl_rootset rs;
  uint32_t *parent; /* forward search tree */
  uint32_t *pat;    /* per object: its pattern, PYL_NONE until known */
  uint32_t *stack;
  uint32_t *bucket;
  uint32_t n_buckets; /* a power of two */
  uint32_t max_nodes;
  uint32_t labels_used;
  uint32_t labels_cap;
  bool full; /* out of nodes: the rest is "other" */
};

static uint64_t hash_label(uint64_t h, const char *s) {
  for (; *s != '\0'; s++) {
    h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  }
  return h;
}

/* The node (parent, label, row), made if new; PYL_NONE when full. */
static uint32_t intern(struct builder *b, uint32_t parent, const char *label,
                       uint32_t row) {
  struct pyl_pattern_set *set = b->set;
  uint64_t h =
      hash_label(((uint64_t)parent << 32 | row) * 0x9e3779b97f4a7c15ull, label);
  uint32_t *slot = &b->bucket[h & (b->n_buckets - 1)];
  for (uint32_t k = *slot; k != PYL_NONE; k = set->nodes[k].next) {
    const struct pyl_pattern_node *nd = &set->nodes[k];
    if (nd->hash == h && nd->parent == parent && nd->row == row &&
        pyl_streq(set->labels + nd->label, label)) {
      return k;
    }
  }
  size_t len = pyl_strlen(label);
  if (set->n_nodes >= b->max_nodes ||
      b->labels_used + len + 1 > b->labels_cap) {
    b->full = true;
    return PYL_NONE;
  }
  uint32_t k = set->n_nodes++;
  set->nodes[k] = (struct pyl_pattern_node){.parent = parent,
                                            .row = row,
                                            .label = b->labels_used,
                                            .next = *slot,
                                            .hash = h};
  __builtin_memcpy(set->labels + b->labels_used, label, len + 1);
  b->labels_used += (uint32_t)len + 1;
  *slot = k;
  return k;
}

/* Indices and keys say which one, not how: `[3]` and `['a']` become
 * `[*]`, `referent #2` `referent #*`. */
static void generalise(const char *in, struct pyl_sbuf *out) {
  int depth = 0;
  for (const char *p = in; *p != '\0'; p++) {
    if (*p == '[') {
      if (depth++ == 0) {
        pyl_sbuf_str(out, "[*");
      }
    } else if (*p == ']' && depth > 0) {
      if (--depth == 0) {
        pyl_sbuf_str(out, "]");
      }
    } else if (*p == '#') {
      pyl_sbuf_str(out, "#*");
      while (p[1] >= '0' && p[1] <= '9') {
        p++;
      }
    } else if (depth == 0) {
      char ch[2] = {*p, '\0'};
      pyl_sbuf_str(out, ch);
    }
  }
}

static uint64_t c_addr(const struct pyl_call *call, uint32_t x) {
  return x == PYL_NONE ? 0 : call->c->h.tab.addr[x];
}

static uint32_t row_of(const struct pyl_ctx *c, uint32_t x) {
  return c->v.types.rec[c->h.tab.type[x]].row;
}

/* The pattern of an object the search started from: its first root. */
static uint32_t root_pattern(struct builder *b, uint32_t x) {
  const struct pyl_roots *r = &b->c->roots;
  uint32_t first = 0;
  if (pyl_rootset_find(&b->rs, x, &first) == 0) {
    return intern(b, PYL_NONE, "", row_of(b->c, x));
  }
  const struct pyl_root *root = &r->rows[b->rs.by_obj[first]];
  return intern(b, PYL_NONE, pyl_root_desc(r, root), row_of(b->c, x));
}

/* The pattern of u, whose parent's (and grandparent's) are known. */
static uint32_t step_pattern(struct builder *b, uint32_t u) {
  struct pyl_ctx *c = b->c;
  uint32_t p = b->parent[u];
  uint32_t g = b->parent[p];
  char raw[PYL_LABEL_MAX];
  char gen[PYL_LABEL_MAX];
  struct pyl_sbuf rb;
  struct pyl_sbuf gb;
  pyl_sbuf_init(&rb, raw, sizeof(raw));
  pyl_sbuf_init(&gb, gen, sizeof(gen));
  uint32_t base = b->pat[p];
  enum pyl_kind kind = PYL_KIND_OTHER;
  /* The kind of the referrer decides cheaply for containers, whose
   * labels name a position the pattern drops anyway: decoding a big
   * dict per item would cost its length each time. */
  uint64_t ty = c->v.types.rec[c->h.tab.type[p]].addr;
  const struct pyl_layout *L = c->v.L;
  kind = ty == L->list_type || ty == L->tuple_type || ty == L->set_type ||
                 ty == L->frozenset_type
             ? PYL_KIND_LIST
             : kind;
  if (g != PYL_NONE && pyl_label_through(&c->h, g, p, u, &rb)) {
    base = b->pat[g];
  } else if (kind == PYL_KIND_LIST || ty == L->dict_type) {
    pyl_sbuf_str(&rb, "[*]");
  } else {
    pyl_label_edge(&c->h, p, u, g, &rb);
  }
  generalise(raw, &gb);
  return base == PYL_NONE ? PYL_NONE : intern(b, base, gen, row_of(c, u));
}

/* The pattern of x, computing those of its ancestors first (no
 * recursion: chains can be millions long). */
static uint32_t pattern_of(struct builder *b, uint32_t x) {
  uint32_t sp = 0;
  uint32_t v = x;
  while (b->pat[v] == PYL_NONE && b->parent[v] != PYL_NONE) {
    b->stack[sp++] = v;
    v = b->parent[v];
  }
  if (b->pat[v] == PYL_NONE) {
    b->pat[v] = root_pattern(b, v);
  }
  while (sp > 0 && !b->full) {
    uint32_t u = b->stack[--sp];
    b->pat[u] = step_pattern(b, u);
  }
  return b->full ? PYL_NONE : b->pat[x];
}

struct by_count {
  const struct pyl_pattern_group *g;
};

static int bigger(uint32_t x, uint32_t y, const void *arg) {
  const struct by_count *o = arg;
  uint64_t a = o->g[x].count;
  uint64_t b = o->g[y].count;
  return a != b ? (a > b ? -1 : 1) : (x < y ? -1 : x > y);
}

/* The forward search from all roots (roots order: a module before a
 * frame before C code at the same distance): parent[] and the objects in
 * the order reached.  *reached their number. */
static uint32_t *search(struct builder *b, uint64_t **seen, uint32_t *reached) {
  struct pyl_call *call = b->call;
  struct pyl_ctx *c = b->c;
  uint32_t n = c->h.tab.n;
  const struct pyl_roots *r = &c->roots;
  uint32_t *src = pyl_q_scratch(call, r->n, sizeof(uint32_t));
  uint32_t *queue = pyl_q_scratch(call, n, sizeof(uint32_t));
  *seen = pyl_bitmap_new(&c->v.scratch, n);
  b->parent = pyl_q_scratch(call, n, sizeof(uint32_t));
  if (src == NULL || queue == NULL || *seen == NULL || b->parent == NULL ||
      !pyl_rootset_build(&b->rs, pyl_roots_objs(r), sizeof(struct pyl_root),
                         r->n, n, &c->v.scratch)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the patterns");
    return NULL;
  }
  for (uint32_t i = 0; i < r->n; i++) {
    src[i] = r->rows[i].obj;
  }
  struct pyl_graph g = pyl_q_graph(c);
  *reached = pyl_bfs_forward(&g, src, r->n, *seen, queue, b->parent);
  return pyl_q_stopped(call) ? NULL : queue;
}

static bool setup(struct builder *b) {
  struct pyl_call *call = b->call;
  struct pyl_pattern_set *set = b->set;
  uint32_t n = b->c->h.tab.n;
  b->max_nodes = n + 2 < PYL_PAT_MAX_NODES ? n + 2 : PYL_PAT_MAX_NODES;
  b->n_buckets = 1;
  while (b->n_buckets < 2 * b->max_nodes) {
    b->n_buckets *= 2;
  }
  b->labels_cap = b->max_nodes * PYL_PAT_LABEL_BYTES;
  b->stack = pyl_q_scratch(call, n, sizeof(uint32_t));
  b->pat = pyl_q_scratch(call, n, sizeof(uint32_t));
  b->bucket = pyl_q_scratch(call, b->n_buckets, sizeof(uint32_t));
  set->nodes = pyl_q_scratch(call, b->max_nodes, sizeof(*set->nodes));
  set->labels = pyl_q_scratch(call, b->labels_cap, 1);
  set->groups =
      pyl_q_scratch(call, (size_t)b->max_nodes + 2, sizeof(*set->groups));
  if (b->stack == NULL || b->pat == NULL || b->bucket == NULL ||
      set->nodes == NULL || set->labels == NULL || set->groups == NULL) {
    return false;
  }
  __builtin_memset(b->pat, 0xff, (size_t)n * sizeof(uint32_t));
  __builtin_memset(b->bucket, 0xff, (size_t)b->n_buckets * sizeof(uint32_t));
  for (uint32_t k = 0; k < b->max_nodes + 2; k++) {
    set->groups[k] =
        (struct pyl_pattern_group){.pattern = k, .example = PYL_NONE};
  }
  return true;
}

static void count_in(struct builder *b, uint32_t slot, uint32_t x) {
  struct pyl_ctx *c = b->c;
  struct pyl_pattern_group *g = &b->set->groups[slot];
  g->example = g->count++ == 0 ? x : g->example;
  /* An object no root reaches retains nothing in the tree: its own size. */
  g->bytes += b->set->retained && c->dom.idom[x] != PYL_NONE
                  ? c->dom.retained[x]
                  : pyl_heap_size(&c->h, x);
  b->set->total++;
}

/* Groups with objects, biggest first; the unreached and the "too many
 * patterns" slots get pattern PYL_NONE. */
static bool finish(struct builder *b) {
  struct pyl_pattern_set *set = b->set;
  uint32_t m = 0;
  uint32_t slots = b->max_nodes + 2;
  uint32_t *idx = pyl_q_scratch(b->call, slots, sizeof(uint32_t));
  uint32_t *tmp = pyl_q_scratch(b->call, slots, sizeof(uint32_t));
  if (idx == NULL || tmp == NULL) {
    return false;
  }
  for (uint32_t k = 0; k < slots; k++) {
    if (set->groups[k].count != 0) {
      idx[m++] = k;
    }
  }
  struct by_count o = {.g = set->groups};
  pyl_sort_u32(idx, tmp, m, bigger, &o);
  struct pyl_pattern_group *out = pyl_q_scratch(b->call, m, sizeof(*out));
  if (out == NULL) {
    return false;
  }
  for (uint32_t j = 0; j < m; j++) {
    out[j] = set->groups[idx[j]];
    out[j].pattern = idx[j] >= b->max_nodes ? PYL_NONE : idx[j];
  }
  set->groups = out;
  set->n_groups = m;
  return true;
}

bool pyl_q_patterns(struct pyl_call *call, uint32_t row,
                    struct pyl_pattern_set *out) {
  struct pyl_ctx *c = call->c;
  struct builder b = {.call = call, .c = c, .set = out};
  __builtin_memset(out, 0, sizeof(*out));
  out->retained = c->have_dom;
  uint64_t *seen = NULL;
  uint32_t reached = 0;
  const uint32_t *queue = search(&b, &seen, &reached);
  if (queue == NULL || !setup(&b)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the patterns");
    return false;
  }
  uint32_t unreached = b.max_nodes;
  uint32_t other = b.max_nodes + 1;
  for (uint32_t k = 0; k < reached; k++) {
    if ((k & 0xffff) == 0 && pyl_q_stopped(call)) {
      return false;
    }
    uint32_t x = queue[k];
    if (row_of(c, x) == row) {
      uint32_t p = pattern_of(&b, x);
      count_in(&b, p == PYL_NONE ? other : p, x);
    }
  }
  for (uint32_t x = 0; x < c->h.tab.n; x++) {
    if (row_of(c, x) == row && !pyl_bit(seen, x)) {
      count_in(&b, unreached, x);
    }
  }
  if (!finish(&b)) {
    pyl_call_fail(call, PYL_ENOMEM, "out of helper memory for the patterns");
    return false;
  }
  return !pyl_q_stopped(call);
}

void pyl_q_pattern_text(const struct pyl_call *call,
                        const struct pyl_pattern_set *set, uint32_t pattern,
                        struct pyl_sbuf *b) {
  const struct pyl_ctx *c = call->c;
  if (pattern == PYL_NONE) {
    pyl_sbuf_str(b, "(reached from no root, or too many different ways)");
    return;
  }
  /* The labels from the root down: collect the path up first. */
  enum { MAX_DEPTH = 64 };
  uint32_t path[MAX_DEPTH];
  uint32_t depth = 0;
  for (uint32_t k = pattern; k != PYL_NONE && depth < MAX_DEPTH;
       k = set->nodes[k].parent) {
    path[depth++] = k;
  }
  if (depth == MAX_DEPTH) {
    pyl_sbuf_str(b, "...");
  }
  for (uint32_t j = depth; j-- > 0;) {
    const char *label = set->labels + set->nodes[path[j]].label;
    if (label[0] != '\0') {
      pyl_sbuf_str(b, j + 1 == depth ? "" : " ");
      pyl_sbuf_str(b, label);
    }
  }
  pyl_sbuf_str(b, " ");
  pyl_sbuf_str(b, c->v.names.rows[set->nodes[pattern].row].name);
}

PYL_EXPORT uint64_t pyl_patterns(uint64_t max_rows, uint64_t flags) {
  struct pyl_call call;
  struct pyl_target_info info = {0};
  pyl_call_begin(&call);
  pyl_call_graph(&call, flags);
  pyl_q_need_rev(&call, &info);
  pyl_q_need_roots(&call, &info);
  uint32_t row = call.status == PYL_OK ? pyl_q_type_row(&call, pyl_call_arg())
                                       : UINT32_MAX;
  struct pyl_pattern_set set;
  struct pyl_qstr qs;
  if (row != UINT32_MAX && pyl_q_patterns(&call, row, &set)) {
    pyl_qstr_begin(&call, &qs);
    uint64_t n =
        max_rows != 0 && max_rows < set.n_groups ? max_rows : set.n_groups;
    struct pyl_pattern_row *rows = pyl_q_scratch(&call, n, sizeof(*rows));
    for (uint64_t j = 0; rows != NULL && j < n; j++) {
      const struct pyl_pattern_group *g = &set.groups[j];
      char buf[PYL_TEXT_MAX];
      struct pyl_sbuf b;
      pyl_sbuf_init(&b, buf, sizeof(buf));
      pyl_q_pattern_text(&call, &set, g->pattern, &b);
      rows[j] = (struct pyl_pattern_row){
          .count = g->count,
          .bytes = g->bytes,
          .example = c_addr(&call, g->example),
          .pattern_off =
              g->pattern == PYL_NONE ? qs.empty : pyl_qstr_add(&qs, buf),
          .retained = set.retained};
    }
    pyl_qstr_end(&call, &qs);
    struct pyl_result *r = call.res;
    r->n_rows = rows != NULL ? n : 0;
    r->n_rows_total = set.n_groups;
    r->rows_addr = (uint64_t)(uintptr_t)rows;
    r->row_size = sizeof(*rows);
  }
  return pyl_call_end(&call, PYL_RESULT_PATTERNS);
}
