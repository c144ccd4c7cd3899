/*
 * event_names.c - names of event kinds, severities and failover phases
 * (events.h).  PURE: the config parser validates alert filters with
 * them.
 */
#include <string.h>

#include "events.h"

static const char *const kind_names[EVK_MAX] = {
	[EVK_ROLE] = "role",		[EVK_ELECTION] = "election",
	[EVK_FAILOVER] = "failover",	[EVK_SWITCHOVER] = "switchover",
	[EVK_CHECK] = "check",		[EVK_FENCE] = "fence",
	[EVK_RESOURCE] = "resource",	[EVK_SYNC] = "sync",
	[EVK_PEER] = "peer",		[EVK_PAUSE] = "pause",
	[EVK_CONFIG] = "config",	[EVK_AGENT] = "agent",
};

static const char *const severity_names[SEV_MAX] = {
	[SEV_INFO] = "info",
	[SEV_WARNING] = "warning",
	[SEV_CRITICAL] = "critical",
};

static const char *const phase_names[PHASE_MAX] = {
	[PHASE_DETECT] = "detect",	[PHASE_FENCE] = "fence",
	[PHASE_ELECT] = "elect",	[PHASE_PROMOTE] = "promote",
	[PHASE_VIP] = "vip",		[PHASE_FIRST_WRITE] = "first_write",
};

static int parse(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *events_kind_name(enum event_kind k)
{
	return (unsigned)k < EVK_MAX ? kind_names[k] : "unknown";
}

const char *events_severity_name(enum event_severity s)
{
	return (unsigned)s < SEV_MAX ? severity_names[s] : "unknown";
}

const char *events_phase_name(enum event_phase p)
{
	return (unsigned)p < PHASE_MAX ? phase_names[p] : "unknown";
}

int events_kind_parse(const char *name)
{
	return parse(kind_names, EVK_MAX, name);
}

int events_severity_parse(const char *name)
{
	return parse(severity_names, SEV_MAX, name);
}
