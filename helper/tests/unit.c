/* unit.c — runs every test table, each test in a child process. */
#include "check.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern const struct pyl_test pyl_arena_tests[];
extern const struct pyl_test pyl_chain_tests[];
extern const struct pyl_test pyl_dominators_tests[];
extern const struct pyl_test pyl_queries_tests[];
extern const struct pyl_test pyl_csr_tests[];
extern const struct pyl_test pyl_engine_tests[];
extern const struct pyl_test pyl_linetable_tests[];
extern const struct pyl_test pyl_maps_tests[];
extern const struct pyl_test pyl_nomalloc_tests[];
extern const struct pyl_test pyl_objtab_tests[];
extern const struct pyl_test pyl_roots_tests[];
extern const struct pyl_test pyl_sort_tests[];
extern const struct pyl_test pyl_validate_tests[];
extern const struct pyl_test pyl_vec_tests[];

static const struct pyl_test *const tables[] = {
    pyl_arena_tests,    pyl_csr_tests,       pyl_engine_tests,
    pyl_maps_tests,     pyl_nomalloc_tests,  pyl_objtab_tests,
    pyl_sort_tests,     pyl_chain_tests,     pyl_dominators_tests,
    pyl_queries_tests,  pyl_linetable_tests, pyl_roots_tests,
    pyl_validate_tests, pyl_vec_tests,
};

/* The fake heaps are deliberately never freed: not leaks. */
__attribute__((visibility("default"))) const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *
__asan_default_options(void) {
  return "detect_leaks=0";
}

static int run(const struct pyl_test *t) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    t->fn();
    exit(0);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) < 0) {
    perror("waitpid");
    return 1;
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    printf("ok   %s\n", t->name);
    return 0;
  }
  if (WIFSIGNALED(st)) {
    printf("FAIL %s (signal %d)\n", t->name, WTERMSIG(st));
  } else {
    printf("FAIL %s\n", t->name);
  }
  return 1;
}

int main(int argc, char **argv) {
  int failed = 0;
  int total = 0;
  for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
    for (const struct pyl_test *t = tables[i]; t->name != NULL; t++) {
      if (argc > 1 && strstr(t->name, argv[1]) == NULL) {
        continue;
      }
      total++;
      failed += run(t);
    }
  }
  printf("%d of %d tests failed\n", failed, total);
  return failed == 0 ? 0 : 1;
}
