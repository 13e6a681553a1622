/* control.c — heartbeats, stop requests and fault guards (control.h). */
#define _GNU_SOURCE
#include "control.h"

#include "pyleaks_ctl.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
  /* Ticks between two looks at the clock: at 10M objects/s, about 0.4 ms. */
  PYL_TICKS_PER_LOOK = 4096,
};

volatile int pyl__control_stop;
uint32_t pyl__control_countdown = PYL_TICKS_PER_LOOK;

static volatile uint64_t *ctl;
static uint64_t last_beat_ns;
static void *guard_jmp[5];

static volatile uint64_t *word(unsigned off) { return ctl + off / 8; }

static uint64_t now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    return 0;
  }
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* gdb sends a faulting thread here, with the stack pointer still inside
 * the guarded function's callees: jump back to pyl_control_guarded(). */
static void land(void) { __builtin_longjmp(guard_jmp, 1); }

void pyl_control_set(uint64_t ctl_addr) {
  ctl = (volatile uint64_t *)(uintptr_t)ctl_addr;
  if (ctl != NULL && *word(PYL_CTL_MAGIC_OFF) != PYL_CTL_MAGIC) {
    ctl = NULL;
  }
  if (ctl != NULL) {
    *word(PYL_CTL_GUARD) = 0;
    *word(PYL_CTL_LAND) = (uint64_t)(uintptr_t)land;
  }
}

void pyl_control_reset(void) {
  pyl__control_stop = PYL_ABORT_NONE;
  pyl__control_countdown = PYL_TICKS_PER_LOOK;
  last_beat_ns = now_ns();
  if (ctl != NULL) {
    *word(PYL_CTL_PROGRESS) = 0;
    *word(PYL_CTL_TOTAL) = 0;
  }
}

static bool stop(uint64_t why) {
  pyl__control_stop = (int)why;
  return false;
}

bool pyl__control_beat(void) {
  pyl__control_countdown = PYL_TICKS_PER_LOOK;
  if (pyl__control_stop != PYL_ABORT_NONE) {
    return false;
  }
  if (ctl == NULL) {
    return true;
  }
  uint64_t abort = *word(PYL_CTL_ABORT);
  if (abort != PYL_ABORT_NONE) {
    return stop(abort);
  }
  uint64_t interval = *word(PYL_CTL_BEAT_NS);
  uint64_t now = now_ns();
  if (interval == 0 || now - last_beat_ns < interval) {
    return true;
  }
  last_beat_ns = now;
  /* The signal stops this thread in gdb's hands before tgkill returns;
   * gdb counts the beat and resumes it.  Nobody counted: gdb is gone, and
   * the other threads of the target may be running again. */
  uint64_t ack = *word(PYL_CTL_ACK);
  syscall(SYS_tgkill, (long)*word(PYL_CTL_TGID), (long)*word(PYL_CTL_TID),
          (long)*word(PYL_CTL_SIG));
  if (*word(PYL_CTL_ACK) == ack) {
    return stop(PYL_ABORT_GONE);
  }
  abort = *word(PYL_CTL_ABORT);
  return abort == PYL_ABORT_NONE ? true : stop(abort);
}

const char *pyl_control_why(void) {
  switch (pyl__control_stop) {
  case PYL_ABORT_USER:
    return "stopped: pyleaks was interrupted";
  case PYL_ABORT_BUDGET:
    return "stopped: the time budget for a stopped target ran out";
  case PYL_ABORT_GONE:
    return "stopped: the debugger went away";
  default:
    return "";
  }
}

void pyl_control_progress(uint64_t done, uint64_t total) {
  if (ctl != NULL) {
    *word(PYL_CTL_PROGRESS) = done;
    *word(PYL_CTL_TOTAL) = total;
  }
}

bool pyl_control_guarded(void (*fn)(void *), void *arg) {
  if (ctl == NULL) {
    fn(arg);
    return true;
  }
  if (__builtin_setjmp(guard_jmp)) {
    *word(PYL_CTL_GUARD) = 0;
    return false;
  }
  *word(PYL_CTL_GUARD) = 1;
  fn(arg);
  *word(PYL_CTL_GUARD) = 0;
  return true;
}
