/*
 * check_script.c - one run of a script check (see check_int.h).
 *
 * The command runs as `/bin/sh -c COMMAND` in a session of its own, so
 * in its own process group: at the deadline SIGKILL goes to the group
 * and whatever the script started dies with it.  stdin is /dev/null;
 * stdout and stderr share one pipe whose first non-empty line becomes
 * part of the reason ("exit status 2: disk full"); the rest is read and
 * dropped, so a chatty script never blocks on a full pipe.  The result
 * is known once the shell has exited and its output has ended, or at the
 * deadline.  Exit status 0 is a pass.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_int.h"

static void close_pipe(struct check *c)
{
	uv_handle_t *h = (uv_handle_t *)&c->u.script.out;

	if (!uv_is_closing(h))
		uv_close(h, check_run_handle_closed);
}

/* The exit status is known: record the result. */
static void judge(struct check *c)
{
	struct check_script *s = &c->u.script;
	char line[SCRIPT_LINE_MAX + 4] = "";

	if (s->line_len)
		snprintf(line, sizeof(line), ": %.*s", (int)s->line_len,
			 s->line);
	if (s->signal)
		check_result(c, false, "killed by signal %d%s", s->signal,
			     line);
	else
		check_result(c, s->status == 0, "exit status %lld%s",
			     (long long)s->status, line);
}

/* Keep the first non-empty line, printable and bounded. */
static void keep_line(struct check_script *s, const char *p, size_t n)
{
	size_t i;
	char ch;

	for (i = 0; i < n && !s->line_done; i++) {
		ch = p[i];
		if (ch == '\n') {
			s->line_done = s->line_len > 0;
			continue;
		}
		if (ch == '\r')
			continue;
		if (s->line_len == sizeof(s->line) - 1) {
			s->line_done = true;
			break;
		}
		if (ch == '\t')
			ch = ' ';
		s->line[s->line_len++] = ch >= ' ' && ch <= '~' ? ch : '?';
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct check *c = h->data;

	buf->base = c->u.script.sink;
	buf->len = sizeof(c->u.script.sink);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct check *c = stream->data;
	struct check_script *s = &c->u.script;

	if (nread > 0) {
		keep_line(s, buf->base, (size_t)nread);
		return;
	}
	if (nread == 0)
		return;
	s->eof = true;
	close_pipe(c);
	if (s->exited)
		judge(c);
}

static void on_proc_exit(uv_process_t *proc, int64_t status, int signal)
{
	struct check *c = proc->data;
	struct check_script *s = &c->u.script;

	s->exited = true;
	s->status = status;
	s->signal = signal;
	uv_close((uv_handle_t *)proc, check_run_handle_closed);
	if (s->eof)
		judge(c);
}

/* The write end of the pipe becomes the child's stdout and stderr. */
static int spawn(struct check *c, uv_file out_fd)
{
	char *args[] = { "/bin/sh", "-c", c->conf.command, NULL };
	uv_stdio_container_t stdio[3];
	uv_process_options_t opt;

	memset(&opt, 0, sizeof(opt));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = out_fd;
	stdio[2] = stdio[1];
	opt.file = args[0];
	opt.args = args;
	opt.flags = UV_PROCESS_DETACHED;
	opt.stdio_count = 3;
	opt.stdio = stdio;
	opt.exit_cb = on_proc_exit;
	c->u.script.proc.data = c;
	return uv_spawn(check_loop(c), &c->u.script.proc, &opt);
}

void check_script_start(struct check *c)
{
	struct check_script *s = &c->u.script;
	uv_file fds[2];
	int rc;

	uv_pipe_init(check_loop(c), &s->out, 0);
	s->out.data = c;
	check_run_handle_opened(c);
	rc = uv_pipe(fds, UV_NONBLOCK_PIPE, 0);
	if (rc < 0) {
		check_result(c, false, "cannot run: pipe: %s",
			     check_strerror(rc));
		close_pipe(c);
		return;
	}
	rc = uv_pipe_open(&s->out, fds[0]);
	if (rc < 0)
		close(fds[0]);
	else
		rc = spawn(c, fds[1]);
	close(fds[1]);
	if (rc < 0) {
		check_result(c, false, "cannot run /bin/sh: %s",
			     check_strerror(rc));
		/* A failed uv_spawn still leaves the handle to close. */
		if (s->proc.type == UV_PROCESS) {
			check_run_handle_opened(c);
			uv_close((uv_handle_t *)&s->proc,
				 check_run_handle_closed);
		}
		close_pipe(c);
		return;
	}
	s->spawned = true;
	check_run_handle_opened(c);
	rc = uv_read_start((uv_stream_t *)&s->out, on_alloc, on_read);
	if (rc < 0) {
		s->eof = true;	/* judge on exit, without output */
		close_pipe(c);
	}
}

void check_script_stop(struct check *c, bool timed_out)
{
	struct check_script *s = &c->u.script;

	/* Exited but a child it left behind still holds the output open:
	 * the exit status is the result. */
	if (timed_out && s->exited)
		judge(c);
	else if (timed_out)
		check_result(c, false, "timeout after %u ms",
			     (unsigned)c->conf.timeout_ms);
	if (s->spawned && !s->exited)
		kill(-s->proc.pid, SIGKILL);
	close_pipe(c);
	/* The set is closing (agent shutdown, reload): do not wait for the
	 * exit, whose callback may never run - the agent closes every
	 * handle still open right after. */
	if (check_closing(c) && s->spawned && !s->exited &&
	    !uv_is_closing((uv_handle_t *)&s->proc))
		uv_close((uv_handle_t *)&s->proc, check_run_handle_closed);
}
