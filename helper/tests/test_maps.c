/* test_maps.c — parsing maps text and answering readability. */
#include "check.h"
#include "maps.h"

#include <string.h>

static const char text[] =
    "00400000-00401000 r-xp 00000000 08:01 123   /usr/bin/python3\n"
    "00401000-00402000 rw-p 00001000 08:01 123   /usr/bin/python3\n"
    "00402000-00403000 rw-p 00000000 00:00 0 \n"
    "00500000-00600000 ---p 00000000 00:00 0 \n"
    "7f0000000000-7f0000200000 rw-p 00000000 00:00 0 \n"
    "7f0000300000-7f0000301000 r--p 00000000 00:00 0   [vvar]\n"
    "7f0000301000-7f0000302000 r-xp 00000000 00:00 0   [vdso]\n"
    "7f0000400000-7f0000401000 rw-s 00000000 00:05 9   /dev/nvidia0\n"
    "7f0000500000-7f0000501000 rw-s 00000000 00:01 7   /dev/zero (deleted)\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]\n";

static void test_parse(void) {
  struct pyl_maps m;
  memset(&m, 0, sizeof(m));
  ASSERT_TRUE(pyl_maps_parse(&m, text, sizeof(text) - 1));
  /* 0x400000-0x403000 merged; big anon; vdso; /dev/zero */
  ASSERT_EQ(m.n_rd, 4);
  ASSERT_EQ(m.rd[0].lo, 0x400000);
  ASSERT_EQ(m.rd[0].hi, 0x403000);
  ASSERT_TRUE(pyl_maps_readable(&m, 0x400000, 8));
  ASSERT_TRUE(pyl_maps_readable(&m, 0x400ff8, 16)); /* across a merge */
  ASSERT_TRUE(pyl_maps_readable(&m, 0x402ff8, 8));
  ASSERT_FALSE(pyl_maps_readable(&m, 0x402ff8, 9));
  ASSERT_FALSE(pyl_maps_readable(&m, 0x500000, 8)); /* ---p */
  ASSERT_FALSE(pyl_maps_readable(&m, 0x3ffff8, 16));
  ASSERT_FALSE(pyl_maps_readable(&m, 0x7f0000300000, 8)); /* vvar */
  ASSERT_FALSE(pyl_maps_readable(&m, 0x7f0000400000, 8)); /* device */
  ASSERT_TRUE(pyl_maps_readable(&m, 0x7f0000500000, 8));
  ASSERT_FALSE(pyl_maps_readable(&m, 0, 8));
  ASSERT_FALSE(pyl_maps_readable(&m, 0x400000, 0));
  ASSERT_FALSE(pyl_maps_readable(&m, UINT64_MAX - 3, 8)); /* wraps */
  ASSERT_TRUE(pyl_maps_executable(&m, 0x400800));
  ASSERT_FALSE(pyl_maps_executable(&m, 0x401800));
  ASSERT_TRUE(pyl_maps_executable(&m, 0x7f0000301000));
  pyl_maps_release(&m);
}

static void test_granule_cache(void) {
  struct pyl_maps m;
  memset(&m, 0, sizeof(m));
  ASSERT_TRUE(pyl_maps_parse(&m, text, sizeof(text) - 1));
  /* The 2 MiB anonymous range covers granules fully: cached after the
   * first answer, and still exact at its end. */
  ASSERT_TRUE(pyl_maps_readable(&m, 0x7f0000000100, 8));
  uint64_t g = 0x7f0000000100ull >> PYL_CHUNK_SHIFT;
  ASSERT_EQ(m.granule[g % PYL_CHUNK_SLOTS], (g << 1) | 1);
  ASSERT_TRUE(pyl_maps_readable(&m, 0x7f00001ffff8, 8));
  ASSERT_FALSE(pyl_maps_readable(&m, 0x7f00001ffff8, 16));
  /* A granule only partly mapped is never cached as readable. */
  ASSERT_TRUE(pyl_maps_readable(&m, 0x400000, 8));
  g = 0x400000 >> PYL_CHUNK_SHIFT;
  ASSERT_EQ(m.granule[g % PYL_CHUNK_SLOTS], 0);
  pyl_maps_release(&m);
}

static void test_self(void) {
  struct pyl_maps m;
  memset(&m, 0, sizeof(m));
  ASSERT_TRUE(pyl_maps_load(&m));
  static const int data = 7;
  int local = 3;
  ASSERT_TRUE(pyl_maps_readable(&m, (uint64_t)(uintptr_t)&data, 4));
  ASSERT_TRUE(pyl_maps_readable(&m, (uint64_t)(uintptr_t)&local, 4));
  ASSERT_TRUE(pyl_maps_executable(&m, (uint64_t)(uintptr_t)&test_self));
  ASSERT_FALSE(pyl_maps_readable(&m, 8, 8));
  pyl_maps_release(&m);
}

const struct pyl_test pyl_maps_tests[] = {
    {"maps/parse", test_parse},
    {"maps/granule_cache", test_granule_cache},
    {"maps/self", test_self},
    PYL_TESTS_END,
};
