/*
 * bench_walk.c — time a census on a synthetic heap (no Python needed).
 *
 * usage: bench_walk [objects]       (default 10 million)
 *        bench_walk dom [objects]   the dominator tree instead (below)
 *
 * The heap mimics `x = [(i, str(i), float(i)) for i in range(n)]`: one
 * tracked list of untracked 3-tuples, each followed in memory by its three
 * leaves, as pymalloc would lay them out.  Prints objects/s and the bytes
 * the helper mapped per object.  A benchmark, not a test: nothing here
 * fails on a slow machine.
 */
#define _GNU_SOURCE
#include "dominators.h"
#include "fakepy.h"
#include "layout.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *bump;

static void *take(size_t size) {
  void *p = bump;
  bump += (size + 15) / 16 * 16;
  return p;
}

static uint32_t xorshift(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return (uint32_t)(*s >> 32);
}

/* A random graph in both directions: n objects with 0..6 references each
 * (3 on average) to uniformly random objects.  No locality at all: worse
 * for the caches than a real heap, whose objects mostly refer to objects
 * allocated near them. */
struct rgraph {
  struct pyl_graph g;
  uint32_t *offs;
  uint32_t *edges;
  uint32_t *roffs;
  uint32_t *redges;
  uint32_t *size;
};

static bool rgraph_build(struct rgraph *r, uint32_t n, uint64_t *st) {
  r->offs = calloc((size_t)n + 1, sizeof(uint32_t));
  r->roffs = calloc((size_t)n + 2, sizeof(uint32_t));
  r->size = malloc(((size_t)n + 1) * sizeof(uint32_t));
  if (r->offs == NULL || r->roffs == NULL || r->size == NULL) {
    return false;
  }
  for (uint32_t i = 0; i < n; i++) {
    r->offs[i + 1] = r->offs[i] + xorshift(st) % 7;
    r->size[i] = 16 + 8 * (xorshift(st) % 8);
  }
  uint32_t m = r->offs[n];
  r->edges = malloc(((size_t)m + 1) * sizeof(uint32_t));
  r->redges = malloc(((size_t)m + 1) * sizeof(uint32_t));
  if (r->edges == NULL || r->redges == NULL) {
    return false;
  }
  for (uint32_t k = 0; k < m; k++) {
    r->edges[k] = xorshift(st) % n;
    r->roffs[r->edges[k] + 2]++;
  }
  /* A counting sort: roffs[d + 1] is where d's next referrer goes. */
  for (uint32_t i = 1; i <= n; i++) {
    r->roffs[i + 1] += r->roffs[i];
  }
  for (uint32_t s = 0; s < n; s++) {
    for (uint32_t k = r->offs[s]; k < r->offs[s + 1]; k++) {
      r->redges[r->roffs[r->edges[k] + 1]++] = s;
    }
  }
  r->g = (struct pyl_graph){.n = n,
                            .offs = r->offs,
                            .edges = r->edges,
                            .roffs = r->roffs,
                            .redges = r->redges};
  return true;
}

static void rgraph_free(struct rgraph *r) {
  free(r->offs);
  free(r->edges);
  free(r->roffs);
  free(r->redges);
  free(r->size);
}

/* pyl_dom_build on a random graph from 1000 random roots: prints the
 * time, the bytes the arena mapped per object, and the process's peak
 * RSS (the graph itself included). */
static int bench_dom(uint32_t n) {
  enum { N_SRC = 1000 };
  uint64_t st = 88172645463325252ull;
  struct rgraph r = {0};
  struct pyl_arena a = {0};
  uint32_t src[N_SRC];
  int rc = 1;
  if (n == 0 || !rgraph_build(&r, n, &st) ||
      !pyl_arena_reserve(&a, 32 * ((size_t)n + 2), 32 * ((size_t)n + 2))) {
    perror("bench_walk dom");
    goto out;
  }
  for (int i = 0; i < N_SRC; i++) {
    src[i] = xorshift(&st) % n;
  }
  struct pyl_dom d;
  uint64_t t0 = pyl_now_ns();
  double cpu = cpu_seconds();
  if (!pyl_dom_build(&d, &r.g, src, N_SRC, r.size, &a)) {
    (void)fprintf(stderr, "pyl_dom_build failed\n");
    goto out;
  }
  cpu = cpu_seconds() - cpu;
  double secs = (double)(pyl_now_ns() - t0) / 1e9;
  struct rusage ru;
  (void)getrusage(RUSAGE_SELF, &ru);
  printf("objects %u edges %u reached %u  dominators %.3f s (cpu %.3f s)  "
         "%.1fM objects/s  mapped %.1f B/object (peak %.1f)  "
         "process peak RSS %.0f MB\n",
         n, r.offs[n], d.n_reached, secs, cpu, (double)n / secs / 1e6,
         (double)pyl_arena_mapped_now() / (double)n,
         (double)pyl_arena_mapped_peak() / (double)n,
         (double)ru.ru_maxrss / 1024.0);
  rc = 0;
out:
  pyl_arena_release(&a);
  rgraph_free(&r);
  return rc;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "dom") == 0) {
    return bench_dom(argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10)
                              : 10000000);
  }
  long n = argc > 1 ? atol(argv[1]) : 10000000;
  long tuples = n / 4;
  static struct fakepy f;
  fakepy_init(&f);
  size_t tuple_size = sizeof(struct fake_gc) + sizeof(struct fake_obj) + 24;
  bump = malloc((size_t)tuples * (tuple_size + 3 * 32 + 32) + 4096);
  if (bump == NULL) {
    perror("malloc");
    return 1;
  }
  struct fake_obj *list = fakepy_box(&f, &f.box, tuples, 0);
  for (long i = 0; i < tuples; i++) {
    unsigned char *mem = take(tuple_size);
    memset(mem, 0, tuple_size);
    struct fake_obj *t = (struct fake_obj *)(void *)(mem + 16);
    t->ob_refcnt = 1;
    t->ob_type = &f.box;
    t->ob_size = 3;
    for (int k = 0; k < 3; k++) {
      struct fake_obj *leaf = take(sizeof(struct fake_obj));
      leaf->ob_refcnt = 1;
      leaf->ob_type = &f.leaf;
      t->items[k] = (uint64_t)(uintptr_t)leaf;
    }
    list->items[i] = (uint64_t)(uintptr_t)t;
  }
  fakepy_layout(&f, pyl_layout_store());
  double cpu = cpu_seconds();
  struct pyl_result *r =
      (struct pyl_result *)(uintptr_t)pyl_census(PYL_SORT_COUNT, 0, 0);
  cpu = cpu_seconds() - cpu;
  if (r->status != PYL_OK) {
    fprintf(stderr, "census failed: %s\n", r->message);
    return 1;
  }
  double secs = (double)r->walk_ns / 1e9;
  printf("objects %llu edges %llu walk %.3f s (cpu %.3f s)  "
         "%.1fM objects/s  mapped %.1f B/object (peak %.1f)\n",
         (unsigned long long)r->total_objects, (unsigned long long)r->n_edges,
         secs, cpu, (double)r->total_objects / secs / 1e6,
         (double)r->mapped_bytes / (double)r->total_objects,
         (double)r->peak_mapped_bytes / (double)r->total_objects);
  return 0;
}
