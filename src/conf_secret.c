/*
 * conf_secret.c - the secrets a config names but does not hold: the
 * cluster key (key_file, conf_load_key), the Redis password
 * (password_file, conf_load_redis_password) and the alert bearer tokens
 * (conf_alert.c, through conf_read_secret_line).  Each is a small file that
 * group and others may neither read nor change; buffers that held a
 * secret are wiped.  PURE: libc and libsodium only.
 */
#define _POSIX_C_SOURCE 200809L

#include "conf_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

enum {
	KEY_HEX_LEN = 64,
};

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

/* Read a small secret file (fd open on path) into buf: a regular file
 * that group and others can neither read nor change, at most cap bytes
 * read (*len == cap means the file is longer).  what ("key file") and
 * secret ("cluster key") name them in messages. */
static int read_secret(int fd, const char *path, const char *what,
		       const char *secret, char *buf, size_t cap, size_t *len,
		       struct hp_err *err)
{
	struct stat st;
	ssize_t n;

	*len = 0;
	if (fstat(fd, &st) < 0)
		return hp_errf(err, "%s %s: cannot stat: %s", what, path,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return hp_errf(err, "%s %s: expected a regular file", what,
			       path);
	if (st.st_mode & 077)
		return hp_errf(err, "%s %s: mode %04o lets others %s the %s; "
			       "chmod 600 it", what, path,
			       (unsigned)(st.st_mode & 07777),
			       st.st_mode & 044 ? "read" : "change", secret);
	while (*len < cap && (n = read(fd, buf + *len, cap - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hp_errf(err, "%s %s: cannot read: %s", what,
				       path, strerror(errno));
		*len += (size_t)n;
	}
	return 0;
}

/* One trailing "\n" (or "\r\n") is not part of a secret. */
static size_t strip_newline(const char *buf, size_t len)
{
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	return len;
}

/* Body of conf_load_key once the file is open: check mode, read, decode. */
static int read_key(int fd, const char *path, uint8_t key[32],
		    struct hp_err *err)
{
	char buf[KEY_HEX_LEN + 4];
	size_t len, hex_len, i;
	int rc = -1;

	if (read_secret(fd, path, "key file", "cluster key", buf, sizeof(buf),
			&len, err))
		goto out;
	hex_len = strip_newline(buf, len);
	if (hex_len != KEY_HEX_LEN) {
		hp_errf(err, "key file %s: expected 64 hex digits (as written "
			"by hapair keygen), got %s%zu bytes", path,
			len == sizeof(buf) ? "more than " : "",
			len == sizeof(buf) ? len - 1 : hex_len);
		goto out;
	}
	for (i = 0; i < hex_len && is_hex(buf[i]); i++)
		;
	if (i < hex_len || sodium_hex2bin(key, 32, buf, hex_len, NULL, &len,
					  NULL) || len != 32) {
		hp_errf(err, "key file %s: expected 64 hex digits, got a "
			"non-hex character at byte %zu", path, i + 1);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	if (rc)
		sodium_memzero(key, 32);
	return rc;
}

int conf_load_key(const struct conf *conf, uint8_t key[32],
		  struct hp_err *err)
{
	const char *path = conf->key_file;
	int fd, rc;

	if (!path[0])
		return hp_errf(err, "key file: not set; expected key_file in "
			       "[cluster]");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_errf(err, "key file %s: cannot open: %s", path,
			       strerror(errno));
	rc = read_key(fd, path, key, err);
	close(fd);
	return rc;
}

/* Body of conf_read_secret_line once the file is open. */
static int read_line(int fd, const char *path, const char *what,
		     const char *secret, const char *noun, char *dst,
		     size_t cap, struct hp_err *err)
{
	char buf[CONF_TOKEN_MAX + 2];
	size_t len, i;
	int rc = -1;

	/* Room for the secret and "\r\n": a full buffer is too long. */
	assert(cap + 2 <= sizeof(buf));
	if (read_secret(fd, path, what, secret, buf, cap + 2, &len, err))
		goto out;
	if (len == cap + 2) {
		hp_errf(err, "%s %s: expected a %s of at most %zu bytes, got "
			"more", what, path, noun, cap - 1);
		goto out;
	}
	len = strip_newline(buf, len);
	for (i = 0; i < len && buf[i] && buf[i] != '\n' && buf[i] != '\r'; i++)
		;
	if (len == 0 || i < len || len >= cap) {
		hp_errf(err, "%s %s: expected a %s of 1 to %zu bytes on one "
			"line, got %s", what, path, noun, cap - 1,
			len == 0 ? "an empty file" :
			i < len ? "a NUL or line break inside" : "more");
		goto out;
	}
	memcpy(dst, buf, len);
	dst[len] = '\0';
	rc = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int conf_read_secret_line(const char *path, const char *what,
			  const char *secret, const char *noun, char *dst,
			  size_t cap, struct hp_err *err)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_errf(err, "%s %s: cannot open: %s", what, path,
			       strerror(errno));
	rc = read_line(fd, path, what, secret, noun, dst, cap, err);
	close(fd);
	return rc;
}

int conf_load_api_token(struct conf *conf, struct hp_err *err)
{
	struct conf_api *a = &conf->api;

	if (!a->token_file[0])
		return 0;
	if (conf_read_secret_line(a->token_file, "api token file",
				  "API token", "token", a->token,
				  sizeof(a->token), err))
		return -1;
	if (strlen(a->token) < 16) {
		sodium_memzero(a->token, sizeof(a->token));
		return hp_errf(err, "api token file %s: expected a token of "
			       "at least 16 bytes (e.g. `hapair keygen`), got "
			       "a shorter one", a->token_file);
	}
	return 0;
}

int conf_load_redis_password(struct conf_redis *r, struct hp_err *err)
{
	if (!r->password_file[0])
		return 0;
	return conf_read_secret_line(r->password_file, "redis password file",
				     "Redis password", "password", r->password,
				     sizeof(r->password), err);
}

int conf_load_secrets(struct conf *conf, struct hp_err *err)
{
	for (int i = 0; i < conf->n_resources; i++) {
		struct conf_resource *r = &conf->resources[i];
		int rc = 0;

		if (r->type == RES_REDIS)
			rc = conf_load_redis_password(&r->redis, err);
		else if (r->type == RES_POSTGRESQL)
			rc = conf_load_pg_passwords(&r->pg, err);
		else if (r->type == RES_MARIADB)
			rc = conf_load_mdb_passwords(&r->mdb, err);
		if (rc)
			return -1;
	}
	if (conf_load_alert_tokens(conf, err))
		return -1;
	return conf_load_api_token(conf, err);
}
