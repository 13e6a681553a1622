/*
 * bench_walk.c — time a census on a synthetic heap (no Python needed).
 *
 * usage: bench_walk [objects]   (default 10 million)
 *
 * The heap mimics `x = [(i, str(i), float(i)) for i in range(n)]`: one
 * tracked list of untracked 3-tuples, each followed in memory by its three
 * leaves, as pymalloc would lay them out.  Prints objects/s and the bytes
 * the helper mapped per object.  A benchmark, not a test: nothing here
 * fails on a slow machine.
 */
#define _GNU_SOURCE
#include "fakepy.h"
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv) {
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
