/*
 * conf_value.c - what a value in the config file may look like: names,
 * interface names, integers, durations, percentages, sizes, paths,
 * addresses, commands and ports.  The parsers check syntax and range;
 * the setters store a value and answer what they expected if it is not
 * one.  What a key means is left to its section (conf_cluster.c,
 * conf_res.c).  PURE: libc only.
 */
#define _POSIX_C_SOURCE 200809L

#include "conf_int.h"

#include <arpa/inet.h>
#include <string.h>

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Node, resource and cluster names: [a-zA-Z0-9_-]{1,63}. */
bool conf_valid_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char ch = s[i];

		if (i >= CONF_NAME_MAX - 1)
			return false;
		if (!(is_digit(ch) || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '-'))
			return false;
	}
	return i > 0;
}

/* Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or
 * whitespace. */
bool conf_valid_ifname(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '/' || ch == ':' || ch <= 0x20 || ch >= 0x7f)
			return false;
	}
	return true;
}

/* The decimal number at the start of s into *out: how many digits it
 * has, or 0 if s does not start with a digit or the number is above
 * max (checked before it could wrap). */
static size_t lead_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t i;

	for (i = 0; is_digit(s[i]); i++) {
		d = (uint64_t)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return i;
}

/* Strict decimal: digits only, no sign, at most max. */
int conf_parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	size_t i = lead_uint(s, max, &v);

	if (!i || s[i])
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int conf_parse_duration_ms(const char *s, uint32_t *out_ms)
{
	uint64_t v, mult;
	size_t i;

	if (!s || !(i = lead_uint(s, UINT32_MAX, &v)))
		return -1;
	if (!strcmp(s + i, "ms"))
		mult = 1;
	else if (!strcmp(s + i, "s"))
		mult = 1000;
	else if (!strcmp(s + i, "m"))
		mult = 60000;
	else
		return -1;
	if (v * mult > UINT32_MAX)
		return -1;
	*out_ms = (uint32_t)(v * mult);
	return 0;
}

/* "1%" = 10000 ppm; up to four decimals ("0.0001%" = 1 ppm). */
int conf_parse_percent_ppm(const char *s, uint32_t *out_ppm)
{
	uint64_t whole, frac = 0;
	int nfrac = 0;
	size_t i;

	if (!s || !(i = lead_uint(s, UINT32_MAX / 10000, &whole)))
		return -1;
	if (s[i] == '.') {
		if (!is_digit(s[++i]))
			return -1;
		for (; is_digit(s[i]); i++) {
			if (++nfrac > 4)
				return -1;
			frac = frac * 10 + (uint64_t)(s[i] - '0');
		}
	}
	if (strcmp(s + i, "%"))
		return -1;
	for (; nfrac < 4; nfrac++)
		frac *= 10;
	if (whole * 10000 + frac > UINT32_MAX)
		return -1;
	*out_ppm = (uint32_t)(whole * 10000 + frac);
	return 0;
}

/* "1MB" = 1048576: a whole number and B, kB, KB, MB or GB (powers of
 * 1024, as Redis counts); "0" alone is accepted too. */
int conf_parse_size(const char *s, uint64_t *out_bytes)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "B", 1 }, { "kB", 1024 }, { "KB", 1024 },
		{ "MB", 1024 * 1024 }, { "GB", 1024 * 1024 * 1024 },
	};
	uint64_t v;
	size_t i, u;

	if (!s || !(i = lead_uint(s, UINT64_MAX, &v)))
		return -1;
	if (!strcmp(s, "0")) {
		*out_bytes = 0;
		return 0;
	}
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strcmp(s + i, units[u].unit))
			continue;
		if (v > UINT64_MAX / units[u].mult)
			return -1;
		*out_bytes = v * units[u].mult;
		return 0;
	}
	return -1;
}

bool conf_set_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

const char *conf_set_path(char dst[CONF_PATH_MAX], const char *v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			break;
	if (v[0] != '/' || v[i] || !conf_set_str(dst, CONF_PATH_MAX, v))
		return "an absolute path shorter than 256 bytes";
	return NULL;
}

/* An IPv4 or IPv6 literal that fits in cap bytes, copied to dst. */
const char *conf_set_ip(char *dst, size_t cap, const char *v)
{
	uint8_t addr[16];

	if (strlen(v) >= cap || (inet_pton(AF_INET, v, addr) != 1 &&
				 inet_pton(AF_INET6, v, addr) != 1))
		return "an IPv4 or IPv6 address, such as 127.0.0.1";
	conf_set_str(dst, cap, v);
	return NULL;
}

/* 1 to cap-1 bytes of printable ASCII; spaces only if allowed. */
bool conf_set_printable(char *dst, size_t cap, const char *v,
			bool spaces)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (v[i] < (spaces ? ' ' : '!') || v[i] > '~')
			return false;
	return i > 0 && conf_set_str(dst, cap, v);
}

/* A command for /bin/sh -c: 1 to CONF_CMD_MAX-1 bytes, tabs allowed but
 * no other control bytes (a newline could not be written anyway). */
const char *conf_set_command(char dst[CONF_CMD_MAX], const char *v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    v[i] == 0x7f)
			break;
	if (!v[0] || v[i] || !conf_set_str(dst, CONF_CMD_MAX, v))
		return "a command of 1 to 511 bytes";
	return NULL;
}

/* A duration of at least 1ms, for timers that must not spin. */
const char *conf_set_duration(uint32_t *dst, const char *v,
			      const char *want)
{
	uint32_t ms;

	if (conf_parse_duration_ms(v, &ms) || ms == 0)
		return want;
	*dst = ms;
	return NULL;
}

const char *conf_set_port(uint16_t *port, const char *v)
{
	uint32_t n;

	if (conf_parse_uint(v, 65535, &n) || n == 0)
		return "a port number from 1 to 65535";
	*port = (uint16_t)n;
	return NULL;
}
