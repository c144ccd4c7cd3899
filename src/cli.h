/*
 * cli.h - subcommands that talk to a person (main.c dispatches).
 * Each takes the subcommand's own argv and returns the exit status.
 */
#ifndef HAPAIR_CLI_H
#define HAPAIR_CLI_H

int status_main(int argc, char **argv);
int check_config_main(int argc, char **argv);
int keygen_main(int argc, char **argv);

#endif
