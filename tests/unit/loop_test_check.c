/*
 * loop_test_check.c - the health checks (src/check*.c) on a real libuv
 * loop.
 *
 * A listener on 127.0.0.1 (ephemeral port) is a tiny HTTP server whose
 * answer each test picks: 200, 503, nothing, garbage, an endless line or
 * a status line cut by the close.  Script checks run true, false, a
 * command that does not exist, sleep (killed at the timeout with what it
 * started) and a sequence script that passes or fails run by run, so
 * rise/fall counting is checked run by run.  Every wait has a deadline;
 * the program runs in a few seconds.  Only 127.0.0.1 and child
 * processes are used.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "loop_util.h"

enum { ACCEPTS_KEPT = 16 };

enum answer {
	ANSWER_200, ANSWER_503, ANSWER_NONE, ANSWER_GARBAGE, ANSWER_ENDLESS,
	ANSWER_BARE
};

struct conn {
	uv_tcp_t tcp;
	uv_write_t write;
	char req[1024];
	size_t len;
	bool answered;
	struct conn *next;
};

static struct {
	uv_tcp_t tcp;
	uint16_t port;
	enum answer answer;
	char last_req[1024];
	struct conn *conns;
	int accepts;
	uint64_t accept_ms[ACCEPTS_KEPT];
} server;

struct flip {
	char name[CONF_NAME_MAX];
	bool healthy;
	char reason[200];
	int runs;		/* sequence steps used when it flipped */
};

static struct flip flips[32];
static int n_flips;
static char seq_path[200];	/* the sequence test's file, or "" */
static int seq_len;
static bool close_on_flip;

static char endless[5000];

/* The tiny HTTP server. */

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data, **pp;

	for (pp = &server.conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

static void conn_close(struct conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void answer_written(uv_write_t *req, int status)
{
	conn_close(req->data);
}

static void answer(struct conn *c)
{
	static const char ok[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	static const char down[] = "HTTP/1.1 503 Service Unavailable\r\n\r\n";
	static const char garbage[] = "SSH-2.0-x\r\n";
	static const char bare[] = "HTTP/1.0 200 OK";
	uv_buf_t buf;

	switch (server.answer) {
	case ANSWER_200:
		buf = uv_buf_init((char *)ok, sizeof(ok) - 1);
		break;
	case ANSWER_503:
		buf = uv_buf_init((char *)down, sizeof(down) - 1);
		break;
	case ANSWER_GARBAGE:
		buf = uv_buf_init((char *)garbage, sizeof(garbage) - 1);
		break;
	case ANSWER_ENDLESS:
		buf = uv_buf_init(endless, sizeof(endless));
		break;
	case ANSWER_BARE:
		buf = uv_buf_init((char *)bare, sizeof(bare) - 1);
		break;
	default:
		return;		/* ANSWER_NONE: keep it waiting */
	}
	c->write.data = c;
	assert_int_equal(uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1,
				  answer_written), 0);
}

static void conn_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	struct conn *c = h->data;

	buf->base = c->req + c->len;
	buf->len = sizeof(c->req) - 1 - c->len;
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	if (nread < 0 || c->len + (size_t)nread >= sizeof(c->req) - 1) {
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	c->req[c->len] = '\0';
	if (c->answered || !strstr(c->req, "\r\n\r\n"))
		return;
	c->answered = true;
	memcpy(server.last_req, c->req, sizeof(server.last_req));
	answer(c);
}

static void on_connection(uv_stream_t *s, int status)
{
	struct conn *c;

	assert_int_equal(status, 0);
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	uv_tcp_init(&test_loop, &c->tcp);
	c->tcp.data = c;
	c->next = server.conns;
	server.conns = c;
	assert_int_equal(uv_accept(s, (uv_stream_t *)&c->tcp), 0);
	if (server.accepts < ACCEPTS_KEPT)
		server.accept_ms[server.accepts] = now_ms();
	server.accepts++;
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

static void server_start(void)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	uv_tcp_init(&test_loop, &server.tcp);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_tcp_bind(&server.tcp, (struct sockaddr *)&sin, 0),
			 0);
	assert_int_equal(uv_listen((uv_stream_t *)&server.tcp, 16,
				   on_connection), 0);
	uv_tcp_getsockname(&server.tcp, (struct sockaddr *)&ss, &len);
	server.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void server_stop(void)
{
	struct conn *c;

	for (c = server.conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&server.tcp, NULL);
}

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
static uint16_t closed_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* Checks and their flips. */

static void on_flip(struct check_set *set, const char *name, bool healthy,
		    const char *reason, void *data)
{
	struct flip *f;
	char text[64];

	assert_ptr_equal(data, &flips);
	assert_true(n_flips < (int)(sizeof(flips) / sizeof(flips[0])));
	f = &flips[n_flips++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->healthy = healthy;
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
	f->runs = -1;
	if (seq_path[0] && read_text(seq_path, text, sizeof(text)) == 0)
		f->runs = seq_len - (int)strlen(text);
	if (close_on_flip)
		check_set_close(set);
}

static struct conf_check *add_check(struct conf *c, const char *name,
				    enum conf_check_type type)
{
	struct conf_check *k = &c->checks[c->n_checks++];

	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->type = type;
	snprintf(k->address, sizeof(k->address), "127.0.0.1");
	k->port = server.port;
	snprintf(k->path, sizeof(k->path), "/");
	k->expect_status = 200;
	/* The parser wants timeout <= interval; this module does not mind,
	 * and a long timeout keeps a loaded machine from failing runs. */
	k->interval_ms = 20;
	k->timeout_ms = 2000;
	k->rise = 1;
	k->fall = 1;
	return k;
}

static struct check_set *open_set(const struct conf *c)
{
	struct check_set *set;
	struct hp_err err;

	if (check_set_open(&test_loop, c, on_flip, &flips, &set, &err))
		fail_msg("check_set_open: %s", err.msg);
	check_set_start(set);
	return set;
}

static bool have_flips(void *arg)
{
	return n_flips >= *(int *)arg;
}

static void wait_flips(int n, uint64_t max_ms)
{
	int i;

	if (run_until(have_flips, &n, max_ms))
		return;
	for (i = 0; i < n_flips; i++)
		print_error("  flip %d: %s %s: %s\n", i, flips[i].name,
			    flips[i].healthy ? "healthy" : "failed",
			    flips[i].reason);
	fail_msg("expected %d flips within %llu ms, got %d", n,
		 (unsigned long long)max_ms, n_flips);
}

static void expect_flip(int i, const char *name, bool healthy,
			const char *reason)
{
	const struct flip *f = &flips[i];

	if (strcmp(f->name, name) || f->healthy != healthy ||
	    !strstr(f->reason, reason))
		fail_msg("flip %d: got %s %s \"%s\", expected %s %s with "
			 "\"%s\"", i, f->name,
			 f->healthy ? "healthy" : "failed", f->reason, name,
			 healthy ? "healthy" : "failed", reason);
}

/* The flip of check name, or NULL. */
static const struct flip *flip_of(const char *name)
{
	int i;

	for (i = 0; i < n_flips; i++)
		if (!strcmp(flips[i].name, name))
			return &flips[i];
	return NULL;
}

static int setup(void **state)
{
	memset(flips, 0, sizeof(flips));
	n_flips = 0;
	seq_path[0] = '\0';
	close_on_flip = false;
	memset(endless, 'x', sizeof(endless));
	assert_int_equal(uv_loop_init(&test_loop), 0);
	memset(&server, 0, sizeof(server));
	server_start();
	return 0;
}

static int teardown(void **state)
{
	server_stop();
	assert_int_equal(drain_loop(), 0);
	return 0;
}

static void test_empty_set(void **state)
{
	struct conf c = { 0 };
	struct check_set *set = open_set(&c);

	assert_true(check_set_healthy(set));
	assert_int_equal(check_set_count(set), 0);
	assert_false(check_set_get(set, 0, NULL, NULL, NULL));
	check_set_close(set);
}

static void test_bad_address(void **state)
{
	struct conf c = { 0 };
	struct check_set *set = (struct check_set *)&c; /* not NULL */
	struct hp_err err;

	snprintf(add_check(&c, "web", CHECK_TCP)->address, 64, "localhost");
	assert_int_equal(check_set_open(&test_loop, &c, on_flip, &flips, &set,
					&err), -1);
	assert_null(set);
	assert_string_equal(err.msg, "check web: address \"localhost\": "
				     "expected an IPv4 or IPv6 address");
}

static void test_tcp(void **state)
{
	struct conf c = { 0 };
	struct check_set *set;
	char want[80];
	const char *name, *reason;
	bool healthy;
	uint16_t refused = closed_port();

	add_check(&c, "up", CHECK_TCP)->rise = 2;
	add_check(&c, "down", CHECK_TCP)->port = refused;
	c.checks[1].fall = 2;
	set = open_set(&c);
	assert_true(check_set_get(set, 0, &name, &healthy, &reason));
	assert_string_equal(name, "up");
	assert_false(healthy);
	assert_string_equal(reason, "not run yet");
	assert_false(check_set_healthy(set));

	wait_flips(2, 5000);
	snprintf(want, sizeof(want), "connected to 127.0.0.1:%u",
		 (unsigned)server.port);
	assert_non_null(flip_of("up"));
	assert_true(flip_of("up")->healthy);
	assert_string_equal(flip_of("up")->reason, want);
	snprintf(want, sizeof(want), "connect 127.0.0.1:%u: Connection "
		 "refused", (unsigned)refused);
	assert_non_null(flip_of("down"));
	assert_false(flip_of("down")->healthy);
	assert_string_equal(flip_of("down")->reason, want);

	assert_int_equal(check_set_count(set), 2);
	assert_true(check_set_get(set, 1, &name, &healthy, &reason));
	assert_string_equal(name, "down");
	assert_false(healthy);
	assert_string_equal(reason, want);
	assert_false(check_set_get(set, 2, &name, &healthy, &reason));
	assert_false(check_set_healthy(set));
	check_set_close(set);
}

static void test_http_flips(void **state)
{
	struct conf c = { 0 };
	struct check_set *set;
	struct conf_check *k = add_check(&c, "api", CHECK_HTTP);
	char want[200];

	snprintf(k->path, sizeof(k->path), "/health?x=1");
	k->fall = 2;
	server.answer = ANSWER_200;
	set = open_set(&c);
	wait_flips(1, 5000);
	expect_flip(0, "api", true, "HTTP 200");
	assert_true(check_set_healthy(set));
	snprintf(want, sizeof(want), "GET /health?x=1 HTTP/1.0\r\n"
		 "Host: 127.0.0.1:%u\r\nConnection: close\r\n\r\n",
		 (unsigned)server.port);
	assert_string_equal(server.last_req, want);

	server.answer = ANSWER_503;
	wait_flips(2, 5000);
	expect_flip(1, "api", false, "HTTP 503, expected 200");
	assert_false(check_set_healthy(set));
	server.answer = ANSWER_200;
	wait_flips(3, 5000);
	expect_flip(2, "api", true, "HTTP 200");
	check_set_close(set);
}

static void test_http_expect_503(void **state)
{
	struct conf c = { 0 };
	struct check_set *set;

	add_check(&c, "down-page", CHECK_HTTP)->expect_status = 503;
	server.answer = ANSWER_503;
	set = open_set(&c);
	wait_flips(1, 5000);
	expect_flip(0, "down-page", true, "HTTP 503");
	check_set_close(set);
}

/* One http check against the server answering a; its first flip. */
static void expect_http_result(enum answer a, uint32_t timeout_ms,
			       bool healthy, const char *reason)
{
	struct conf c = { 0 };
	struct check_set *set;

	n_flips = 0;
	server.answer = a;
	add_check(&c, "h", CHECK_HTTP)->timeout_ms = timeout_ms;
	set = open_set(&c);
	wait_flips(1, 5000);
	expect_flip(0, "h", healthy, reason);
	check_set_close(set);
	run_for(10);
}

static void test_http_bad_answers(void **state)
{
	char want[100];
	uint64_t t0 = now_ms();

	expect_http_result(ANSWER_NONE, 100, false, "timeout after 100 ms");
	assert_true(now_ms() - t0 < 2500);
	snprintf(want, sizeof(want), "127.0.0.1:%u: expected an HTTP status "
		 "line, got \"SSH-2.0-x\"", (unsigned)server.port);
	expect_http_result(ANSWER_GARBAGE, 2000, false, want);
	snprintf(want, sizeof(want), "127.0.0.1:%u: no HTTP status line in "
		 "the first 4096 bytes", (unsigned)server.port);
	expect_http_result(ANSWER_ENDLESS, 2000, false, want);
	expect_http_result(ANSWER_BARE, 2000, true, "HTTP 200");
}

static void test_script_results(void **state)
{
	struct conf c = { 0 };
	struct check_set *set;
	int i;

	snprintf(add_check(&c, "t", CHECK_SCRIPT)->command, CONF_CMD_MAX,
		 "true");
	snprintf(add_check(&c, "f", CHECK_SCRIPT)->command, CONF_CMD_MAX,
		 "false");
	snprintf(add_check(&c, "why", CHECK_SCRIPT)->command, CONF_CMD_MAX,
		 "echo; echo 'disk\tfull'; echo more; exit 3");
	snprintf(add_check(&c, "err", CHECK_SCRIPT)->command, CONF_CMD_MAX,
		 "echo oops >&2; exit 2");
	snprintf(add_check(&c, "none", CHECK_SCRIPT)->command, CONF_CMD_MAX,
		 "/nonexistent/hapair-check");
	snprintf(add_check(&c, "sig", CHECK_SCRIPT)->command, CONF_CMD_MAX,
		 "kill -9 $$");
	/* One run each. */
	for (i = 0; i < c.n_checks; i++)
		c.checks[i].interval_ms = 2000;
	set = open_set(&c);
	wait_flips(6, 5000);
	assert_true(flip_of("t")->healthy);
	assert_string_equal(flip_of("t")->reason, "exit status 0");
	assert_false(flip_of("f")->healthy);
	assert_string_equal(flip_of("f")->reason, "exit status 1");
	assert_string_equal(flip_of("why")->reason, "exit status 3: disk full");
	assert_string_equal(flip_of("err")->reason, "exit status 2: oops");
	assert_non_null(strstr(flip_of("none")->reason, "exit status 127: "));
	assert_non_null(strstr(flip_of("none")->reason, "hapair-check"));
	assert_string_equal(flip_of("sig")->reason, "killed by signal 9");
	assert_false(check_set_healthy(set));
	check_set_close(set);
}

/* Dead or a zombie waiting for its parent (init) to reap it. */
static bool process_gone(void *arg)
{
	char path[64], stat[256], *paren;

	snprintf(path, sizeof(path), "/proc/%d/stat", *(int *)arg);
	if (read_text(path, stat, sizeof(stat)) < 0)
		return true;
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static void test_script_timeout_kills_group(void **state)
{
	struct conf c = { 0 };
	struct conf_check *k = add_check(&c, "slow", CHECK_SCRIPT);
	struct check_set *set;
	char dir[160], pidfile[200], text[32];
	uint64_t t0;
	int pid;

	make_tmp_dir(dir, sizeof(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	/* The shell waits for a child of its own: both must die. */
	snprintf(k->command, sizeof(k->command), "sleep 5 & echo $! > %s; "
		 "wait", pidfile);
	k->timeout_ms = 200;
	k->interval_ms = 5000;
	t0 = now_ms();
	set = open_set(&c);
	wait_flips(1, 5000);
	expect_flip(0, "slow", false, "timeout after 200 ms");
	assert_true(now_ms() - t0 < 2500);	/* not the 5 s sleep */
	assert_int_equal(read_text(pidfile, text, sizeof(text)), 0);
	pid = atoi(text);
	assert_true(pid > 0);
	if (!run_until(process_gone, &pid, 2000))
		fail_msg("sleep %d, started by the check, survived its kill",
			 pid);
	check_set_close(set);
	remove_tmp_dir(dir);
}

struct seq_flip {
	bool healthy;
	int runs;
};

static bool seq_used_up(void *arg)
{
	char text[64];

	return read_text(seq_path, text, sizeof(text)) == 0 &&
	       strlen(text) <= 1;
}

/* Each run takes the next letter of seq: P passes, F fails; the last
 * letter stays and repeats.  The flips must be want[], each after the
 * given number of runs, and no others. */
static void run_sequence(const char *seq, uint32_t rise, uint32_t fall,
			 const struct seq_flip *want, int n_want)
{
	struct conf c = { 0 };
	struct conf_check *k = add_check(&c, "seq", CHECK_SCRIPT);
	struct check_set *set;
	char dir[160];
	int i;

	n_flips = 0;
	make_tmp_dir(dir, sizeof(dir));
	snprintf(seq_path, sizeof(seq_path), "%s/seq", dir);
	write_text(seq_path, seq);
	seq_len = (int)strlen(seq);
	/* Rewritten by rename: a reader never sees it half-written. */
	snprintf(k->command, sizeof(k->command), "cd %s && s=$(cat seq); [ "
		 "${#s} -gt 1 ] && printf %%s \"${s#?}\" > seq.new && mv "
		 "seq.new seq; case \"$s\" in F*) exit 1;; esac", dir);
	/* The parser never allows this, but a run past its next start is
	 * what must not start a second run: were it started, runs would
	 * overlap and eat letters out of turn. */
	k->interval_ms = 1;
	k->timeout_ms = 2000;
	k->rise = rise;
	k->fall = fall;
	set = open_set(&c);
	if (!run_until(seq_used_up, NULL, 10000))
		fail_msg("sequence %s not used up in 10 s", seq);
	run_for(40);
	check_set_close(set);
	for (i = 0; i < n_flips; i++)
		print_message("  %s: flip %d: %s after %d runs (%s)\n", seq,
			      i, flips[i].healthy ? "healthy" : "failed",
			      flips[i].runs, flips[i].reason);
	assert_int_equal(n_flips, n_want);
	for (i = 0; i < n_want; i++) {
		assert_int_equal(flips[i].healthy, want[i].healthy);
		assert_int_equal(flips[i].runs, want[i].runs);
	}
	run_for(10);
	seq_path[0] = '\0';
	remove_tmp_dir(dir);
}

static void test_rise_fall(void **state)
{
	static const struct seq_flip a[] = {
		{ true, 2 }, { false, 7 }, { true, 9 },
	};
	static const struct seq_flip b[] = { { false, 2 }, { true, 4 } };
	static const struct seq_flip c[] = { { true, 6 } };
	static const struct seq_flip d[] = {
		{ true, 1 }, { false, 2 }, { true, 3 }, { false, 4 },
	};

	run_sequence("PPPFPFFPPPP", 2, 2, a, 3);
	/* The first state reached is reported, failed included. */
	run_sequence("FFPPPP", 2, 2, b, 2);
	/* Failures not in a row never reach fall = 2. */
	run_sequence("FPFPPPPP", 3, 2, c, 1);
	run_sequence("PFPFFF", 1, 1, d, 4);
}

static bool have_accepts(void *arg)
{
	return server.accepts >= *(int *)arg;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Each run ends at its deadline, the moment the next is due: the next
 * starts then, not an interval later, and never before it is due.  An
 * http check against a server that never answers makes such runs; the
 * server notes when each connects, in this process, so the times do not
 * depend on how fast the machine starts programs.  The median gap
 * between runs shrugs off a stall of a loaded machine. */
static void test_cadence(void **state)
{
	struct conf c = { 0 };
	struct conf_check *k = add_check(&c, "mute", CHECK_HTTP);
	struct check_set *set;
	uint64_t gap[ACCEPTS_KEPT];
	int i, want = 9;

	server.answer = ANSWER_NONE;
	k->interval_ms = 100;
	k->timeout_ms = 100;
	k->fall = 100;
	set = open_set(&c);
	if (!run_until(have_accepts, &want, 5000))
		fail_msg("%d runs in 5 s at a 100 ms interval", server.accepts);
	check_set_close(set);
	for (i = 1; i < want; i++)
		gap[i - 1] = server.accept_ms[i] - server.accept_ms[i - 1];
	qsort(gap, (size_t)(want - 1), sizeof(gap[0]), cmp_u64);
	print_message("  gaps between runs: %llu to %llu ms, median %llu\n",
		      (unsigned long long)gap[0],
		      (unsigned long long)gap[want - 2],
		      (unsigned long long)gap[(want - 1) / 2]);
	/* One run every other interval would make it 200 ms. */
	if (gap[(want - 1) / 2] < 95 || gap[(want - 1) / 2] > 150)
		fail_msg("runs began %llu ms apart (median); the interval "
			 "is 100 ms", (unsigned long long)gap[(want - 1) / 2]);
	assert_int_equal(n_flips, 0);
}

/* Closing with a script running kills it; the loop then empties. */
static void test_close_while_running(void **state)
{
	struct conf c = { 0 };
	struct conf_check *k = add_check(&c, "slow", CHECK_SCRIPT);
	struct check_set *set;
	uint64_t t0;

	snprintf(k->command, sizeof(k->command), "sleep 5");
	k->interval_ms = 5000;
	k->timeout_ms = 5000;
	set = open_set(&c);
	run_for(50);
	t0 = now_ms();
	check_set_close(set);
	server_stop();
	assert_int_equal(drain_loop(), 0);
	assert_true(now_ms() - t0 < 2500);
	assert_int_equal(n_flips, 0);
	/* teardown: a fresh loop, so its drain has nothing to do */
	assert_int_equal(uv_loop_init(&test_loop), 0);
	server_start();
}

/* The flip callback may close the set; nothing is called after. */
static void test_close_from_flip(void **state)
{
	struct conf c = { 0 };

	snprintf(add_check(&c, "a", CHECK_SCRIPT)->command, CONF_CMD_MAX,
		 "true");
	snprintf(add_check(&c, "b", CHECK_SCRIPT)->command, CONF_CMD_MAX,
		 "sleep 10");
	c.checks[1].timeout_ms = 20000;
	close_on_flip = true;
	open_set(&c);
	wait_flips(1, 5000);
	run_for(100);
	assert_int_equal(n_flips, 1);
	expect_flip(0, "a", true, "exit status 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_address, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_flips, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_expect_503, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_bad_answers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_script_results, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_script_timeout_kills_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rise_fall, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cadence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_while_running,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_from_flip, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
