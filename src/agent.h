/*
 * agent.h - the voter process: `hapair agent` and `hapair witness`.
 *
 * Both run the same libuv loop around elect_step(): UDP in, timers,
 * signals, the control socket.  The agent also owns resources (the VIP)
 * and the guard; the witness holds no data and only votes.
 */
#ifndef HAPAIR_AGENT_H
#define HAPAIR_AGENT_H

/* argv: subcommand options.  Return the process exit status. */
int agent_main(int argc, char **argv);
int witness_main(int argc, char **argv);

#endif
