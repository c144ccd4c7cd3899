/*
 * fuzz_conf.c - libFuzzer target for the config parser (src/conf*.c).
 *
 * Feeds arbitrary bytes to conf_parse() as a config file: NUL bytes, no
 * final newline, very long lines, broken UTF-8.  Besides the sanitizers'
 * checks it asserts the parser's promises: 0 exactly when there are no
 * errors, every message a terminated string that names the file, and a
 * valid config with two nodes numbered 1 and 2, at most one data
 * resource and runnable checks.  Seed corpus:
 * tests/fuzz/corpus/conf/.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_conf.c \
 *         src/conf*.c src/err.c src/proto.c -lsodium -o fuzz_conf
 *   ./fuzz_conf tests/fuzz/corpus/conf
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A valid config: at most one data resource, every check runnable. */
static void check_sections(const struct conf *c)
{
	const struct conf_resource *data = conf_data_resource(c);
	const struct conf_check *k;
	int i;

	for (i = 0; i < c->n_resources; i++)
		if (c->resources[i].type == RES_REDIS &&
		    &c->resources[i] != data)
			abort();
	if (c->n_checks < 0 || c->n_checks > CONF_MAX_CHECKS ||
	    c->n_notify < 0 || c->n_notify > CONF_MAX_NOTIFY)
		abort();
	for (i = 0; i < c->n_checks; i++) {
		k = &c->checks[i];
		if (!k->interval_ms || !k->timeout_ms ||
		    k->timeout_ms > k->interval_ms || !k->rise || !k->fall ||
		    (k->type == CHECK_SCRIPT ? !k->command[0] : !k->port))
			abort();
	}
	for (i = 0; i < c->n_notify; i++)
		if (!c->notify[i].command[0] || !c->notify[i].timeout_ms)
			abort();
}

static void check_result(int rc, const struct conf *c,
			 const struct conf_errors *e)
{
	int i;

	if (e->n < 0 || e->n > CONF_MAX_ERRORS || (rc == 0) != (e->n == 0))
		abort();
	for (i = 0; i < e->n; i++)
		if (!memchr(e->msg[i], '\0', HP_ERR_MAX) ||
		    strncmp(e->msg[i], "fuzz.conf", 9))
			abort();
	if (rc != 0)
		return;
	if (c->nodes[0].id != 1 || c->nodes[1].id != 2 ||
	    !c->nodes[0].ep.sa_len || !c->nodes[1].ep.sa_len ||
	    c->lease_ms <= 2 * (uint64_t)c->heartbeat_ms ||
	    c->n_resources < 0 || c->n_resources > CONF_MAX_RESOURCES ||
	    conf_node_by_name(c, c->nodes[1].name) != &c->nodes[1])
		abort();
	for (i = 0; i < c->n_resources; i++)
		if (c->resources[i].type == RES_VIP &&
		    (!conf_vip_interface(&c->resources[i].vip, 1)[0] ||
		     !conf_vip_interface(&c->resources[i].vip, 2)[0]))
			abort();
	check_sections(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c;
	static struct conf_errors e;
	int rc;

	rc = conf_parse((const char *)data, size, "fuzz.conf", &c, &e);
	check_result(rc, &c, &e);
	return 0;
}
