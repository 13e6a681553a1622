/* facts_sink.c — where every decoder puts its facts: the top of the
 * scratch arena, one field slot at most once.  Apart from the decoders
 * (facts*.c) so that they all depend on it and it on none of them. */
#include "facts.h"

void pyl_facts_begin(struct facts *f, struct pyl_view *c, uint64_t want) {
  f->c = c;
  f->want = want;
  f->start = (c->scratch.used + 63) & ~(size_t)63;
  f->v = (struct fact *)(void *)(c->scratch.base + f->start);
  f->n = 0;
  f->n_slots = 0;
  f->oom = false;
}

void pyl_fact_add(struct facts *f, uint64_t addr, uint32_t kind,
                  const char *text, uint64_t arg, uint32_t idx) {
  if (addr == 0 || f->oom || (f->want != 0 && addr != f->want)) {
    return;
  }
  if (!pyl_arena_commit(&f->c->scratch,
                        f->start + (f->n + 1) * sizeof(struct fact))) {
    f->oom = true;
    return;
  }
  f->v[f->n++] = (struct fact){
      .addr = addr, .arg = arg, .text = text, .kind = kind, .idx = idx};
}

/* The pointer at slot, once per slot: an explicit field and a member
 * naming the same field give one fact. */
void pyl_fact_slot(struct facts *f, uint64_t slot, uint32_t kind,
                   const char *text, uint64_t arg) {
  for (uint32_t i = 0; i < f->n_slots; i++) {
    if (f->slots[i] == slot) {
      return;
    }
  }
  if (f->n_slots < PYL_FIELD_SLOTS) {
    f->slots[f->n_slots++] = slot;
  }
  pyl_fact_add(f, pyl_peek(f->c, slot), kind, text, arg, 0);
}

void pyl_fact_field(struct facts *f, uint64_t obj, uint64_t off,
                    const char *label) {
  if (off != 0) {
    pyl_fact_slot(f, obj + off, F_TEXT, label, 0);
  }
}
