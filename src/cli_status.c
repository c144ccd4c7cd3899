/*
 * cli_status.c - `hapair status`: ask the local agent (or witness) over
 * its control socket and print a table a person reads at a glance, or
 * the JSON document as is with --json.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "ctl.h"

enum { STATUS_TIMEOUT_MS = 2000 };

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(j) ? j->valuestring : "-";
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

static int flag(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void print_ago(double ms)
{
	if (ms < 10000)
		printf("%.0f ms ago", ms);
	else
		printf("%.1f s ago", ms / 1000);
}

static void print_node_line(const char *label, const cJSON *n)
{
	const cJSON *heard;

	if (!n)
		return;
	heard = cJSON_GetObjectItemCaseSensitive(n, "last_heard_ms_ago");
	printf("%-9s %s (%s): ", label, str(n, "name"), str(n, "address"));
	if (cJSON_GetObjectItemCaseSensitive(n, "role"))
		printf("%s, ", str(n, "role"));
	printf("%s", flag(n, "reachable") ? "reachable" : "UNREACHABLE");
	if (cJSON_IsNumber(heard)) {
		printf(", heard ");
		print_ago(heard->valuedouble);
	} else {
		printf(", never heard");
	}
	printf("\n");
}

/* "data      sync, position 1234, standby at 1234 (lag 0), in sync" */
static void print_replication(const cJSON *r)
{
	const cJSON *pos, *other, *lag;
	int primary;

	if (!cJSON_IsObject(r))
		return;
	pos = cJSON_GetObjectItemCaseSensitive(r, "position");
	other = cJSON_GetObjectItemCaseSensitive(r, "standby_position");
	primary = other != NULL;
	if (!other)
		other = cJSON_GetObjectItemCaseSensitive(r,
							 "primary_position");
	lag = cJSON_GetObjectItemCaseSensitive(r, "lag");
	printf("data      %s replication, position ", str(r, "mode"));
	if (cJSON_IsNumber(pos))
		printf("%.0f", pos->valuedouble);
	else
		printf("unknown");
	if (cJSON_IsNumber(other))
		printf(", %s at %.0f", primary ? "standby" : "primary",
		       other->valuedouble);
	if (cJSON_IsNumber(lag))
		printf(" (lag %.0f)", lag->valuedouble);
	lag = cJSON_GetObjectItemCaseSensitive(r, "lag_ms");
	if (cJSON_IsNumber(lag))
		printf(" (%.0f ms behind)", lag->valuedouble);
	else if (cJSON_IsNull(lag))
		printf(" (time behind unknown)");
	if (primary)
		printf(", standby %s%s\n", flag(r, "standby_in_sync") ?
		       "in sync" : "NOT in sync", flag(r, "sync_required") ?
		       ", writes need it" : "");
	else
		printf(", %s\n", flag(r, "in_sync") ? "link up" :
		       "link DOWN");
}

/* MariaDB: "replica   io yes, sql yes, 0 s behind, gtid 0-1-1234", or
 * on a primary "gtid      0-1-1234". */
static void print_replica(const cJSON *r)
{
	const cJSON *io, *sql, *behind, *gtid, *err;

	if (!cJSON_IsObject(r))
		return;
	io = cJSON_GetObjectItemCaseSensitive(r, "io_running");
	sql = cJSON_GetObjectItemCaseSensitive(r, "sql_running");
	behind = cJSON_GetObjectItemCaseSensitive(r, "seconds_behind");
	gtid = cJSON_GetObjectItemCaseSensitive(r, "gtid");
	err = cJSON_GetObjectItemCaseSensitive(r, "replication_error");
	if (!io) {
		if (cJSON_IsString(gtid))
			printf("gtid      %s\n", gtid->valuestring);
		return;
	}
	printf("replica   io %s, sql %s, ", cJSON_IsTrue(io) ? "yes" : "NO",
	       cJSON_IsTrue(sql) ? "yes" : "NO");
	if (cJSON_IsNumber(behind))
		printf("%.0f s behind, ", behind->valuedouble);
	else
		printf("behind unknown, ");
	printf("gtid %s", cJSON_IsString(gtid) ? gtid->valuestring : "none");
	if (cJSON_IsString(err))
		printf(", error: %s", err->valuestring);
	printf("\n");
}

static void print_table(const cJSON *s)
{
	const cJSON *lc = cJSON_GetObjectItemCaseSensitive(s, "last_change");
	const cJSON *sw;
	const char *role = str(s, "role");

	printf("cluster   %s, term %.0f, quorum %s\n", str(s, "cluster"),
	       num(s, "term"), str(s, "quorum"));
	printf("node      %s: %s", str(s, "node"), role);
	if (!strcmp(role, "primary"))
		printf(", lease %.0f ms left", num(s, "lease_left_ms"));
	else if (strcmp(role, "witness") && num(s, "promise_left_ms") > 0)
		printf(", following (promise %.0f ms left)",
		       num(s, "promise_left_ms"));
	printf(", %s%s\n", flag(s, "healthy") ? "healthy" : "CHECKS FAIL",
	       flag(s, "paused") ? ", PAUSED" : "");
	printf("primary   %s\n", str(s, "primary"));
	print_node_line("peer", cJSON_GetObjectItemCaseSensitive(s, "peer"));
	print_node_line("witness",
			cJSON_GetObjectItemCaseSensitive(s, "witness"));
	print_node_line("node 1", cJSON_GetObjectItemCaseSensitive(s, "node_1"));
	print_node_line("node 2", cJSON_GetObjectItemCaseSensitive(s, "node_2"));
	if (cJSON_GetObjectItemCaseSensitive(s, "failover_possible")) {
		if (flag(s, "failover_possible"))
			printf("failover  possible\n");
		else
			printf("failover  NOT possible: %s\n",
			       str(s, "failover_blocked_by"));
	}
	print_replication(cJSON_GetObjectItemCaseSensitive(s, "replication"));
	print_replica(cJSON_GetObjectItemCaseSensitive(s, "replication"));
	sw = cJSON_GetObjectItemCaseSensitive(s, "switchover");
	if (sw && strcmp(str(sw, "state"), "idle"))
		printf("switch    %s\n", str(sw, "state"));
	else if (sw && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
			       sw, "last_result")))
		printf("switch    last: %s\n", str(sw, "last_result"));
	if (lc) {
		printf("changed   ");
		print_ago(num(lc, "ago_ms"));
		printf(" (%s)\n", str(lc, "why"));
	}
}

/* The socket to ask: the named node's, the witness's, or - with neither
 * given - the one node socket that exists on this host. */
int cli_pick_socket(const struct conf *c, const char *node, int witness,
		    char *path, size_t cap, const char *cmd)
{
	int found = 0;

	if (witness || node) {
		snprintf(path, cap, "%s/%s.sock", c->run_dir,
			 witness ? "witness" : node);
		return 0;
	}
	for (int i = 0; i < CONF_NODES; i++) {
		char p[CONF_PATH_MAX + 80];

		snprintf(p, sizeof(p), "%s/%s.sock", c->run_dir,
			 c->nodes[i].name);
		if (access(p, F_OK) == 0) {
			snprintf(path, cap, "%s", p);
			found++;
		}
	}
	if (found == 1)
		return 0;
	fprintf(stderr, "hapair %s: %s; say which with --node NAME%s\n", cmd,
		found ? "both nodes run on this host" :
		"no agent socket found in the run_dir",
		strcmp(cmd, "status") ? "" : " (or --witness)");
	return -1;
}

int status_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "witness", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = "/etc/hapair/hapair.conf", *node = NULL;
	int json = 0, witness = 0, c, rc = 1;
	char path[CONF_PATH_MAX + 80], *reply = NULL;
	struct conf *conf = calloc(1, sizeof(*conf));
	struct conf_errors errs;
	struct hp_err err;
	cJSON *doc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:n:wj", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'n': node = optarg; break;
		case 'w': witness = 1; break;
		case 'j': json = 1; break;
		default:
			fprintf(stderr, "usage: hapair status [-c CONFIG] "
				"[--node NAME | --witness] [--json]\n");
			goto out;
		}
	}
	if (!conf)
		goto out;
	if (conf_load(conf_path, conf, &errs)) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		goto out;
	}
	if (node && !conf_node_by_name(conf, node)) {
		fprintf(stderr, "hapair status: no [node %s] in %s\n", node,
			conf_path);
		goto out;
	}
	if (cli_pick_socket(conf, node, witness, path, sizeof(path),
			    "status"))
		goto out;
	if (ctl_request(path, "status", STATUS_TIMEOUT_MS, &reply, &err)) {
		fprintf(stderr, "hapair status: %s\n", err.msg);
		goto out;
	}
	if (json) {
		fputs(reply, stdout);
		rc = 0;
		goto out;
	}
	doc = cJSON_Parse(reply);
	if (!doc) {
		fprintf(stderr, "hapair status: the agent answered something "
			"that is not JSON: %.80s\n", reply);
		goto out;
	}
	print_table(doc);
	cJSON_Delete(doc);
	rc = 0;
out:
	free(reply);
	free(conf);
	return rc;
}
