/*
 * guard.c - the fencing guard process (see guard.h).
 *
 * The guard does one thing: while the shared page says "primary", sleep
 * until the published deadline; if it is reached without being moved,
 * fence every resource of this node (res_fence_sync: VIPs removed, Redis
 * writes paused) and count a fence.  When the agent is gone (parent
 * changed) and nothing is left to guard, exit.  It takes no input but
 * the page, so there is little in it to go wrong.
 */
#define _GNU_SOURCE
#include "guard.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "res.h"

enum { GUARD_POLL_MS = 50, GUARD_RT_PRIORITY = 20 };

struct guard_page {
	_Atomic uint64_t deadline_ms;
	_Atomic int primary;
	_Atomic int stop;
	_Atomic uint64_t fences;
};

struct guard {
	struct guard_page *page;
	pid_t pid;
};

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int guard_realtime(int priority, struct hp_err *err)
{
	struct sched_param sp = { .sched_priority = priority };

#ifndef __SANITIZE_ADDRESS__
	/* ASan's shadow memory is terabytes of address space: no mlock. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		return hp_errf(err, "mlockall: %s (memory may be paged out "
			       "under pressure)", strerror(errno));
#endif
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		return hp_errf(err, "SCHED_FIFO priority %d: %s (a loaded "
			       "machine may delay heartbeats)", priority,
			       strerror(errno));
	return 0;
}

static void sleep_until(uint64_t at_ms)
{
	struct timespec ts = { .tv_sec = (time_t)(at_ms / 1000),
			       .tv_nsec = (long)(at_ms % 1000) * 1000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

static void guard_loop(struct guard_page *pg, const struct conf *conf,
		       uint8_t node_id, pid_t agent)
{
	for (;;) {
		uint64_t now = mono_ms();
		uint64_t deadline = atomic_load(&pg->deadline_ms);
		bool orphan = getppid() != agent;

		if (atomic_load(&pg->stop))
			_exit(0);
		if (!atomic_load(&pg->primary)) {
			if (orphan)
				_exit(0);
			sleep_until(now + GUARD_POLL_MS);
			continue;
		}
		if (now >= deadline) {
			/* Errors go to stderr: the guard has no other
			 * channel, and the agent may be dead. */
			res_fence_sync(conf, node_id);
			atomic_store(&pg->primary, 0);
			atomic_fetch_add(&pg->fences, 1);
			fprintf(stderr, "hapair guard: lease deadline passed "
				"with the agent still primary: resources "
				"fenced\n");
			continue;
		}
		sleep_until(deadline < now + GUARD_POLL_MS ?
				    deadline : now + GUARD_POLL_MS);
	}
}

int guard_start(const struct conf *conf, uint8_t node_id,
		struct guard **out, struct hp_err *err)
{
	struct guard *g = calloc(1, sizeof(*g));
	pid_t agent = getpid();

	if (!g)
		return hp_errf(err, "guard: out of memory");
	g->page = mmap(NULL, sizeof(*g->page), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g->page == MAP_FAILED) {
		free(g);
		return hp_errf(err, "guard: mmap shared page: %s",
			       strerror(errno));
	}
	g->pid = fork();
	if (g->pid < 0) {
		munmap(g->page, sizeof(*g->page));
		free(g);
		return hp_errf(err, "guard: fork: %s", strerror(errno));
	}
	if (g->pid == 0) {
		struct hp_err rt;

		prctl(PR_SET_NAME, "hapair-guard");
		signal(SIGINT, SIG_IGN); /* Ctrl-C on the agent's terminal */
		signal(SIGTERM, SIG_IGN); /* only the agent stops us */
		if (guard_realtime(GUARD_RT_PRIORITY, &rt))
			fprintf(stderr, "hapair guard: %s\n", rt.msg);
		guard_loop(g->page, conf, node_id, agent);
	}
	*out = g;
	return 0;
}

void guard_publish(struct guard *g, bool primary, uint64_t deadline_ms)
{
	/* Order matters: the guard must never see "primary" together with
	 * a deadline of 0 or from an earlier term. */
	if (primary) {
		atomic_store(&g->page->deadline_ms, deadline_ms);
		atomic_store(&g->page->primary, 1);
	} else {
		atomic_store(&g->page->primary, 0);
		atomic_store(&g->page->deadline_ms, 0);
	}
}

uint64_t guard_fence_count(const struct guard *g)
{
	return atomic_load(&g->page->fences);
}

pid_t guard_pid(const struct guard *g)
{
	return g->pid;
}

void guard_stop(struct guard *g)
{
	if (!g)
		return;
	atomic_store(&g->page->stop, 1);
	waitpid(g->pid, NULL, 0);
	munmap(g->page, sizeof(*g->page));
	free(g);
}
