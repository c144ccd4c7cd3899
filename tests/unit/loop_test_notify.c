/*
 * loop_test_notify.c - the notify programs (src/notify.c) on a real
 * libuv loop.
 *
 * Each command gets keepalived's three arguments appended, so a command
 * that takes none ends in "; :" (or "; true") to swallow them.
 * Programs are small shell scripts in a temporary directory that write
 * their arguments and HAPAIR_* environment to a file; others exit badly,
 * outlive their timeout (one even ignores SIGTERM, so only the SIGKILL a
 * second later ends it), or record the states they were given, to show
 * that a busy program gets the latest state once and nothing in between.
 * Every wait has a deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"
#include "loop_util.h"

static char fails[8][HP_ERR_MAX];
static int n_fails;
static char dir[160];

static void on_fail(struct notify_set *set, const char *msg, void *data)
{
	assert_ptr_equal(data, fails);
	assert_true(n_fails < 8);
	snprintf(fails[n_fails++], HP_ERR_MAX, "%s", msg);
}

static struct conf_notify *add_notify(struct conf *c, const char *name,
				      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add a [notify NAME] running the command fmt, ...; timeout 2 s. */
static struct conf_notify *add_notify(struct conf *c, const char *name,
				      const char *fmt, ...)
{
	struct conf_notify *n = &c->notify[c->n_notify++];
	va_list ap;

	snprintf(n->name, sizeof(n->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(n->command, sizeof(n->command), fmt, ap);
	va_end(ap);
	n->timeout_ms = 2000;
	return n;
}

static struct notify_set *open_set(const struct conf *c)
{
	struct notify_set *set;
	struct hp_err err;

	if (notify_set_open(&test_loop, c, on_fail, fails, &set, &err))
		fail_msg("notify_set_open: %s", err.msg);
	return set;
}

static const struct notify_event master = {
	.node = "a", .peer = "b", .role = "primary", .state = "MASTER",
	.term = 7, .reason = "won the election for term 7",
};

static bool file_exists(void *arg)
{
	return access(arg, F_OK) == 0;
}

static bool have_fails(void *arg)
{
	return n_fails >= *(int *)arg;
}

static void wait_fails(int n, uint64_t max_ms)
{
	int i;

	if (run_until(have_fails, &n, max_ms))
		return;
	for (i = 0; i < n_fails; i++)
		print_error("  failure %d: %s\n", i, fails[i]);
	fail_msg("expected %d failures within %llu ms, got %d", n,
		 (unsigned long long)max_ms, n_fails);
}

static int setup(void **state)
{
	n_fails = 0;
	memset(fails, 0, sizeof(fails));
	make_tmp_dir(dir, sizeof(dir));
	return uv_loop_init(&test_loop);
}

static int teardown(void **state)
{
	assert_int_equal(drain_loop(), 0);
	remove_tmp_dir(dir);
	return 0;
}

static void test_empty_set(void **state)
{
	struct conf c = { 0 };
	struct notify_set *set = open_set(&c);

	notify_set_run(set, &master);
	notify_set_close(set);
}

/* keepalived's arguments, the HAPAIR_* variables (a stale one from the
 * agent's own environment replaced), the rest of the environment kept,
 * and a reason with quotes and $ passed as is. */
static void test_args_and_env(void **state)
{
	struct notify_event ev = master;
	struct conf c = { 0 };
	struct notify_set *set;
	char script[256], out[256], text[2048], want[1024];

	snprintf(script, sizeof(script), "%s/rec.sh", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_text(script, "{ echo \"n=$#\"; for a in \"$@\"; do "
			   "echo \"arg=$a\"; done; env | grep '^HAPAIR_' | "
			   "sort; [ -n \"$PATH\" ] && echo path; } > "
			   "\"$OUT.tmp\" && mv \"$OUT.tmp\" \"$OUT\"\n");
	add_notify(&c, "rec", "OUT=%s /bin/sh %s", out, script);
	snprintf(c.name, sizeof(c.name), "shop");
	setenv("HAPAIR_NODE", "stale", 1);
	setenv("HAPAIR_EXTRA", "stale", 1);
	ev.reason = "said \"go\" for $HOME; 'quoted'";
	set = open_set(&c);
	notify_set_run(set, &ev);
	unsetenv("HAPAIR_NODE");
	unsetenv("HAPAIR_EXTRA");
	assert_true(run_until(file_exists, out, 3000));
	assert_int_equal(read_text(out, text, sizeof(text)), 0);
	snprintf(want, sizeof(want), "n=3\narg=INSTANCE\narg=shop\n"
		 "arg=MASTER\nHAPAIR_CLUSTER=shop\nHAPAIR_NODE=a\n"
		 "HAPAIR_PEER=b\nHAPAIR_REASON=%s\nHAPAIR_ROLE=primary\n"
		 "HAPAIR_TERM=7\npath\n", ev.reason);
	assert_string_equal(text, want);
	notify_set_close(set);
	assert_int_equal(n_fails, 0);
}

/* Missing fields become empty strings, not crashes. */
static void test_null_fields(void **state)
{
	struct notify_event ev = { .term = 1 };
	struct conf c = { 0 };
	struct notify_set *set;
	char out[256], text[512];

	snprintf(out, sizeof(out), "%s/out", dir);
	add_notify(&c, "rec", "echo \"[$HAPAIR_NODE][$HAPAIR_REASON]\" > %s;"
		   " true", out);
	set = open_set(&c);
	notify_set_run(set, &ev);
	assert_true(run_until(file_exists, out, 3000));
	run_for(50);
	assert_int_equal(read_text(out, text, sizeof(text)), 0);
	assert_string_equal(text, "[][]\n");
	notify_set_close(set);
}

static void test_exit_status(void **state)
{
	struct conf c = { 0 };
	struct notify_set *set;

	add_notify(&c, "good", "true");
	add_notify(&c, "bad", "exit 3");
	add_notify(&c, "sig", "kill -9 $$");
	set = open_set(&c);
	notify_set_run(set, &master);
	wait_fails(2, 3000);
	run_for(100);
	assert_int_equal(n_fails, 2);
	assert_string_equal(fails[0], strstr(fails[0], "bad") ?
				      "notify bad: exit status 3" :
				      "notify sig: killed by signal 9");
	assert_string_equal(fails[1], strstr(fails[1], "bad") ?
				      "notify bad: exit status 3" :
				      "notify sig: killed by signal 9");
	notify_set_close(set);
}

static void test_timeout_term(void **state)
{
	struct conf c = { 0 };
	struct notify_set *set;
	uint64_t t0 = now_ms();

	add_notify(&c, "slow", "sleep 5; :")->timeout_ms = 100;
	set = open_set(&c);
	notify_set_run(set, &master);
	wait_fails(1, 3000);
	assert_string_equal(fails[0], "notify slow: killed after 100 ms "
				      "timeout");
	assert_true(now_ms() - t0 < 2500);	/* not the 5 s sleep */
	notify_set_close(set);
}

/* A program that ignores SIGTERM (and passes that on to its child) is
 * killed by the SIGKILL one second later.  The timeout leaves the shell
 * time to set its trap first, even on a loaded machine. */
static void test_timeout_kill(void **state)
{
	struct conf c = { 0 };
	struct notify_set *set;
	uint64_t t0 = now_ms(), took;

	add_notify(&c, "stubborn", "trap '' TERM; sleep 5; :")
		->timeout_ms = 400;
	set = open_set(&c);
	notify_set_run(set, &master);
	wait_fails(1, 4000);
	took = now_ms() - t0;
	assert_string_equal(fails[0], "notify stubborn: killed after 400 ms "
				      "timeout");
	if (took < 1350 || took > 4500)
		fail_msg("ended after %llu ms, expected about 1400",
			 (unsigned long long)took);
	notify_set_close(set);
}

static bool two_lines(void *arg)
{
	char text[256], *nl;

	if (read_text(arg, text, sizeof(text)))
		return false;
	nl = strchr(text, '\n');
	return nl && strchr(nl + 1, '\n');
}

/* Three changes while the program is busy with the first: it hears the
 * first and the last, nothing in between. */
static void test_coalescing(void **state)
{
	struct notify_event ev = master;
	struct conf c = { 0 };
	struct notify_set *set;
	char log[256], text[256];

	snprintf(log, sizeof(log), "%s/log", dir);
	add_notify(&c, "slow", "echo \"$3 $HAPAIR_TERM\" >> %s; sleep 0.2; "
		   "true", log);
	set = open_set(&c);
	notify_set_run(set, &ev);
	ev.state = "BACKUP";
	ev.term = 8;
	notify_set_run(set, &ev);
	ev.state = "FAULT";
	ev.term = 9;
	ev.reason = NULL;
	notify_set_run(set, &ev);
	assert_true(run_until(two_lines, log, 3000));
	run_for(400);
	assert_int_equal(read_text(log, text, sizeof(text)), 0);
	assert_string_equal(text, "MASTER 7\nFAULT 9\n");
	notify_set_close(set);
	assert_int_equal(n_fails, 0);
}

/* Two programs do not wait for each other. */
static void test_programs_independent(void **state)
{
	struct conf c = { 0 };
	struct notify_set *set;
	char out[256];

	snprintf(out, sizeof(out), "%s/fast", dir);
	add_notify(&c, "slow", "sleep 5; :");
	add_notify(&c, "fast", "touch %s; :", out);
	set = open_set(&c);
	notify_set_run(set, &master);
	assert_true(run_until(file_exists, out, 2000));
	notify_set_close(set);
}

/* Closing kills a running program, drops what waits and reports
 * nothing; the loop then empties at once. */
static void test_close_kills(void **state)
{
	struct conf c = { 0 };
	struct notify_set *set;
	char out[256];
	uint64_t t0;

	snprintf(out, sizeof(out), "%s/late", dir);
	add_notify(&c, "slow", "sleep 5; touch %s; :", out);
	set = open_set(&c);
	notify_set_run(set, &master);
	notify_set_run(set, &master);
	run_for(50);
	t0 = now_ms();
	notify_set_close(set);
	assert_int_equal(drain_loop(), 0);
	assert_true(now_ms() - t0 < 2500);
	assert_int_equal(n_fails, 0);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(uv_loop_init(&test_loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_args_and_env, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_null_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exit_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout_term, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kill, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_coalescing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_programs_independent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_kills, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
