/*
 * log.h - log lines to stderr (journald captures it under systemd).
 *
 * One line per event: "2026-11-24T03:04:05.123Z hapair[a] INFO ...".
 * log_ratelimited() lets one line per key through per interval and says
 * how many were suppressed, for things a peer can trigger at will
 * (dropped datagrams).
 */
#ifndef HAPAIR_LOG_H
#define HAPAIR_LOG_H

#include <stdint.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Name shown in every line, e.g. "a" or "witness". */
void log_init(const char *ident, enum log_level max_level);

void hp_log(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Rate-limited line: per key slot (0..LOG_RL_SLOTS-1), at most one line
 * per interval_ms; the next line says how many were suppressed. */
enum { LOG_RL_SLOTS = 32 };
void log_ratelimited(unsigned slot, uint64_t now_ms, uint64_t interval_ms,
		     enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
