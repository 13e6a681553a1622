/*
 * facts.h — the decoders behind labels.c (internal to labels.c and the
 * facts*.c files).
 *
 * A fact is one reference a decoder can name: the referent's address and
 * how to say it.  Decoders read the referrer's memory by its type and add
 * facts; labels.c matches them to the graph's references.  Facts grow at
 * the top of the context's scratch arena, which the caller gives back.
 */
#ifndef PYL_FACTS_H
#define PYL_FACTS_H

#include "view.h"
#include "peek.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  PYL_MAX_BASES = 64,    /* tp_base chains we follow */
  PYL_FIELD_SLOTS = 256, /* field slots remembered against duplicates */
};

/* Set in fact.kind once a reference took the fact. */
#define PYL_USED (1u << 31)

enum fact_kind {
  F_TEXT,      /* text */
  F_INDEX,     /* [idx] */
  F_KEY_VALUE, /* [repr(arg)] */
  F_KEY_OF,    /* key of [repr(arg)] */
  F_ATTR_STR,  /* .str(arg) */
  F_ATTR_CSTR, /* .cstring at arg (a class's __slots__ member) */
  F_CSTR,      /* cstring at arg (a builtin type's member) */
  F_NAMED,     /* text 'str(arg)' */
  F_CLOSURE,   /* [idx] 'str(arg)' */
};

struct fact {
  uint64_t addr; /* the referent */
  uint64_t arg;
  const char *text;
  uint32_t kind; /* enum fact_kind, | PYL_USED */
  uint32_t idx;
};

struct facts {
  struct pyl_view *c;
  struct fact *v;
  size_t start;  /* scratch offset of v */
  uint64_t want; /* only facts about this referent, or 0 for all */
  uint32_t n;
  uint32_t n_slots;
  bool oom;
  uint64_t slots[PYL_FIELD_SLOTS]; /* fields already read */
};

/* facts.c */
void pyl_facts_begin(struct facts *f, struct pyl_view *c, uint64_t want);
void pyl_fact_add(struct facts *f, uint64_t addr, uint32_t kind,
                  const char *text, uint64_t arg, uint32_t idx);
/* The pointer at slot, once per slot (an explicit field and a member
 * naming the same field give one fact). */
void pyl_fact_slot(struct facts *f, uint64_t slot, uint32_t kind,
                   const char *text, uint64_t arg);
/* The pointer at obj + off as text; off 0 means the field is absent. */
void pyl_fact_field(struct facts *f, uint64_t obj, uint64_t off,
                    const char *label);
/* Every fact about the object at obj; prev is the object before it in a
 * chain (names a closure's cells), or 0. */
void pyl_facts_collect(struct facts *f, uint64_t obj, uint64_t prev);

/* facts_frames.c */
void pyl_facts_frame(struct facts *f, uint64_t obj); /* a frame object */
void pyl_facts_gen(struct facts *f, uint64_t obj);   /* generator, coroutine,
                                                        async generator */
/* The name (a str address) of free variable i of a function, or 0. */
uint64_t pyl_freevar_name(struct pyl_view *c, uint64_t func, int64_t i);

/* facts_attrs.c */
void pyl_facts_attributes(struct facts *f, uint64_t obj, uint64_t type);
void pyl_facts_members(struct facts *f, uint64_t obj, uint64_t type);

#endif /* PYL_FACTS_H */
