/*
 * evfile.c - the JSON-lines event file (see evfile.h).
 *
 * Lines wait in a FIFO list; one uv_fs_t request at a time works on the
 * head: uv_fs_write with O_APPEND (a short write continues where it
 * stopped), and before it, when needed, uv_fs_close of the old
 * descriptor and uv_fs_open of the path.  step() picks the next request
 * whenever none is in flight:
 *
 *   nothing queued              -> idle (or free, once closing)
 *   reopen asked, file open     -> close it (then open on the next step)
 *   no file open                -> open the path; on failure the head
 *                                  line is counted failed and dropped
 *   else                        -> write the rest of the head line
 *
 * A write error drops the head line (counted) and asks for a reopen, so
 * a file removed or replaced under us is created again.  Error lines
 * are rate-limited per file (ERR_LOG_MS) with a count of those held
 * back.  Only the start-up open is synchronous.
 */
#define _POSIX_C_SOURCE 200809L

#include "evfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

enum {
	ERR_LOG_MS = 10000,	/* at most one error line per file per 10 s */
	FILE_MODE = 0640,
	OPEN_FLAGS = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
};

struct line {
	struct line *next;
	size_t len, off;	/* bytes, bytes written so far */
	char text[];
};

struct evfile {
	uv_loop_t *loop;
	char *path;
	uv_file fd;		/* -1: open before the next write */
	uv_fs_t req;
	bool busy;		/* req in flight */
	bool reopen;
	bool closing;
	struct line *head, **tail;
	unsigned queued;
	uint64_t written, failed, dropped;
	uint64_t err_log_ms;
	unsigned suppressed;
};

static void step(struct evfile *f);

static void errlog(struct evfile *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One error line per ERR_LOG_MS, saying how many were held back. */
static void errlog(struct evfile *f, const char *fmt, ...)
{
	uint64_t now = uv_now(f->loop);
	char msg[HP_ERR_MAX];
	va_list ap;

	if (f->err_log_ms && now < f->err_log_ms + ERR_LOG_MS) {
		f->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->suppressed)
		hp_log(LOG_WARN, "events file %s: %s (%u similar suppressed)",
		       f->path, msg, f->suppressed);
	else
		hp_log(LOG_WARN, "events file %s: %s", f->path, msg);
	f->err_log_ms = now;
	f->suppressed = 0;
}

static void pop(struct evfile *f)
{
	struct line *l = f->head;

	f->head = l->next;
	if (!f->head)
		f->tail = &f->head;
	f->queued--;
	free(l);
}

/* The head line is lost: the file could not be opened or written. */
static void lose_head(struct evfile *f, const char *what, ssize_t rc)
{
	f->failed++;
	/* libuv's codes are negated errno values on Linux: strerror()
	 * words them as evfile_open() does. */
	errlog(f, "%s: %s; event line lost (%" PRIu64 " so far)", what,
	       strerror((int)-rc), f->failed);
	pop(f);
}

static void finish(struct evfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

static void on_closed(uv_fs_t *req)
{
	struct evfile *f = req->data;

	uv_fs_req_cleanup(req);
	f->busy = false;
	step(f);
}

static void on_opened(uv_fs_t *req)
{
	struct evfile *f = req->data;
	ssize_t rc = req->result;

	uv_fs_req_cleanup(req);
	f->busy = false;
	if (rc < 0)
		lose_head(f, "cannot open", rc);
	else
		f->fd = (uv_file)rc;
	step(f);
}

static void on_written(uv_fs_t *req)
{
	struct evfile *f = req->data;
	ssize_t rc = req->result;

	uv_fs_req_cleanup(req);
	f->busy = false;
	if (rc <= 0) {
		lose_head(f, "cannot write", rc ? rc : UV_EIO);
		f->reopen = true;
	} else if ((f->head->off += (size_t)rc) == f->head->len) {
		f->written++;
		pop(f);
	}
	step(f);
}

static void step(struct evfile *f)
{
	uv_buf_t buf;
	int rc;

	if (f->busy)
		return;
	if (!f->head) {
		if (f->closing)
			finish(f);
		return;
	}
	f->busy = true;
	if (f->reopen && f->fd >= 0) {
		rc = uv_fs_close(f->loop, &f->req, f->fd, on_closed);
		f->fd = -1;
	} else if (f->fd < 0) {
		f->reopen = false;
		rc = uv_fs_open(f->loop, &f->req, f->path, OPEN_FLAGS,
				FILE_MODE, on_opened);
	} else {
		buf = uv_buf_init(f->head->text + f->head->off,
				  (unsigned)(f->head->len - f->head->off));
		rc = uv_fs_write(f->loop, &f->req, f->fd, &buf, 1, -1,
				 on_written);
	}
	if (rc == 0)
		return;
	/* The request could not even be queued: give the line up rather
	 * than spin on it. */
	f->busy = false;
	lose_head(f, "cannot queue a file request", rc);
	step(f);
}

int evfile_open(uv_loop_t *loop, const char *path, struct evfile **out,
		struct hp_err *err)
{
	struct evfile *f;
	struct stat st;
	int fd;

	*out = NULL;
	if (!path || path[0] != '/')
		return hp_errf(err, "events file %s: expected an absolute path",
			       path ? path : "(none)");
	fd = open(path, OPEN_FLAGS, FILE_MODE);
	if (fd < 0)
		return hp_errf(err, "events file %s: cannot open: %s", path,
			       strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hp_errf(err, "events file %s: expected a regular file",
			       path);
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		close(fd);
		return hp_errf(err, "events file %s: out of memory", path);
	}
	f->loop = loop;
	f->fd = fd;
	f->req.data = f;
	f->tail = &f->head;
	*out = f;
	return 0;
}

void evfile_sink(void *data, const struct event *ev, const char *json)
{
	struct evfile *f = data;
	size_t n = strlen(json);
	struct line *l;

	if (!f || f->closing)
		return;
	if (f->queued >= EVFILE_QUEUE_MAX ||
	    !(l = malloc(sizeof(*l) + n + 2))) {
		f->dropped++;
		errlog(f, "%s; event %" PRIu64 " not written (%" PRIu64
		       " so far)", f->queued >= EVFILE_QUEUE_MAX ?
		       "queue full (the disk is slow or stuck)" :
		       "out of memory", ev->id, f->dropped);
		return;
	}
	memcpy(l->text, json, n);
	l->text[n] = '\n';
	l->text[n + 1] = '\0';
	l->len = n + 1;
	l->off = 0;
	l->next = NULL;
	*f->tail = l;
	f->tail = &l->next;
	f->queued++;
	step(f);
}

void evfile_reopen(struct evfile *f)
{
	if (f)
		f->reopen = true;
}

void evfile_close(struct evfile *f)
{
	if (!f)
		return;
	f->closing = true;
	if (!f->busy && !f->head)
		finish(f);
}

void evfile_stats(const struct evfile *f, struct evfile_stats *out)
{
	out->written = f->written;
	out->failed = f->failed;
	out->dropped = f->dropped;
	out->queued = f->queued;
}
