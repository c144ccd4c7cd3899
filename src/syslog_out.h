/*
 * syslog_out.h - one event line to syslog(3), facility daemon.
 */
#ifndef HAPAIR_SYSLOG_OUT_H
#define HAPAIR_SYSLOG_OUT_H

#include "events.h"

void syslog_out_open(void);
void syslog_out_close(void);
void syslog_out(enum event_severity sev, const char *line);

#endif
