/*
 * control.h — the helper's side of the call-control block
 * (pyleaks_ctl.h): heartbeats, being told to stop, progress, and faults
 * that gdb turns into a skipped object instead of a failed call.
 *
 * Without a control block (unit tests, or a call made the old way) every
 * function here is a no-op that lets the work go on.
 */
#ifndef PYL_CONTROL_H
#define PYL_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

/* Where the control block is (0: none).  Called by gdb through the
 * pyl_control_attach() entry point, once after loading. */
void pyl_control_set(uint64_t ctl_addr);

/* Set by a heartbeat nobody answered, by gdb's abort request, or by the
 * budget: the current call must return as soon as it can. */
extern volatile int pyl__control_stop;
extern uint32_t pyl__control_countdown;

bool pyl__control_beat(void);

/* Call in every loop whose length grows with the heap (about every few
 * hundred objects).  Returns false when the call must stop; the caller
 * returns PYL_EABORTED with pyl_control_why() as its message. */
static inline bool pyl_control_tick(void) {
  if (pyl__control_countdown-- != 0) {
    return pyl__control_stop == 0;
  }
  return pyl__control_beat();
}

/* Why the call must stop, for the result's message. */
const char *pyl_control_why(void);

/* Forget a stop request (at the start of each entry point call). */
void pyl_control_reset(void);

/* Progress for gdb's "walked N of about M objects" line. */
void pyl_control_progress(uint64_t done, uint64_t total);

/* Run fn(arg) so that a memory fault inside it (a corrupt object in the
 * target's own tp_traverse, say) abandons fn and returns false instead of
 * failing the whole call: gdb sees the fault, finds the guard armed and
 * sends the thread to a landing pad that jumps back here.  Without gdb
 * (or without a control block) a fault stays a fault: callers still
 * validate what they read. */
bool pyl_control_guarded(void (*fn)(void *), void *arg);

#endif /* PYL_CONTROL_H */
