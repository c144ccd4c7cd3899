/*
 * main.c - hapair: one binary for the agent, the witness and the CLI.
 * A table of subcommands, each with its own *_main().
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "cli.h"

#ifndef HAPAIR_VERSION
#define HAPAIR_VERSION "0.1.0"
#endif

static int help_main(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} subcommands[] = {
	{ "agent", agent_main, "run the agent on a server (-c CONF -n NODE)" },
	{ "witness", witness_main, "run the witness on a third host" },
	{ "status", status_main, "show the pair's state (--json)" },
	{ "switchover", switchover_main,
	  "planned hand-over to the standby, no write lost (--to NODE)" },
	{ "pause", pause_main, "maintenance: no automatic failover" },
	{ "resume", resume_main, "end maintenance: automatic failover on" },
	{ "events", events_main, "recent events (-n N, --json)" },
	{ "clone", clone_main, "build this node's PostgreSQL or MariaDB standby (--node)" },
	{ "check-config", check_config_main, "validate a config file" },
	{ "keygen", keygen_main, "print a new cluster key" },
	{ "help", help_main, "this text" },
};

static int help_main(int argc, char **argv)
{
	printf("hapair %s - a primary/standby pair that never splits\n\n"
	       "usage: hapair COMMAND [options]\n\n", HAPAIR_VERSION);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(*subcommands); i++)
		printf("  %-13s %s\n", subcommands[i].name,
		       subcommands[i].help);
	printf("\nSee README.md and docs/ for the config file.\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "hapair: libsodium failed to initialise\n");
		return 1;
	}
	if (argc < 2) {
		help_main(0, NULL);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("hapair %s\n", HAPAIR_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help_main(0, NULL);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(*subcommands); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "hapair: unknown command \"%s\"; try `hapair help`\n",
		argv[1]);
	return 2;
}
