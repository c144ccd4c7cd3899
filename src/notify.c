/*
 * notify.c - run [notify] programs on role changes (see notify.h).
 *
 * Each program has one slot: the process running now, and at most one
 * notification waiting behind it.  notify_set_run() starts the program
 * when the slot is free, and otherwise replaces whatever waits (only the
 * latest state matters: a program told MASTER then FAULT while busy
 * hears FAULT once, not both).  When the process has exited and its
 * handle is closed, the waiting notification starts.
 *
 * The program runs as `/bin/sh -c 'COMMAND "$@"' hapair INSTANCE CLUSTER
 * STATE` in a session of its own, so the kill timer reaches everything
 * it started: SIGTERM to the group at the timeout, SIGKILL a second
 * later.  Its environment is the agent's minus any HAPAIR_* variables,
 * plus the six HAPAIR_* of the event.  stdout goes to /dev/null; stderr
 * is the agent's, so a program's complaint reaches the journal.
 */
#define _POSIX_C_SOURCE 200809L

#include "notify.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

enum {
	KILL_GRACE_MS = 1000,	/* SIGTERM to SIGKILL */
	ENV_OURS = 6,
	ENV_VAR_MAX = 320,	/* "HAPAIR_REASON=" + reason */
};

/* What a notification needs, copied: the caller's strings may go. */
struct notify_msg {
	char node[CONF_NAME_MAX];
	char peer[CONF_NAME_MAX];
	char role[32];
	char state[16];
	uint64_t term;
	char reason[256];
};

struct prog {
	struct notify_set *set;
	struct conf_notify conf;
	uv_process_t proc;
	uv_timer_t timer;		/* kill timer */
	bool busy;			/* proc in use until it is closed */
	bool exited;
	bool timed_out;
	bool term_sent;
	bool has_waiting;
	struct notify_msg waiting;
};

struct notify_set {
	uv_loop_t *loop;
	notify_fail_cb on_fail;
	void *data;
	char cluster[CONF_NAME_MAX];
	int handles;			/* open libuv handles */
	bool closing;
	int n;
	struct prog progs[];
};

static void start(struct prog *p, const struct notify_msg *m);

static void failf(struct prog *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Report "notify NAME: ..." unless the set is closing. */
static void failf(struct prog *p, const char *fmt, ...)
{
	struct notify_set *set = p->set;
	char msg[HP_ERR_MAX];
	int n;
	va_list ap;

	if (set->closing || !set->on_fail)
		return;
	n = snprintf(msg, sizeof(msg), "notify %s: ", p->conf.name);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	set->on_fail(set, msg, set->data);
}

static void maybe_free(struct notify_set *set)
{
	if (set->closing && set->handles == 0)
		free(set);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void copy_msg(struct notify_msg *m, const struct notify_event *ev)
{
	copy_str(m->node, sizeof(m->node), ev->node);
	copy_str(m->peer, sizeof(m->peer), ev->peer);
	copy_str(m->role, sizeof(m->role), ev->role);
	copy_str(m->state, sizeof(m->state), ev->state);
	copy_str(m->reason, sizeof(m->reason), ev->reason);
	m->term = ev->term;
}

/* The agent's environment without HAPAIR_*, then ours (vars[]).  The
 * array is malloc'ed; the strings are borrowed.  NULL without memory. */
static char **build_env(char vars[ENV_OURS][ENV_VAR_MAX])
{
	size_t n = 0, o = 0, i;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + ENV_OURS + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "HAPAIR_", 7))
			env[o++] = environ[i];
	for (i = 0; i < ENV_OURS; i++)
		env[o++] = vars[i];
	return env;
}

static void fill_vars(const struct prog *p, const struct notify_msg *m,
		      char vars[ENV_OURS][ENV_VAR_MAX])
{
	snprintf(vars[0], ENV_VAR_MAX, "HAPAIR_NODE=%s", m->node);
	snprintf(vars[1], ENV_VAR_MAX, "HAPAIR_PEER=%s", m->peer);
	snprintf(vars[2], ENV_VAR_MAX, "HAPAIR_ROLE=%s", m->role);
	snprintf(vars[3], ENV_VAR_MAX, "HAPAIR_TERM=%" PRIu64, m->term);
	snprintf(vars[4], ENV_VAR_MAX, "HAPAIR_REASON=%s", m->reason);
	snprintf(vars[5], ENV_VAR_MAX, "HAPAIR_CLUSTER=%s", p->set->cluster);
}

static void proc_closed(uv_handle_t *h)
{
	struct prog *p = h->data;
	struct notify_set *set = p->set;

	set->handles--;
	p->busy = false;
	if (!set->closing && p->has_waiting) {
		p->has_waiting = false;
		start(p, &p->waiting);
	}
	maybe_free(set);
}

static void on_proc_exit(uv_process_t *proc, int64_t status, int signal)
{
	struct prog *p = proc->data;

	p->exited = true;
	uv_timer_stop(&p->timer);
	if (p->timed_out)
		failf(p, "killed after %" PRIu32 " ms timeout",
		      p->conf.timeout_ms);
	else if (signal)
		failf(p, "killed by signal %d", signal);
	else if (status)
		failf(p, "exit status %lld", (long long)status);
	uv_close((uv_handle_t *)proc, proc_closed);
}

/* Timeout: SIGTERM to the group, then SIGKILL after the grace time. */
static void on_kill_timer(uv_timer_t *t)
{
	struct prog *p = t->data;

	if (p->exited)
		return;
	p->timed_out = true;
	if (!p->term_sent) {
		p->term_sent = true;
		kill(-p->proc.pid, SIGTERM);
		uv_timer_start(&p->timer, on_kill_timer, KILL_GRACE_MS, 0);
	} else {
		kill(-p->proc.pid, SIGKILL);
	}
}

static int spawn(struct prog *p, const struct notify_msg *m, char **env)
{
	char script[CONF_CMD_MAX + 8], cluster[CONF_NAME_MAX];
	char state[sizeof(m->state)], instance[] = "INSTANCE";
	char *args[] = { "/bin/sh", "-c", script, "hapair", instance,
			 cluster, state, NULL };
	uv_stdio_container_t stdio[3];
	uv_process_options_t opt;

	snprintf(script, sizeof(script), "%s \"$@\"", p->conf.command);
	copy_str(cluster, sizeof(cluster), p->set->cluster);
	copy_str(state, sizeof(state), m->state);
	memset(&opt, 0, sizeof(opt));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_IGNORE;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	opt.file = args[0];
	opt.args = args;
	opt.env = env;
	opt.flags = UV_PROCESS_DETACHED;
	opt.stdio_count = 3;
	opt.stdio = stdio;
	opt.exit_cb = on_proc_exit;
	p->proc.data = p;
	return uv_spawn(p->set->loop, &p->proc, &opt);
}

static void start(struct prog *p, const struct notify_msg *m)
{
	char vars[ENV_OURS][ENV_VAR_MAX];
	char **env;
	int rc;

	fill_vars(p, m, vars);
	env = build_env(vars);
	if (!env) {
		failf(p, "cannot run: out of memory");
		return;
	}
	p->busy = true;
	p->exited = false;
	p->timed_out = false;
	p->term_sent = false;
	rc = spawn(p, m, env);
	free(env);
	p->set->handles++;	/* even a failed uv_spawn leaves a handle */
	if (rc < 0) {
		failf(p, "cannot run /bin/sh: %s", uv_strerror(rc));
		p->exited = true;
		uv_close((uv_handle_t *)&p->proc, proc_closed);
		return;
	}
	uv_timer_start(&p->timer, on_kill_timer, p->conf.timeout_ms, 0);
}

int notify_set_open(uv_loop_t *loop, const struct conf *conf,
		    notify_fail_cb on_fail, void *data,
		    struct notify_set **out, struct hp_err *err)
{
	struct notify_set *set;
	struct prog *p;
	int i, n = conf->n_notify;

	*out = NULL;
	if (n < 0 || n > CONF_MAX_NOTIFY)
		return hp_errf(err, "notify: %d programs configured; expected "
			       "0 to %d", n, CONF_MAX_NOTIFY);
	set = calloc(1, sizeof(*set) + (size_t)n * sizeof(set->progs[0]));
	if (!set)
		return hp_errf(err, "notify: out of memory");
	set->loop = loop;
	set->on_fail = on_fail;
	set->data = data;
	copy_str(set->cluster, sizeof(set->cluster), conf->name);
	set->n = n;
	for (i = 0; i < n; i++) {
		p = &set->progs[i];
		p->set = set;
		p->conf = conf->notify[i];
		uv_timer_init(loop, &p->timer);
		p->timer.data = p;
		set->handles++;
	}
	*out = set;
	return 0;
}

void notify_set_run(struct notify_set *set, const struct notify_event *ev)
{
	struct notify_msg m;
	struct prog *p;
	int i;

	if (!set || set->closing)
		return;
	copy_msg(&m, ev);
	for (i = 0; i < set->n; i++) {
		p = &set->progs[i];
		if (p->busy) {
			p->waiting = m;
			p->has_waiting = true;
		} else {
			start(p, &m);
		}
	}
}

static void timer_closed(uv_handle_t *h)
{
	struct prog *p = h->data;
	struct notify_set *set = p->set;

	set->handles--;
	maybe_free(set);
}

void notify_set_close(struct notify_set *set)
{
	struct prog *p;
	int i;

	if (!set || set->closing)
		return;
	set->closing = true;
	for (i = 0; i < set->n; i++) {
		p = &set->progs[i];
		p->has_waiting = false;
		/* Close the process handle here rather than in the exit
		 * callback: the agent closes every handle left open right
		 * after this, which would skip that callback and leak the
		 * set.  The killed child is reaped by init when we exit. */
		if (p->busy && !p->exited) {
			kill(-p->proc.pid, SIGKILL);
			p->exited = true;
			if (!uv_is_closing((uv_handle_t *)&p->proc))
				uv_close((uv_handle_t *)&p->proc, proc_closed);
		}
		uv_timer_stop(&p->timer);
		uv_close((uv_handle_t *)&p->timer, timer_closed);
	}
	maybe_free(set);
}
