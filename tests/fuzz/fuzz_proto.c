/*
 * fuzz_proto.c - libFuzzer target for proto_decode().
 *
 * Every input is one datagram, decoded with a fixed key and cluster as
 * node 3 would, then once more with its tag re-computed so that the
 * checks behind the tag are fuzzed too.  Whatever the bytes, the decoder
 * must return without a sanitizer report, and a datagram it accepts must
 * be exactly what proto_encode() makes of the decoded message: no byte
 * the codec ignores, no field it reads twice.  Anything else aborts.
 *
 * The seed corpus (tests/fuzz/corpus/proto/, one valid datagram per
 * type, made with the key below) is written by this binary:
 *
 *   HAPAIR_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/proto ./fuzz_proto
 *
 * Run with a scratch directory first so new inputs stay out of git:
 *
 *   ./fuzz_proto -max_total_time=60 /tmp/proto-new tests/fuzz/corpus/proto
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { SELF = 3 };

/* "fuzzprot"; the key is the bytes 0x00..0x1f.  Not secrets. */
static const uint64_t CLUSTER = 0x66757a7a70726f74ull;
static uint8_t key[PROTO_KEY_LEN];

static struct proto_msg seed_msg(uint8_t type)
{
	struct proto_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.sender = type % 2 ? 1 : 2;
	m.cluster = CLUSTER;
	m.term = 7;
	m.seq = 1000 + type;
	m.send_ms = 123456789;
	m.flags = PF_HAS_POSITION | PF_GRANTED;
	m.role = 2;
	m.reason = RR_PROMISE;
	m.sync_set = 1u << 1 | 1u << 2;
	m.priority = 100;
	m.lease_ms = 3000;
	m.wait_ms = 2500;
	m.position = 0x1234567;
	m.hb_seq = 999;
	m.hb_send_ms = 123456000;
	m.pause_gen = 1795499423719ull;
	return m;
}

static int write_seeds(const char *dir)
{
	uint8_t buf[PROTO_MAX_LEN];
	char path[4096];
	uint8_t t;

	for (t = MSG_HELLO; t < MSG_TYPE_MAX; t++) {
		struct proto_msg m = seed_msg(t);
		int n = proto_encode(&m, key, buf, sizeof(buf));
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.bin", dir,
			 proto_type_name(t));
		f = fopen(path, "wb");
		if (!f || n < 0 || fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
			fprintf(stderr, "%s: cannot write seed\n", path);
			return -1;
		}
		fclose(f);
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("HAPAIR_FUZZ_WRITE_SEEDS");
	size_t i;

	if (sodium_init() < 0)
		abort();
	for (i = 0; i < PROTO_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	if (dir)
		exit(write_seeds(dir) ? 1 : 0);
	return 0;
}

/* What an accepted message must satisfy beyond the re-encoding. */
static void check_accepted(const struct proto_msg *m)
{
	struct proto_replay r;

	if (m->cluster != CLUSTER || m->sender < 1 ||
	    m->sender > PROTO_MAX_NODE || m->sender == SELF)
		abort();
	if (proto_body_len(m->type) < 0 ||
	    strcmp(proto_type_name(m->type), "unknown") == 0)
		abort();
	memset(&r, 0, sizeof(r));
	if (proto_replay_check(&r, m) != (m->seq > 0))
		abort();
	if (proto_replay_check(&r, m))
		abort();
}

/* Decode one datagram; abort on anything the contract does not allow. */
static void decode_one(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	enum proto_drop why = DROP_MAX;
	uint8_t again[PROTO_MAX_LEN];
	int n;

	if (proto_decode(data, size, key, CLUSTER, SELF, &m, &why) != 0) {
		if (why == DROP_NONE || why >= DROP_REPLAY ||
		    strcmp(proto_drop_name(why), "unknown") == 0)
			abort();
		return;
	}
	if (why != DROP_NONE)
		abort();
	check_accepted(&m);
	n = proto_encode(&m, key, again, sizeof(again));
	if (n < 0 || (size_t)n != size || memcmp(again, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[PROTO_MAX_LEN];
	size_t body;

	decode_one(data, size);
	/* Mutations almost never survive the tag, so also decode a copy
	 * with its tag re-computed: a keyed sender with a broken encoder.
	 * That lets the fuzzer reach the checks behind the tag. */
	if (size < PROTO_HDR_LEN + PROTO_TAG_LEN || size > PROTO_MAX_LEN)
		return 0;
	body = size - PROTO_TAG_LEN;
	memcpy(buf, data, body);
	crypto_auth_hmacsha256(buf + body, buf, body, key);
	decode_one(buf, size);
	return 0;
}
