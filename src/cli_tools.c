/*
 * cli_tools.c - `hapair keygen` and `hapair check-config`.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "proto.h"

int keygen_main(int argc, char **argv)
{
	uint8_t key[PROTO_KEY_LEN];
	char hex[2 * PROTO_KEY_LEN + 1];

	if (argc > 1) {
		fprintf(stderr, "usage: hapair keygen > /etc/hapair/key && "
			"chmod 600 /etc/hapair/key\n");
		return 2;
	}
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	printf("%s\n", hex);
	return 0;
}

static void describe(const struct conf *c)
{
	printf("cluster %s: nodes %s (%s) and %s (%s), ", c->name,
	       c->nodes[0].name, c->nodes[0].ep.host, c->nodes[1].name,
	       c->nodes[1].ep.host);
	if (c->quorum == QUORUM_NONE)
		printf("quorum none (UNSAFE against partitions)");
	else
		printf("witness %s", c->witness.host);
	printf(", heartbeat %ums, lease %ums, %d resource(s)\n",
	       c->heartbeat_ms, c->lease_ms, c->n_resources);
}

int check_config_main(int argc, char **argv)
{
	struct conf *c;
	struct conf_errors errs;
	struct hp_err err;
	uint8_t key[PROTO_KEY_LEN];
	int rc = 1;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: hapair check-config FILE\n");
		return 2;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return 1;
	if (conf_load(argv[1], c, &errs)) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		fprintf(stderr, "%s: %d error(s)\n", argv[1], errs.n);
		goto out;
	}
	if (conf_load_key(c, key, &err)) {
		fprintf(stderr, "%s: %s\n", argv[1], err.msg);
		goto out;
	}
	sodium_memzero(key, sizeof(key));
	printf("%s: OK\n", argv[1]);
	describe(c);
	rc = 0;
out:
	free(c);
	return rc;
}
