/*
 * syslog_out.c - events to syslog(3) ([events] syslog = yes).  Apart
 * from log.c because <syslog.h> defines LOG_ERR, LOG_INFO and LOG_DEBUG
 * as macros, which log.h names as an enum.
 */
#include <syslog.h>

#include "events.h"
#include "syslog_out.h"

void syslog_out_open(void)
{
	openlog("hapair", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void syslog_out_close(void)
{
	closelog();
}

void syslog_out(enum event_severity sev, const char *line)
{
	int prio = sev == SEV_CRITICAL ? LOG_CRIT :
		   sev == SEV_WARNING ? LOG_WARNING : LOG_NOTICE;

	syslog(prio, "%s", line);
}
