/*
 * statefile.h - term and vote on disk.
 *
 * A voter's term, vote and (witness) sync record must survive a restart,
 * or it could vote twice in one term or let terms go backwards.  The file
 * is written to a temporary name, fsync'ed, renamed over the old one and
 * the directory fsync'ed, so a crash leaves the old or the new version,
 * never a torn one.
 */
#ifndef HAPAIR_STATEFILE_H
#define HAPAIR_STATEFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct statefile {
	uint64_t term;
	uint8_t voted_for;	/* node id, 0 = none */
	uint8_t synced;		/* witness: bit per node recorded in sync */
	uint64_t epoch;		/* start count: high bits of message seqs */
	bool paused;		/* agent: automatic failover paused */
	uint64_t pause_gen;	/* generation of that setting (elect.h) */
};

/* Load path into *out.  A missing file is a fresh voter (all zero,
 * returns 0).  A file that exists but does not parse is an error: the
 * agent must not guess its term.  Returns 0 or -1 with *err set. */
int statefile_load(const char *path, struct statefile *out,
		   struct hp_err *err);

/* Durably replace path with *sf (write, fsync, rename, fsync dir). */
int statefile_save(const char *path, const struct statefile *sf,
		   struct hp_err *err);

/* A durable marker file (its content does not matter): present = true
 * creates path (fsync'ed, directory fsync'ed), false removes it (a
 * missing file is fine; directory fsync'ed).  Returns 0 or -1 with *err
 * set. */
int statefile_marker(const char *path, bool present, struct hp_err *err);

/* Create dir and its missing parents before writing under it (state_dir,
 * run_dir, a redis keep_dir): parents with mode 0755, dir itself 0700.
 * A directory that exists is fine.  Returns 0 or -1 with *err set. */
int statefile_mkdir(const char *dir, struct hp_err *err);

#endif
