/*
 * cli.h - subcommands that talk to a person (main.c dispatches).
 * Each takes the subcommand's own argv and returns the exit status.
 */
#ifndef HAPAIR_CLI_H
#define HAPAIR_CLI_H

int status_main(int argc, char **argv);
int check_config_main(int argc, char **argv);
int keygen_main(int argc, char **argv);
int clone_main(int argc, char **argv);	/* cli_clone.c */
int switchover_main(int argc, char **argv);
int pause_main(int argc, char **argv);
int resume_main(int argc, char **argv);
int events_main(int argc, char **argv);

struct conf;

/* The control socket of node (or the witness, or the one agent on this
 * host) into path; -1 with a message on stderr naming cmd. */
int cli_pick_socket(const struct conf *c, const char *node, int witness,
		    char *path, size_t cap, const char *cmd);

#endif
