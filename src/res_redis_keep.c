/*
 * res_redis_keep.c - keeping an old primary's data aside before it is
 * resynced (DESIGN.md, Data protection: nothing discarded silently).
 *
 * A Redis that says role:master when told to follow the new primary may
 * hold writes the new primary lacks; REPLICAOF would throw them away
 * with a full resync.  Before that, step ST_KEEP of the demote plan:
 *   CONFIG GET dir, CONFIG GET dbfilename, BGSAVE (if another save runs,
 *   wait for it and save again, so the copy holds what is there now),
 *   poll INFO persistence until the save ends (at most 60 s), then copy
 *   the RDB in libuv's thread pool to
 *   keep_dir/<node>-<resource>-<UTC time>-offset<N>.rdb (keep_dir 0700).
 * An event names the file, or says why there is none.  Either way the
 * demote goes on: two primaries would be worse than a lost copy.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "res_redis_int.h"
#include "statefile.h"

static void keep_reply(redisAsyncContext *ac, void *reply, void *priv);

/* Continue the demote after the keep, whatever came of it. */
static void keep_end(struct rds *d, bool ok, const char *why)
{
	const char *name = d->r->cr->name;
	const char *from = redis_node_name(d, d->primary_id);

	d->kept = ok && d->paused;
	if (ok)
		res_event(d->r, "redis %s: kept the old primary's data "
			  "(offset %" PRIu64 ") in %s before resyncing from %s",
			  name, d->offset, d->dst, from);
	else
		res_event(d->r, "redis %s: could not keep the old primary's "
			  "data (offset %" PRIu64 ") before resyncing from %s: "
			  "%s; resyncing anyway (two primaries would be worse)",
			  name, d->offset, from, why);
	redis_plan_next(d);
}

static void keep_send(struct rds *d, enum keep_phase phase, int argc,
		      const char **argv)
{
	d->keep = phase;
	if (redis_send(d, keep_reply, redis_gen(d->gen), argc, argv))
		keep_end(d, false, d->conn_err);
}

void redis_keep_start(struct rds *d)
{
	const char *argv[] = { "CONFIG", "GET", "dir" };

	res_step_extend(d->r, d->token, KEEP_SAVE_MAX_MS + KEEP_COPY_MAX_MS +
			d->r->timeout_ms);
	d->keep_until_ms = mono_ms() + KEEP_SAVE_MAX_MS;
	keep_send(d, K_DIR, 3, argv);
}

static void copy_done(uv_fs_t *req)
{
	struct res *r = req->data;
	struct rds *d = r->priv;
	char why[2 * HP_ERR_MAX];
	int rc = (int)req->result;

	uv_fs_req_cleanup(req);
	d->fs_busy = false;
	/* uv_strerror(0) leaks its "Unknown system error" string. */
	snprintf(why, sizeof(why), "copy %s to %s: %s", d->src, d->dst,
		 rc ? uv_strerror(rc) : "done");
	if (res_closing(r))
		; /* the set is going away: nothing left to continue */
	else if (d->fs_gen == d->gen)
		keep_end(d, rc == 0, why);
	else if (rc == 0)
		res_event(r, "redis %s: kept the old primary's data in %s "
			  "(the demote that asked for it was superseded)",
			  r->cr->name, d->dst);
	res_release(r);
}

static void keep_copy(struct rds *d)
{
	struct hp_err err;
	char why[2 * HP_ERR_MAX];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (d->fs_busy) {
		keep_end(d, false, "an earlier copy is still running");
		return;
	}
	if (statefile_mkdir(d->c->keep_dir, &err)) {
		keep_end(d, false, err.msg);
		return;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(d->src, sizeof(d->src), "%s/%s", d->dir, d->dbfile);
	snprintf(d->dst, sizeof(d->dst), "%s/%s-%s-%s-offset%" PRIu64 ".rdb",
		 d->c->keep_dir, redis_node_name(d, d->r->self_id),
		 d->r->cr->name, stamp, d->offset);
	d->fs.data = d->r;
	rc = uv_fs_copyfile(d->r->loop, &d->fs, d->src, d->dst,
			    UV_FS_COPYFILE_EXCL | UV_FS_COPYFILE_FICLONE,
			    copy_done);
	if (rc) {
		snprintf(why, sizeof(why), "copy %s to %s: %s", d->src,
			 d->dst, uv_strerror(rc));
		keep_end(d, false, why);
		return;
	}
	d->fs_busy = true;
	d->fs_gen = d->gen;
	res_hold(d->r);
}

static void keep_poll(uv_timer_t *t)
{
	struct res *r = t->data;
	struct rds *d = r->priv;
	const char *argv[] = { "INFO", "persistence" };

	keep_send(d, d->keep, 2, argv);
}

/* INFO persistence while waiting: for a running save to end (K_IDLE,
 * then BGSAVE again) or for ours (K_SAVING, then copy). */
static void keep_saving(struct rds *d, const char *info)
{
	char status[16], why[64];
	const char *argv[] = { "BGSAVE" };

	if (redis_info_u64(info, "rdb_bgsave_in_progress", NULL)) {
		if (mono_ms() >= d->keep_until_ms) {
			snprintf(why, sizeof(why), "BGSAVE still running "
				 "after %d s", KEEP_SAVE_MAX_MS / 1000);
			keep_end(d, false, why);
			return;
		}
		uv_timer_start(&d->keep_timer, keep_poll, KEEP_POLL_MS, 0);
		return;
	}
	if (d->keep == K_IDLE) {
		keep_send(d, K_BGSAVE, 1, argv);
		return;
	}
	redis_info_field(info, "rdb_last_bgsave_status", status,
			 sizeof(status));
	if (strcmp(status, "ok") != 0) {
		keep_end(d, false, "BGSAVE failed (rdb_last_bgsave_status "
			 "is not ok; the Redis log says why)");
		return;
	}
	keep_copy(d);
}

/* CONFIG GET answers [name, value]. */
static bool config_value(const redisReply *rep, char *out, size_t size)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[1]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->len >= size)
		return false;
	memcpy(out, rep->element[1]->str, rep->element[1]->len + 1);
	return true;
}

static void keep_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rds *d = redis_got_reply(ac, reply);
	const redisReply *rep = reply;
	const char *dbfile[] = { "CONFIG", "GET", "dbfilename" };
	const char *bgsave[] = { "BGSAVE" };
	char msg[HP_ERR_MAX];

	if ((uintptr_t)priv != d->gen || res_closing(d->r))
		return;
	if (d->keep == K_BGSAVE && rep && rep->type == REDIS_REPLY_ERROR &&
	    (strstr(rep->str, "in progress") ||
	     strstr(rep->str, "child process"))) {
		/* Someone else's save (a replica's full sync) or an AOF
		 * rewrite: wait it out, then save ours, so the copy holds
		 * what we have now (not BGSAVE SCHEDULE: its save starts
		 * later, and the poll could not tell it from the last). */
		d->keep = K_IDLE;
		uv_timer_start(&d->keep_timer, keep_poll, KEEP_POLL_MS, 0);
		return;
	}
	if (redis_failed(d, rep, d->keep == K_BGSAVE ? "BGSAVE" :
			 d->keep == K_DIR || d->keep == K_DBFILE ?
			 "CONFIG GET" : "INFO persistence", msg,
			 sizeof(msg))) {
		keep_end(d, false, msg);
		return;
	}
	switch (d->keep) {
	case K_DIR:
		if (!config_value(rep, d->dir, sizeof(d->dir)))
			keep_end(d, false, "CONFIG GET dir: unexpected reply");
		else
			keep_send(d, K_DBFILE, 3, dbfile);
		break;
	case K_DBFILE:
		if (!config_value(rep, d->dbfile, sizeof(d->dbfile)))
			keep_end(d, false, "CONFIG GET dbfilename: "
				 "unexpected reply");
		else
			keep_send(d, K_BGSAVE, 1, bgsave);
		break;
	case K_BGSAVE:
		/* The fork happened before the reply: poll until done. */
		d->keep = K_SAVING;
		uv_timer_start(&d->keep_timer, keep_poll, KEEP_POLL_MS, 0);
		break;
	case K_IDLE:
	case K_SAVING:
		keep_saving(d, rep->type == REDIS_REPLY_STRING ? rep->str : "");
		break;
	}
}
