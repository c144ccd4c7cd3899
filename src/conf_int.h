/*
 * conf_int.h - inside the config parser (conf.c, conf_value.c,
 * conf_cluster.c, conf_res.c); callers use conf.h.
 *
 * conf.c reads the file: it splits lines, opens sections, hands each
 * "key = value" to the setter named in its section's key table and runs
 * the check pass once the file is read.  conf_value.c knows what a value
 * may look like (names, numbers, paths, ports); conf_cluster.c owns the
 * keys of [cluster], [node NAME] and [witness] and the rules between
 * them, conf_res.c those of [resource NAME], [check NAME] and
 * [notify NAME], conf_api.c those of [api], conf_alert.c those of
 * [alert NAME] and [events].  They share struct parser, the state of
 * one parse.
 * conf_secret.c, which reads the key, password and token files, needs
 * none of this; it lends conf_alert.c conf_read_secret_line().
 * PURE, like conf.c: libc and libsodium only.
 */
#ifndef HAPAIR_CONF_INT_H
#define HAPAIR_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

enum {
	KEYS_MAX = 24,			/* keys in the largest section */
	IFACE_REFS_MAX = 4 * CONF_MAX_RESOURCES,
	SHOW_MAX = 64,			/* bytes of a bad value shown */
	LABEL_MAX = CONF_NAME_MAX + 40,
	IFNAME_MAX = 15,		/* IFNAMSIZ - 1 */
	TYPE_PEEK_MAX = 32,		/* bytes of a looked-ahead type */
	LISTEN_REFS_MAX = 2 * CONF_NODES, /* listen@NODE keys */
};

enum kind {
	K_NONE, K_CLUSTER, K_NODE, K_WITNESS, K_RESOURCE, K_CHECK, K_NOTIFY,
	K_API, K_ALERT, K_EVENTS, K_SKIP
};

/* One section as written: where it starts and where each key was set. */
struct sect {
	int line;			/* header line; 0 = absent */
	int key_line[KEYS_MAX];		/* 0 = key not set */
	unsigned bad_keys;		/* bit i: key i set but not valid */
	char label[LABEL_MAX];		/* "[node a]", for messages */
};

/* An interface@NODE key, resolved once every [node] has been read. */
struct iface_ref {
	int res;
	int line;
	char node[CONF_NAME_MAX];
	char ifname[IFNAME_MAX + 1];
};

/* A listen@NODE key of [api], resolved once every [node] is read. */
struct listen_ref {
	int line;
	char node[CONF_NAME_MAX];
	struct conf_endpoint ep;
};

/* One parse: the input, the line pass's place in it, what has been seen
 * so far (for duplicates and the check pass) and the errors. */
struct parser {
	const char *path;
	struct conf *c;
	struct conf_errors *errs;
	int dropped;			/* errors past CONF_MAX_ERRORS */
	int line;

	enum kind kind;			/* section being read */
	int idx;			/* its index (node, resource, ...) */
	struct sect *sect;
	const struct key *keys;

	struct sect cluster, witness, api;
	struct sect node[CONF_NODES];
	struct sect res[CONF_MAX_RESOURCES];
	const struct key *res_keys[CONF_MAX_RESOURCES];	/* by type */
	int data_res;			/* data resource, -1 = none yet */
	struct sect chk[CONF_MAX_CHECKS];
	bool chk_typed[CONF_MAX_CHECKS];	/* type set and valid */
	struct sect ntf[CONF_MAX_NOTIFY];
	struct sect alr[CONF_MAX_ALERTS];
	struct sect events;
	int n_node_sections;		/* including any beyond two */

	const char *text;		/* the whole file, for look-ahead */
	size_t len;
	size_t next;			/* offset of the line after this */

	struct iface_ref iface[IFACE_REFS_MAX];
	int n_iface;
	struct listen_ref listen[LISTEN_REFS_MAX];
	int n_listen;

	char heartbeat_text[SHOW_MAX + 8];
	char lease_text[SHOW_MAX + 8];
	char expect[256];		/* expectation built by a setter */
	bool secret;			/* setter: show v's length, not v */
};

/* A setter stores v and returns NULL, or returns what it expected. */
struct key {
	const char *name;
	const char *(*set)(struct parser *p, const char *v);
	bool required;
};

/* conf.c: the reader. */

/* Add "FILE:LINE: " and the message to p's errors ("FILE: " if line is
 * 0); past CONF_MAX_ERRORS an error is only counted. */
void conf_errf(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copy src into dst (cap bytes) for a message: escaped and cut. */
void conf_escape(char *dst, size_t cap, const char *src);

/* Check pass: report each required key of keys not set in section s. */
void conf_check_required(struct parser *p, const struct sect *s,
			 const struct key *keys);

/* At a [resource|check|notify NAME] header: claim the next slot, or
 * report why not and return false (the section is then skipped). */
bool conf_open_listed(struct parser *p, enum kind kind, const char *name,
		      const char *label);

/* At a section header: the value of the section's "type" key, or "". */
void conf_peek_type(const struct parser *p, char *out, size_t cap);

/* conf_value.c: the syntax of values.  A setter returning a string
 * answers NULL once v is stored, or what it expected; one returning
 * bool, whether v was stored. */

bool conf_valid_name(const char *s);
bool conf_valid_ifname(const char *s);
int conf_parse_uint(const char *s, uint32_t max, uint32_t *out);
bool conf_set_str(char *dst, size_t cap, const char *v);
const char *conf_set_path(char dst[CONF_PATH_MAX], const char *v);
const char *conf_set_ip(char *dst, size_t cap, const char *v);
bool conf_set_printable(char *dst, size_t cap, const char *v, bool spaces);
const char *conf_set_command(char dst[CONF_CMD_MAX], const char *v);
const char *conf_set_duration(uint32_t *dst, const char *v,
			      const char *want);
const char *conf_set_port(uint16_t *port, const char *v);

/* conf_cluster.c: [cluster], [node NAME], [witness]. */

extern const struct key conf_cluster_keys[];
extern const struct key conf_witness_keys[];

/* Set the defaults of these sections' keys in a zeroed *c. */
void conf_cluster_defaults(struct conf *c);

/* At a [node NAME] header (name not empty). */
void conf_open_node(struct parser *p, const char *name, const char *label);

/* Check pass over these sections, after the whole file is read. */
void conf_cluster_check(struct parser *p);

/* conf_res.c: [resource NAME], [check NAME], [notify NAME]. */

extern const struct key conf_vip_keys[];	/* type = vip */
extern const struct key conf_untyped_keys[];	/* type not known */

/* An interface@NODE key in a vip section. */
void conf_set_iface_ref(struct parser *p, const char *key, const char *v);

/* At a [resource|check|notify NAME] header (name not empty). */
void conf_open_resource(struct parser *p, const char *name, const char *label);
void conf_open_check(struct parser *p, const char *name, const char *label);
void conf_open_notify(struct parser *p, const char *name, const char *label);

/* Check pass over these sections, after conf_cluster_check(). */
void conf_res_check(struct parser *p);

/* conf_api.c: [api]. */

extern const struct key conf_api_keys[];

/* A listen@NODE key in [api]. */
void conf_set_listen_ref(struct parser *p, const char *key, const char *v);

/* Check pass over [api], after conf_cluster_check(). */
void conf_api_check(struct parser *p);

/* conf_alert.c: [alert NAME], [events]. */

extern const struct key conf_events_keys[];

/* At an [alert NAME] header (name not empty). */
void conf_open_alert(struct parser *p, const char *name, const char *label);

/* Check pass over [alert NAME] sections. */
void conf_alert_check(struct parser *p);

/* conf_secret.c: read a one-line secret of 1 to cap-1 bytes from path
 * into dst (what: "redis password file"; secret: "Redis password", for
 * the mode message; noun: "password", for the length message).  Refuses
 * a file group/other may read or change.  Returns 0 or -1 with *err. */
int conf_read_secret_line(const char *path, const char *what,
			  const char *secret, const char *noun, char *dst,
			  size_t cap, struct hp_err *err);

#endif
