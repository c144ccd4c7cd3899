/*
 * statefile.c - durable term/vote record (see statefile.h).
 *
 * Format, one "key value" per line, every key required exactly once:
 *   # hapair voter state; written by hapair, do not edit
 *   term 12
 *   voted_for 2
 *   synced 6
 *   epoch 41
 */
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { STATE_MAX_BYTES = 4096 };

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_line(char *line, struct statefile *out, unsigned *seen)
{
	/* The first four are required; paused and pause_gen came later
	 * and default to 0 (not paused). */
	static const char *const keys[] = { "term", "voted_for", "synced",
					    "epoch", "paused", "pause_gen" };
	static const uint64_t max[] = { UINT64_MAX, 3, 0xff, UINT32_MAX, 1,
					UINT64_MAX };
	char *sp = strchr(line, ' ');
	uint64_t v;

	if (!sp)
		return -1;
	*sp = '\0';
	for (unsigned i = 0; i < 6; i++) {
		if (strcmp(line, keys[i]))
			continue;
		if ((*seen & (1u << i)) || parse_u64(sp + 1, max[i], &v))
			return -1;
		*seen |= 1u << i;
		if (i == 0)
			out->term = v;
		else if (i == 1)
			out->voted_for = (uint8_t)v;
		else if (i == 2)
			out->synced = (uint8_t)v;
		else if (i == 3)
			out->epoch = v;
		else if (i == 4)
			out->paused = v;
		else
			out->pause_gen = v;
		return 0;
	}
	return -1;
}

int statefile_load(const char *path, struct statefile *out,
		   struct hp_err *err)
{
	char buf[STATE_MAX_BYTES + 1], *line, *save = NULL;
	unsigned seen = 0, lineno = 0;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return hp_errf(err, "state file %s: cannot open: %s", path,
			       strerror(errno));
	}
	n = read(fd, buf, STATE_MAX_BYTES);
	close(fd);
	if (n < 0)
		return hp_errf(err, "state file %s: read: %s", path,
			       strerror(errno));
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (line[0] == '#')
			continue;
		if (parse_line(line, out, &seen))
			return hp_errf(err, "state file %s:%u: expected "
				       "'term|voted_for|synced|epoch|paused|"
				       "pause_gen NUMBER' "
				       "once each, got \"%.40s\"; the file is "
				       "damaged: restore it or remove it only "
				       "if no other node can be primary",
				       path, lineno, line);
	}
	if ((seen & 0xf) != 0xf)
		return hp_errf(err, "state file %s: incomplete (missing "
			       "keys); the file is damaged", path);
	return 0;
}

static int fsync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int statefile_save(const char *path, const struct statefile *sf,
		   struct hp_err *err)
{
	char tmp[PATH_MAX], buf[256];
	int fd, len, rc = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	len = snprintf(buf, sizeof(buf),
		       "# hapair voter state; written by hapair, do not edit\n"
		       "term %" PRIu64 "\nvoted_for %u\nsynced %u\n"
		       "epoch %" PRIu64 "\npaused %u\npause_gen %" PRIu64 "\n",
		       sf->term, sf->voted_for, sf->synced, sf->epoch,
		       sf->paused ? 1u : 0u, sf->pause_gen);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return hp_errf(err, "state file %s: create: %s", tmp,
			       strerror(errno));
	if (write(fd, buf, (size_t)len) != len) {
		hp_errf(err, "state file %s: write: %s", tmp,
			strerror(errno));
		goto out;
	}
	if (fsync(fd)) {
		hp_errf(err, "state file %s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path)) {
		hp_errf(err, "state file %s: rename: %s", path,
			strerror(errno));
		goto out;
	}
	if (fsync_dir(path)) {
		hp_errf(err, "state file %s: fsync directory: %s", path,
			strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	if (rc)
		unlink(tmp);
	return rc;
}

int statefile_marker(const char *path, bool present, struct hp_err *err)
{
	int fd;

	if (!present) {
		if (unlink(path) && errno != ENOENT)
			return hp_errf(err, "marker %s: remove: %s", path,
				       strerror(errno));
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return hp_errf(err, "marker %s: create: %s", path,
				       strerror(errno));
		if (fsync(fd)) {
			hp_errf(err, "marker %s: fsync: %s", path,
				strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	if (fsync_dir(path))
		return hp_errf(err, "marker %s: fsync directory: %s", path,
			       strerror(errno));
	return 0;
}

int statefile_mkdir(const char *dir, struct hp_err *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return hp_errf(err, "mkdir %s: %s", path,
				       strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return hp_errf(err, "mkdir %s: %s", path, strerror(errno));
	return 0;
}
