/*
 * cli_ops.c - `hapair switchover`, `pause`, `resume` and `events`: one
 * request line to the local agent's control socket (ops.c answers),
 * the answer printed for a person, or as JSON with --json.  Exit
 * status 0 when the agent says ok, 1 when it refused or failed, 2 for a
 * bad command line.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conf.h"
#include "ctl.h"

enum { QUICK_TIMEOUT_MS = 3000 };

struct cli_args {
	const char *conf_path;
	const char *node;
	const char *to;		/* switchover --to */
	long count;		/* events -n */
	int json;
};

static void usage(const char *cmd)
{
	fprintf(stderr, "usage: hapair %s [-c CONFIG] [--node NAME]%s\n", cmd,
		!strcmp(cmd, "switchover") ? " [--to NODE]" :
		!strcmp(cmd, "events") ? " [-n COUNT] [--json]" : "");
}

static int parse(int argc, char **argv, const char *cmd, struct cli_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'N' },
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool sw = !strcmp(cmd, "switchover"), ev = !strcmp(cmd, "events");
	char *end;
	int c;

	*a = (struct cli_args){ .conf_path = "/etc/hapair/hapair.conf",
				.count = 20 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:n:j", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->conf_path = optarg;
			break;
		case 'N':
			a->node = optarg;
			break;
		case 't':
			if (!sw)
				goto bad;
			a->to = optarg;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'n':
			if (!ev)
				goto bad;
			a->count = strtol(optarg, &end, 10);
			if (*end || a->count < 1 || a->count > 256) {
				fprintf(stderr, "hapair events: -n: expected a "
					"count from 1 to 256, got \"%s\"\n",
					optarg);
				return -1;
			}
			break;
		case 'h':
			usage(cmd);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hapair %s: unexpected argument \"%s\"\n", cmd,
			argv[optind]);
		goto bad;
	}
	return 0;
bad:
	usage(cmd);
	return -1;
}

/* Send line to the chosen agent; the parsed answer in *doc. */
static int ask(const struct cli_args *a, const char *cmd, const char *line,
	       int timeout_ms, char **raw, cJSON **doc)
{
	struct conf *conf = calloc(1, sizeof(*conf));
	struct conf_errors errs;
	char path[CONF_PATH_MAX + 80];
	struct hp_err err;
	int rc = -1;

	*raw = NULL;
	*doc = NULL;
	if (!conf)
		return -1;
	if (conf_load(a->conf_path, conf, &errs)) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		goto out;
	}
	if (a->node && !conf_node_by_name(conf, a->node)) {
		fprintf(stderr, "hapair %s: no [node %s] in %s\n", cmd,
			a->node, a->conf_path);
		goto out;
	}
	if (a->to && !conf_node_by_name(conf, a->to)) {
		fprintf(stderr, "hapair %s: --to %s: no such node; the nodes "
			"are %s and %s\n", cmd, a->to, conf->nodes[0].name,
			conf->nodes[1].name);
		goto out;
	}
	if (!strcmp(cmd, "switchover"))
		timeout_ms = (int)conf->switchover_timeout_ms +
			     4 * (int)conf->lease_ms + 3000;
	if (cli_pick_socket(conf, a->node, 0, path, sizeof(path), cmd))
		goto out;
	if (ctl_request(path, line, timeout_ms, raw, &err)) {
		fprintf(stderr, "hapair %s: %s\n", cmd, err.msg);
		goto out;
	}
	*doc = cJSON_Parse(*raw);
	if (!*doc) {
		fprintf(stderr, "hapair %s: the agent answered something that "
			"is not JSON: %.80s\n", cmd, *raw);
		goto out;
	}
	rc = 0;
out:
	free(conf);
	return rc;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(j) ? j->valuestring : "";
}

/* Print ok/error answers; exit status. */
static int simple(int argc, char **argv, const char *cmd, const char *verb)
{
	struct cli_args a;
	char line[128], *raw;
	cJSON *doc;
	int rc = 1;

	if (parse(argc, argv, cmd, &a))
		return 2;
	snprintf(line, sizeof(line), "%s%s%s", verb, a.to ? " " : "",
		 a.to ? a.to : "");
	if (ask(&a, cmd, line, QUICK_TIMEOUT_MS, &raw, &doc))
		goto out;
	if (a.json)
		fputs(raw, stdout);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "ok"))) {
		if (!a.json)
			printf("%s\n", str(doc, "message"));
		rc = 0;
	} else if (!a.json) {
		fprintf(stderr, "hapair %s: %s\n", cmd, str(doc, "error"));
	}
out:
	cJSON_Delete(doc);
	free(raw);
	return rc;
}

int switchover_main(int argc, char **argv)
{
	return simple(argc, argv, "switchover", "switchover");
}

int pause_main(int argc, char **argv)
{
	return simple(argc, argv, "pause", "pause");
}

int resume_main(int argc, char **argv)
{
	return simple(argc, argv, "resume", "resume");
}

/* One line per event: local time, severity, kind, term, message, and
 * the phases of a failover. */
static void print_event(const cJSON *e)
{
	const cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "phases_ms");
	const cJSON *p;
	double ts = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
		e, "ts_ms"));
	time_t sec = (time_t)(ts / 1000);
	struct tm tm;
	char when[32];

	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s.%03d  %-8s %-10s term %-4.0f %s\n", when,
	       (int)((long long)ts % 1000), str(e, "severity"),
	       str(e, "kind"), cJSON_GetNumberValue(
		       cJSON_GetObjectItemCaseSensitive(e, "term")),
	       str(e, "message"));
	if (!cJSON_IsObject(ph))
		return;
	printf("%27s phases:", "");
	cJSON_ArrayForEach(p, ph)
		printf(" %s %.0f ms", p->string, p->valuedouble);
	printf("\n");
}

int events_main(int argc, char **argv)
{
	struct cli_args a;
	char line[64], *raw;
	const cJSON *list, *e;
	cJSON *doc;
	int rc = 1;

	if (parse(argc, argv, "events", &a))
		return 2;
	snprintf(line, sizeof(line), "events 0 %ld", a.count);
	if (ask(&a, "events", line, QUICK_TIMEOUT_MS, &raw, &doc))
		goto out;
	list = cJSON_GetObjectItemCaseSensitive(doc, "events");
	if (!cJSON_IsArray(list)) {
		fprintf(stderr, "hapair events: %s\n", str(doc, "error"));
		goto out;
	}
	if (a.json)
		fputs(raw, stdout);
	else
		cJSON_ArrayForEach(e, list)
			print_event(e);
	rc = 0;
out:
	cJSON_Delete(doc);
	free(raw);
	return rc;
}
