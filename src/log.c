/*
 * log.c - timestamped log lines on stderr (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static char log_ident[64] = "hapair";
static enum log_level log_max = LOG_INFO;
static struct {
	uint64_t last_ms;
	unsigned suppressed;
} rl[LOG_RL_SLOTS];

static const char *const level_names[] = { "ERROR", "WARN", "INFO",
					   "DEBUG" };

void log_init(const char *ident, enum log_level max_level)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_max = max_level;
}

static void vlog(enum log_level level, const char *suffix, const char *fmt,
		 va_list ap)
{
	char line[1024], ts[32];
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ hapair[%s] %s ", ts,
		     (long)(tv.tv_usec / 1000), log_ident, level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s%s\n", line, suffix);
}

void hp_log(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
	va_end(ap);
}

void log_ratelimited(unsigned slot, uint64_t now_ms, uint64_t interval_ms,
		     enum log_level level, const char *fmt, ...)
{
	char suffix[64] = "";
	va_list ap;

	if (level > log_max || slot >= LOG_RL_SLOTS)
		return;
	if (rl[slot].last_ms && now_ms < rl[slot].last_ms + interval_ms) {
		rl[slot].suppressed++;
		return;
	}
	if (rl[slot].suppressed)
		snprintf(suffix, sizeof(suffix), " (%u similar suppressed)",
			 rl[slot].suppressed);
	rl[slot].last_ms = now_ms;
	rl[slot].suppressed = 0;
	va_start(ap, fmt);
	vlog(level, suffix, fmt, ap);
	va_end(ap);
}
