/*
 * loop_test_evfile.c - the JSON-lines event file (src/evfile.c) on a
 * real libuv loop, in a temporary directory: lines appended in order
 * and byte for byte, a new file's mode, clear errors for bad paths,
 * logrotate's rename followed by evfile_reopen(), failed opens counted
 * and recovered from, the queue limit, and lines still written after
 * evfile_close().
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "evfile.h"
#include "loop_util.h"

static char dir[256];

static int file_setup(void **state)
{
	make_tmp_dir(dir, sizeof(dir));
	umask(022);
	return uv_loop_init(&test_loop);
}

static int file_teardown(void **state)
{
	/* File requests are not handles: run until none is left. */
	uv_run(&test_loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&test_loop), 0);
	remove_tmp_dir(dir);
	return 0;
}

static void file_emit(struct evfile *f, uint64_t id)
{
	struct event ev;
	char json[200];

	memset(&ev, 0, sizeof(ev));
	ev.id = id;
	snprintf(json, sizeof(json), "{\"id\":%llu,\"kind\":\"role\","
		 "\"message\":\"line \\\"%llu\\\"\"}", (unsigned long long)id,
		 (unsigned long long)id);
	evfile_sink(f, &ev, json);
}

static struct evfile_stats file_stats(struct evfile *f)
{
	struct evfile_stats st;

	evfile_stats(f, &st);
	return st;
}

static bool file_idle(void *arg)
{
	struct evfile_stats st = file_stats(arg);

	return st.queued == 0;
}

static void file_wait(struct evfile *f)
{
	if (!run_until(file_idle, f, 8000))
		fail_msg("event file: %u lines still queued after 8 s",
			 file_stats(f).queued);
}

/* The file holds exactly lines first..last, in order. */
static void expect_lines(const char *path, uint64_t first, uint64_t last)
{
	static char text[1 << 20];
	char want[200];
	const char *p = text;
	uint64_t id;

	assert_int_equal(read_text(path, text, sizeof(text)), 0);
	for (id = first; id <= last; id++) {
		snprintf(want, sizeof(want), "{\"id\":%llu,\"kind\":\"role\","
			 "\"message\":\"line \\\"%llu\\\"\"}\n",
			 (unsigned long long)id, (unsigned long long)id);
		if (strncmp(p, want, strlen(want)))
			fail_msg("%s: expected line %s at byte %zu, got %.80s",
				 path, want, (size_t)(p - text), p);
		p += strlen(want);
	}
	if (*p)
		fail_msg("%s: unexpected text after line %llu: %.80s", path,
			 (unsigned long long)last, p);
}

static struct evfile *open_file(const char *path)
{
	struct evfile *f;
	struct hp_err err;

	if (evfile_open(&test_loop, path, &f, &err))
		fail_msg("evfile_open: %s", err.msg);
	return f;
}

static void test_file_lines(void **state)
{
	char path[300];
	struct evfile *f;
	struct stat st;
	int i;

	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	/* Appends to what is there. */
	write_text(path, "{\"id\":0,\"kind\":\"role\",\"message\":"
		   "\"line \\\"0\\\"\"}\n");
	f = open_file(path);
	for (i = 1; i <= 200; i++)
		file_emit(f, (uint64_t)i);
	file_wait(f);
	assert_int_equal(file_stats(f).written, 200);
	assert_int_equal(file_stats(f).failed, 0);
	expect_lines(path, 0, 200);
	evfile_close(f);

	/* A new file gets mode 0640. */
	snprintf(path, sizeof(path), "%s/new.jsonl", dir);
	f = open_file(path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	file_emit(f, 1);
	evfile_close(f);	/* the queued line is still written */
	uv_run(&test_loop, UV_RUN_DEFAULT);
	expect_lines(path, 1, 1);
}

static void expect_open_error(const char *path, const char *want)
{
	struct evfile *f = (struct evfile *)1;
	struct hp_err err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(evfile_open(&test_loop, path, &f, &err), -1);
	assert_null(f);
	if (!strstr(err.msg, want))
		fail_msg("got \"%s\", expected it to contain \"%s\"", err.msg,
			 want);
}

static void test_file_bad_path(void **state)
{
	char path[300], want[400];

	snprintf(path, sizeof(path), "%s/no-such-dir/events.jsonl", dir);
	snprintf(want, sizeof(want), "events file %s: cannot open: No such "
		 "file or directory", path);
	expect_open_error(path, want);
	snprintf(want, sizeof(want), "events file %s: cannot open: Is a "
		 "directory", dir);
	expect_open_error(dir, want);
	expect_open_error("events.jsonl", "events file events.jsonl: "
			  "expected an absolute path");
	expect_open_error("/dev/null", "events file /dev/null: expected a "
			  "regular file");
}

static void test_file_reopen(void **state)
{
	char path[300], old[310];
	struct evfile *f;

	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	f = open_file(path);
	file_emit(f, 1);
	file_emit(f, 2);
	file_wait(f);
	/* logrotate renames; until told, lines go to the renamed file. */
	assert_int_equal(rename(path, old), 0);
	file_emit(f, 3);
	file_wait(f);
	evfile_reopen(f);
	file_emit(f, 4);
	file_emit(f, 5);
	file_wait(f);
	expect_lines(old, 1, 3);
	expect_lines(path, 4, 5);
	assert_int_equal(file_stats(f).written, 5);
	evfile_close(f);
}

/* A failed open or write is counted and logged; the next line
 * retries, and writing resumes once the path works again. */
static void test_file_failures(void **state)
{
	char path[300], old[310];
	struct evfile *f;

	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	f = open_file(path);
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	evfile_reopen(f);
	file_emit(f, 1);
	file_emit(f, 2);
	file_wait(f);
	assert_int_equal(file_stats(f).failed, 2);
	assert_int_equal(file_stats(f).written, 0);
	assert_int_equal(rmdir(path), 0);
	file_emit(f, 3);
	file_wait(f);
	assert_int_equal(file_stats(f).written, 1);
	expect_lines(path, 3, 3);
	expect_lines(old, 1, 0);
	evfile_close(f);
}

static void test_file_queue_limit(void **state)
{
	char path[300];
	struct evfile *f;
	int i, n = EVFILE_QUEUE_MAX + 10;

	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	f = open_file(path);
	/* No loop turn in between: the first write is in flight, the
	 * queue fills, the last 10 are refused. */
	for (i = 1; i <= n; i++)
		file_emit(f, (uint64_t)i);
	assert_int_equal(file_stats(f).queued, EVFILE_QUEUE_MAX);
	assert_int_equal(file_stats(f).dropped, 10);
	file_wait(f);
	assert_int_equal(file_stats(f).written, EVFILE_QUEUE_MAX);
	expect_lines(path, 1, EVFILE_QUEUE_MAX);
	evfile_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define FILE_TEST(t) \
	cmocka_unit_test_setup_teardown(t, file_setup, file_teardown)
		FILE_TEST(test_file_lines),
		FILE_TEST(test_file_bad_path),
		FILE_TEST(test_file_reopen),
		FILE_TEST(test_file_failures),
		FILE_TEST(test_file_queue_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
