/*
 * test_proto.c - the wire codec against the byte layout in proto.h.
 *
 * Round trips compare the encoder's output with bytes written out by hand
 * from the table in proto.h (not from proto.c), and the tag with an HMAC
 * computed here.  Each drop reason is produced on purpose: the
 * post-tag reasons by patching an encoded datagram and re-computing its
 * HMAC, as a sender with the key but a bug or another configuration
 * would.  The random tests use a fixed-seed PRNG so a failure replays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "proto.h"

enum {
	SELF = 2,
	PEER = 1,
	MIN_LEN = PROTO_HDR_LEN + PROTO_TAG_LEN,
	RANDOM_ROUNDS = 200000,
};

static const uint64_t CLUSTER = 0x0123456789abcdefull;

static uint8_t key[PROTO_KEY_LEN];
static uint8_t other_key[PROTO_KEY_LEN];

/* Fields a type uses, as bits, to build the expected decoded message. */
enum {
	U_FLAGS = 1 << 0,
	U_ROLE = 1 << 1,
	U_REASON = 1 << 2,
	U_SYNC_SET = 1 << 3,
	U_PRIORITY = 1 << 4,
	U_LEASE_MS = 1 << 5,
	U_WAIT_MS = 1 << 6,
	U_POSITION = 1 << 7,
	U_HB_SEQ = 1 << 8,
	U_HB_SEND_MS = 1 << 9,
	U_PAUSE_GEN = 1 << 10,
};

/* One row per message type: the body as proto.h lays it out, written
 * with the distinctive values of full_msg(). */
struct row {
	const char *name;
	uint8_t type;
	unsigned used;
	uint8_t body_len;
	uint8_t body[PROTO_MAX_BODY];
};

#define POS 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
#define HBSEQ 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18
#define HBSEND 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28
#define PGEN 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68

static const struct row rows[] = {
	{ "hello", MSG_HELLO,
	  U_ROLE | U_FLAGS | U_POSITION | U_PRIORITY | U_PAUSE_GEN, 24,
	  { 0xb2, 0xa1, 0, 0, POS, 0x11, 0x22, 0x33, 0x44, PGEN } },
	{ "heartbeat", MSG_HEARTBEAT,
	  U_FLAGS | U_SYNC_SET | U_POSITION | U_LEASE_MS, 16,
	  { 0xa1, 0xd4, 0, 0, POS, 0x55, 0x66, 0x77, 0x88 } },
	{ "ack", MSG_ACK, U_FLAGS | U_HB_SEQ | U_HB_SEND_MS | U_POSITION, 28,
	  { 0xa1, 0, 0, 0, HBSEQ, HBSEND, POS } },
	{ "prevote_req", MSG_PREVOTE_REQ, U_FLAGS | U_POSITION, 12,
	  { 0xa1, 0, 0, 0, POS } },
	{ "prevote_reply", MSG_PREVOTE_REPLY,
	  U_FLAGS | U_REASON | U_WAIT_MS | U_HB_SEND_MS, 16,
	  { 0xa1, 0xc3, 0, 0, 0x99, 0xaa, 0xbb, 0xcc, HBSEND } },
	{ "vote_req", MSG_VOTE_REQ, U_FLAGS | U_POSITION, 12,
	  { 0xa1, 0, 0, 0, POS } },
	{ "vote_reply", MSG_VOTE_REPLY, U_FLAGS | U_REASON | U_WAIT_MS, 8,
	  { 0xa1, 0xc3, 0, 0, 0x99, 0xaa, 0xbb, 0xcc } },
	{ "step_down", MSG_STEP_DOWN, U_FLAGS | U_POSITION, 12,
	  { 0xa1, 0, 0, 0, POS } },
};

enum { NROWS = sizeof(rows) / sizeof(rows[0]) };

static const uint8_t header_tail[] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* cluster */
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, /* term */
	0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, /* seq */
	0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, /* send_ms */
};

/* Every field set, whether the type uses it or not. */
static struct proto_msg full_msg(uint8_t type)
{
	struct proto_msg m = {
		.type = type,
		.sender = PEER,
		.cluster = CLUSTER,
		.term = 0x3132333435363738ull,
		.seq = 0x4142434445464748ull,
		.send_ms = 0x5152535455565758ull,
		.flags = 0xa1,
		.role = 0xb2,
		.reason = 0xc3,
		.sync_set = 0xd4,
		.priority = 0x11223344u,
		.lease_ms = 0x55667788u,
		.wait_ms = 0x99aabbccu,
		.position = 0x0102030405060708ull,
		.hb_seq = 0x1112131415161718ull,
		.hb_send_ms = 0x2122232425262728ull,
		.pause_gen = 0x6162636465666768ull,
	};
	return m;
}

/* What decoding full_msg(type) must give: unused fields zero. */
static struct proto_msg expected_msg(const struct row *r)
{
	struct proto_msg f = full_msg(r->type), m;

	memset(&m, 0, sizeof(m));
	m.type = f.type;
	m.sender = f.sender;
	m.cluster = f.cluster;
	m.term = f.term;
	m.seq = f.seq;
	m.send_ms = f.send_ms;
	m.flags = r->used & U_FLAGS ? f.flags : 0;
	m.role = r->used & U_ROLE ? f.role : 0;
	m.reason = r->used & U_REASON ? f.reason : 0;
	m.sync_set = r->used & U_SYNC_SET ? f.sync_set : 0;
	m.priority = r->used & U_PRIORITY ? f.priority : 0;
	m.lease_ms = r->used & U_LEASE_MS ? f.lease_ms : 0;
	m.wait_ms = r->used & U_WAIT_MS ? f.wait_ms : 0;
	m.position = r->used & U_POSITION ? f.position : 0;
	m.hb_seq = r->used & U_HB_SEQ ? f.hb_seq : 0;
	m.hb_send_ms = r->used & U_HB_SEND_MS ? f.hb_send_ms : 0;
	m.pause_gen = r->used & U_PAUSE_GEN ? f.pause_gen : 0;
	return m;
}

static void assert_msg_equal(const struct proto_msg *a,
			     const struct proto_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->sender, b->sender);
	assert_int_equal(a->cluster, b->cluster);
	assert_int_equal(a->term, b->term);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->send_ms, b->send_ms);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->role, b->role);
	assert_int_equal(a->reason, b->reason);
	assert_int_equal(a->sync_set, b->sync_set);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->lease_ms, b->lease_ms);
	assert_int_equal(a->wait_ms, b->wait_ms);
	assert_int_equal(a->position, b->position);
	assert_int_equal(a->hb_seq, b->hb_seq);
	assert_int_equal(a->hb_send_ms, b->hb_send_ms);
}

static int encode(const struct proto_msg *m, uint8_t *buf)
{
	int n = proto_encode(m, key, buf, PROTO_MAX_LEN);

	assert_true(n >= MIN_LEN);
	return n;
}

static enum proto_drop decode_why(const uint8_t *buf, size_t len)
{
	struct proto_msg out;
	enum proto_drop why = DROP_MAX;
	int rc = proto_decode(buf, len, key, CLUSTER, SELF, &out, &why);

	assert_int_equal(rc, why == DROP_NONE ? 0 : -1);
	return why;
}

/* Re-compute the tag after patching, as a sender holding the key would. */
static void remac(uint8_t *buf, size_t len)
{
	crypto_auth_hmacsha256(buf + len - PROTO_TAG_LEN, buf,
			       len - PROTO_TAG_LEN, key);
}

static void assert_drop(const uint8_t *buf, size_t len, enum proto_drop want)
{
	enum proto_drop got = decode_why(buf, len);

	assert_string_equal(proto_drop_name(got), proto_drop_name(want));
}

/* Round trip for one type: exact bytes out, exact fields back. */
static void round_trip(void **state)
{
	const struct row *r = *state;
	struct proto_msg in = full_msg(r->type), out, want = expected_msg(r);
	uint8_t buf[PROTO_MAX_LEN], tag[PROTO_TAG_LEN];
	enum proto_drop why = DROP_MAX;
	int n = encode(&in, buf);

	assert_int_equal(n, PROTO_HDR_LEN + r->body_len + PROTO_TAG_LEN);
	assert_int_equal(proto_body_len(r->type), r->body_len);
	assert_memory_equal(buf, "HAPR", 4);
	assert_int_equal(buf[4], PROTO_VERSION);
	assert_int_equal(buf[5], r->type);
	assert_int_equal(buf[6], PEER);
	assert_int_equal(buf[7], 0);
	assert_memory_equal(buf + 8, header_tail, sizeof(header_tail));
	assert_memory_equal(buf + PROTO_HDR_LEN, r->body, r->body_len);
	crypto_auth_hmacsha256(tag, buf, (size_t)n - PROTO_TAG_LEN, key);
	assert_memory_equal(buf + n - PROTO_TAG_LEN, tag, PROTO_TAG_LEN);

	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(proto_decode(buf, (size_t)n, key, CLUSTER, SELF, &out,
				      &why), 0);
	assert_int_equal(why, DROP_NONE);
	assert_msg_equal(&out, &want);
	assert_string_equal(proto_type_name(r->type), r->name);
}

static void zero_message_round_trips(void **state)
{
	struct proto_msg in, out;
	uint8_t buf[PROTO_MAX_LEN];
	uint8_t t;
	int n;

	for (t = MSG_HELLO; t < MSG_TYPE_MAX; t++) {
		memset(&in, 0, sizeof(in));
		in.type = t;
		in.sender = PEER;
		in.cluster = CLUSTER;
		n = encode(&in, buf);
		assert_int_equal(proto_decode(buf, (size_t)n, key, CLUSTER,
					      SELF, &out, NULL), 0);
		assert_msg_equal(&out, &in);
	}
}

static void body_lengths(void **state)
{
	int t, max = 0;

	for (t = 0; t < 256; t++) {
		int n = proto_body_len((uint8_t)t);

		if (t >= MSG_HELLO && t < MSG_TYPE_MAX)
			assert_true(n > 0);
		else
			assert_int_equal(n, -1);
		if (n > max)
			max = n;
	}
	assert_int_equal(max, PROTO_MAX_BODY);
}

static void encode_rejects(void **state)
{
	struct proto_msg m = full_msg(MSG_ACK);
	uint8_t buf[PROTO_MAX_LEN];
	size_t need = MIN_LEN + 28;

	assert_int_equal(proto_encode(&m, key, buf, need - 1), -1);
	assert_int_equal(proto_encode(&m, key, buf, need), (int)need);
	m.type = 0;
	assert_int_equal(proto_encode(&m, key, buf, sizeof(buf)), -1);
	m.type = MSG_TYPE_MAX;
	assert_int_equal(proto_encode(&m, key, buf, sizeof(buf)), -1);
}

static void drop_short_and_long(void **state)
{
	struct proto_msg m = full_msg(MSG_ACK);
	uint8_t buf[PROTO_MAX_LEN + 8];
	int n = encode(&m, buf);

	assert_int_equal(n, PROTO_MAX_LEN);
	assert_drop(NULL, 0, DROP_SHORT);
	assert_drop(buf, 0, DROP_SHORT);
	assert_drop(buf, MIN_LEN - 1, DROP_SHORT);
	memset(buf + n, 0, 8);
	assert_drop(buf, PROTO_MAX_LEN + 1, DROP_LONG);
	assert_drop(buf, sizeof(buf), DROP_LONG);
	/* A tag that would verify over the longer datagram changes nothing:
	 * the size bound comes first. */
	remac(buf, PROTO_MAX_LEN + 1);
	assert_drop(buf, PROTO_MAX_LEN + 1, DROP_LONG);
}

static void drop_tag(void **state)
{
	struct proto_msg m = full_msg(MSG_HEARTBEAT), out;
	uint8_t buf[PROTO_MAX_LEN + 1];
	enum proto_drop why;
	int n = encode(&m, buf), i;

	for (i = 0; i < n; i++) {
		buf[i] ^= 0x01;
		assert_drop(buf, (size_t)n, DROP_TAG);
		buf[i] ^= 0x81;
		assert_drop(buf, (size_t)n, DROP_TAG);
		buf[i] ^= 0x80;
	}
	assert_drop(buf, (size_t)n, DROP_NONE);
	assert_drop(buf, (size_t)n - 1, DROP_TAG);
	buf[n] = 0;
	assert_drop(buf, (size_t)n + 1, DROP_TAG);
	assert_int_equal(proto_decode(buf, (size_t)n, other_key, CLUSTER,
				      SELF, &out, &why), -1);
	assert_string_equal(proto_drop_name(why), "tag");
}

/* Patch one byte of a valid HELLO, re-MAC, expect the reason. */
static void patched(size_t off, uint8_t val, enum proto_drop want)
{
	struct proto_msg m = full_msg(MSG_HELLO);
	uint8_t buf[PROTO_MAX_LEN];
	int n = encode(&m, buf);

	buf[off] = val;
	remac(buf, (size_t)n);
	assert_drop(buf, (size_t)n, want);
}

static void drop_magic_version_type(void **state)
{
	patched(0, 'h', DROP_MAGIC);
	patched(3, 'S', DROP_MAGIC);
	patched(4, 0, DROP_VERSION);
	patched(4, PROTO_VERSION + 1, DROP_VERSION);
	patched(4, 0xff, DROP_VERSION);
	patched(5, 0, DROP_TYPE);
	patched(5, MSG_TYPE_MAX, DROP_TYPE);
	patched(5, 0xff, DROP_TYPE);
}

static void drop_length(void **state)
{
	struct proto_msg m = full_msg(MSG_HELLO);
	uint8_t buf[PROTO_MAX_LEN];
	int n;

	/* A HELLO body labelled as a 12-byte or 28-byte type. */
	patched(5, MSG_STEP_DOWN, DROP_LENGTH);
	patched(5, MSG_ACK, DROP_LENGTH);
	/* Right type, one byte too many or too few, tag valid. */
	n = encode(&m, buf);
	memmove(buf + n - PROTO_TAG_LEN + 1, buf + n - PROTO_TAG_LEN,
		PROTO_TAG_LEN);
	buf[n - PROTO_TAG_LEN] = 0;
	remac(buf, (size_t)n + 1);
	assert_drop(buf, (size_t)n + 1, DROP_LENGTH);
	n = encode(&m, buf);
	remac(buf, (size_t)n - 1);
	assert_drop(buf, (size_t)n - 1, DROP_LENGTH);
	/* Header and tag only. */
	remac(buf, MIN_LEN);
	assert_drop(buf, MIN_LEN, DROP_LENGTH);
}

static void drop_reserved(void **state)
{
	struct proto_msg m;
	uint8_t buf[PROTO_MAX_LEN];
	size_t i;
	int n;

	patched(7, 0x80, DROP_RESERVED);
	for (i = 0; i < NROWS; i++) {
		size_t b, pads = 0;

		m = full_msg(rows[i].type);
		for (b = 0; b < rows[i].body_len; b++) {
			n = encode(&m, buf);
			if (buf[PROTO_HDR_LEN + b] != 0)
				continue;
			/* Only the pads are zero in full_msg(). */
			buf[PROTO_HDR_LEN + b] = 0x01;
			remac(buf, (size_t)n);
			assert_drop(buf, (size_t)n, DROP_RESERVED);
			pads++;
		}
		/* Every body has a u16 pad at least. */
		assert_in_range(pads, 2, 3);
	}
}

static void drop_cluster(void **state)
{
	struct proto_msg m = full_msg(MSG_VOTE_REQ), out;
	uint8_t buf[PROTO_MAX_LEN];
	enum proto_drop why;
	int n = encode(&m, buf);

	assert_int_equal(proto_decode(buf, (size_t)n, key, CLUSTER + 1, SELF,
				      &out, &why), -1);
	assert_string_equal(proto_drop_name(why), "cluster");
	patched(8, 0x00, DROP_CLUSTER);
	patched(15, 0xee, DROP_CLUSTER);
}

static void drop_sender(void **state)
{
	struct proto_msg m = full_msg(MSG_HELLO), out;
	uint8_t buf[PROTO_MAX_LEN];
	uint8_t s;
	int n;

	patched(6, 0, DROP_SENDER);
	patched(6, SELF, DROP_SENDER);
	patched(6, PROTO_MAX_NODE + 1, DROP_SENDER);
	patched(6, 0xff, DROP_SENDER);
	/* self_id 0 (a tool that is no node) accepts every node id. */
	for (s = 1; s <= PROTO_MAX_NODE; s++) {
		m.sender = s;
		n = encode(&m, buf);
		assert_int_equal(proto_decode(buf, (size_t)n, key, CLUSTER, 0,
					      &out, NULL), 0);
		assert_int_equal(out.sender, s);
	}
}

/* Several faults at once: the ladder reports them in documented order. */
static void ladder_order(void **state)
{
	struct proto_msg m = full_msg(MSG_HELLO);
	uint8_t buf[PROTO_MAX_LEN];
	int n = encode(&m, buf);

	buf[0] = 'X';		/* magic */
	buf[4] = 9;		/* version */
	buf[7] = 1;		/* reserved */
	buf[8] ^= 0xff;		/* cluster */
	buf[6] = SELF;		/* sender */
	remac(buf, (size_t)n);
	assert_drop(buf, (size_t)n, DROP_MAGIC);
	buf[0] = 'H';
	remac(buf, (size_t)n);
	assert_drop(buf, (size_t)n, DROP_VERSION);
	buf[4] = PROTO_VERSION;
	buf[5] = MSG_VOTE_REPLY; /* 8-byte body: length before reserved */
	remac(buf, (size_t)n);
	assert_drop(buf, (size_t)n, DROP_LENGTH);
	buf[5] = MSG_HELLO;
	remac(buf, (size_t)n);
	assert_drop(buf, (size_t)n, DROP_RESERVED);
	buf[7] = 0;
	remac(buf, (size_t)n);
	assert_drop(buf, (size_t)n, DROP_CLUSTER);
	buf[8] ^= 0xff;
	remac(buf, (size_t)n);
	assert_drop(buf, (size_t)n, DROP_SENDER);
	buf[6] = PEER;
	remac(buf, (size_t)n);
	assert_drop(buf, (size_t)n, DROP_NONE);
}

static struct proto_msg from(uint8_t sender, uint64_t seq)
{
	struct proto_msg m = full_msg(MSG_HEARTBEAT);

	m.sender = sender;
	m.seq = seq;
	return m;
}

static void replay(void **state)
{
	struct proto_replay r;
	struct proto_msg m;

	memset(&r, 0, sizeof(r));
	m = from(1, 0);
	assert_false(proto_replay_check(&r, &m)); /* seq starts at 1 */
	m = from(1, 5);
	assert_true(proto_replay_check(&r, &m));
	assert_false(proto_replay_check(&r, &m)); /* same seq twice */
	m = from(1, 4);
	assert_false(proto_replay_check(&r, &m)); /* lower */
	m = from(1, 6);
	assert_true(proto_replay_check(&r, &m));
	assert_int_equal(r.last_seq[1], 6);
	/* Each sender has its own counter. */
	m = from(3, 1);
	assert_true(proto_replay_check(&r, &m));
	m = from(2, 6);
	assert_true(proto_replay_check(&r, &m));
	m = from(3, 1);
	assert_false(proto_replay_check(&r, &m));
	m = from(1, 7);
	assert_true(proto_replay_check(&r, &m));
	m = from(1, UINT64_MAX);
	assert_true(proto_replay_check(&r, &m));
	assert_false(proto_replay_check(&r, &m));
	assert_int_equal(r.last_seq[2], 6);
	assert_int_equal(r.last_seq[3], 1);
}

static void replay_rejects_bad_sender(void **state)
{
	struct proto_replay r;
	struct proto_msg m;

	memset(&r, 0, sizeof(r));
	m = from(0, 1);
	assert_false(proto_replay_check(&r, &m));
	m = from(PROTO_MAX_NODE + 1, 1);
	assert_false(proto_replay_check(&r, &m));
	m = from(0xff, 1);
	assert_false(proto_replay_check(&r, &m));
	assert_int_equal(r.last_seq[0], 0);
}

static void cluster_id(void **state)
{
	/* hashlib.blake2b(name, digest_size=16).digest()[:8] */
	assert_int_equal(proto_cluster_id(""), 0xcae66941d9efbd40ull);
	assert_int_equal(proto_cluster_id("demo"), 0xd8dc2ceb9b23ce6eull);
	assert_int_equal(proto_cluster_id("prod-db"), 0xbd764db9df62ff0eull);
	assert_int_equal(proto_cluster_id(NULL), proto_cluster_id(""));
}

static void assert_label(const char *s)
{
	assert_non_null(s);
	assert_true(s[0] != '\0');
	assert_int_equal(strspn(s, "abcdefghijklmnopqrstuvwxyz_"), strlen(s));
}

static void names(void **state)
{
	int i;

	for (i = 0; i < DROP_MAX; i++)
		assert_label(proto_drop_name((enum proto_drop)i));
	for (i = 0; i < RR_MAX; i++)
		assert_label(proto_reason_name((uint8_t)i));
	for (i = MSG_HELLO; i < MSG_TYPE_MAX; i++)
		assert_label(proto_type_name((uint8_t)i));
	assert_string_equal(proto_drop_name(DROP_TAG), "tag");
	assert_string_equal(proto_drop_name(DROP_REPLAY), "replay");
	assert_string_equal(proto_drop_name(DROP_MAX), "unknown");
	assert_string_equal(proto_drop_name((enum proto_drop)-1), "unknown");
	assert_string_equal(proto_reason_name(RR_PROMISE), "promise");
	assert_string_equal(proto_reason_name(RR_NOT_SYNCED), "not_synced");
	assert_string_equal(proto_reason_name(RR_MAX), "unknown");
	assert_string_equal(proto_type_name(MSG_PREVOTE_REQ), "prevote_req");
	assert_string_equal(proto_type_name(0), "unknown");
	assert_string_equal(proto_type_name(MSG_TYPE_MAX), "unknown");
	assert_string_equal(proto_type_name(0xff), "unknown");
}

/* splitmix64: small, fixed seed, same sequence everywhere. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static struct proto_msg random_msg(void)
{
	struct proto_msg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)(MSG_HELLO + below(MSG_TYPE_MAX - MSG_HELLO));
	m.sender = below(2) ? PEER : 3;
	m.cluster = CLUSTER;
	m.term = rnd();
	m.seq = rnd();
	m.send_ms = rnd();
	m.flags = (uint8_t)rnd();
	m.role = (uint8_t)rnd();
	m.reason = (uint8_t)rnd();
	m.sync_set = (uint8_t)rnd();
	m.priority = (uint32_t)rnd();
	m.lease_ms = (uint32_t)rnd();
	m.wait_ms = (uint32_t)rnd();
	m.position = rnd();
	m.hb_seq = rnd();
	m.hb_send_ms = rnd();
	return m;
}

/* A datagram that decodes must be exactly what encoding its message
 * gives; one that does not must carry a decoder reason. */
static enum proto_drop check_datagram(const uint8_t *buf, size_t len)
{
	struct proto_msg out;
	uint8_t again[PROTO_MAX_LEN];
	enum proto_drop why = DROP_MAX;
	int n;

	if (proto_decode(buf, len, key, CLUSTER, SELF, &out, &why) != 0) {
		assert_in_range(why, DROP_SHORT, DROP_RESERVED);
		return why;
	}
	assert_int_equal(why, DROP_NONE);
	n = proto_encode(&out, key, again, sizeof(again));
	assert_int_equal(n, (int)len);
	assert_memory_equal(again, buf, len);
	return why;
}

static void random_datagrams(void **state)
{
	uint8_t buf[200];
	size_t len, i;
	int round;

	rng_state = 1;
	for (round = 0; round < RANDOM_ROUNDS; round++) {
		len = below(sizeof(buf) + 1);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		if (len < MIN_LEN)
			assert_drop(buf, len, DROP_SHORT);
		else if (len > PROTO_MAX_LEN)
			assert_drop(buf, len, DROP_LONG);
		else
			assert_drop(buf, len, DROP_TAG);
	}
}

/* Change 1..4 bytes, or cut or extend the datagram by 1..4 bytes. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	unsigned k = 1 + below(4), i;

	switch (below(8)) {
	case 0:
		return len - 1 - below(4);
	case 1: {
		size_t more = 1 + below(4);

		for (i = 0; i < more && len < cap; i++)
			buf[len++] = (uint8_t)rnd();
		return len;
	}
	default:
		for (i = 0; i < k; i++) {
			size_t at = below((unsigned)len);

			if (below(2))
				buf[at] ^= (uint8_t)(1u << below(8));
			else
				buf[at] = (uint8_t)rnd();
		}
		return len;
	}
}

static void mutated_messages(void **state)
{
	struct proto_msg m;
	uint8_t orig[PROTO_MAX_LEN], buf[PROTO_MAX_LEN + 8];
	size_t n, len;
	int round, same = 0;

	rng_state = 2;
	for (round = 0; round < RANDOM_ROUNDS; round++) {
		m = random_msg();
		n = (size_t)encode(&m, orig);
		memcpy(buf, orig, n);
		len = mutate(buf, n, sizeof(buf));
		if (len == n && memcmp(buf, orig, n) == 0) {
			same++;
			assert_drop(buf, len, DROP_NONE);
			continue;
		}
		/* Without the key, no change survives the tag. */
		assert_drop(buf, len,
			    len > PROTO_MAX_LEN ? DROP_LONG : DROP_TAG);
	}
	assert_true(same < RANDOM_ROUNDS / 100);
}

/* The same mutations, re-MACed: a keyed sender with a broken encoder.
 * These reach every rung of the ladder below the tag. */
static void remaced_mutations(void **state)
{
	unsigned seen[DROP_MAX] = { 0 };
	struct proto_msg m;
	uint8_t buf[PROTO_MAX_LEN + 8];
	size_t len;
	int round, i;

	rng_state = 3;
	for (round = 0; round < RANDOM_ROUNDS; round++) {
		m = random_msg();
		len = (size_t)encode(&m, buf);
		len = mutate(buf, len - PROTO_TAG_LEN, sizeof(buf)) +
		      PROTO_TAG_LEN;
		if (len <= PROTO_MAX_LEN)
			remac(buf, len);
		seen[check_datagram(buf, len)]++;
	}
	for (i = DROP_NONE; i < DROP_REPLAY; i++) {
		if (i == DROP_SHORT || i == DROP_TAG)
			continue;
		if (!seen[i])
			fail_msg("no re-MACed mutation gave drop %s",
				 proto_drop_name((enum proto_drop)i));
	}
}

static int setup(void **state)
{
	size_t i;

	if (sodium_init() < 0)
		return -1;
	for (i = 0; i < PROTO_KEY_LEN; i++) {
		key[i] = (uint8_t)(0x40 + i);
		other_key[i] = (uint8_t)(0x40 + i);
	}
	other_key[PROTO_KEY_LEN - 1] ^= 0x01;
	return 0;
}

#define ROUND_TRIP(i, name)                                                 \
	{ "round_trip_" #name, round_trip, NULL, NULL, (void *)&rows[i] }

int main(void)
{
	const struct CMUnitTest tests[] = {
		ROUND_TRIP(0, hello),
		ROUND_TRIP(1, heartbeat),
		ROUND_TRIP(2, ack),
		ROUND_TRIP(3, prevote_req),
		ROUND_TRIP(4, prevote_reply),
		ROUND_TRIP(5, vote_req),
		ROUND_TRIP(6, vote_reply),
		ROUND_TRIP(7, step_down),
		cmocka_unit_test(zero_message_round_trips),
		cmocka_unit_test(body_lengths),
		cmocka_unit_test(encode_rejects),
		cmocka_unit_test(drop_short_and_long),
		cmocka_unit_test(drop_tag),
		cmocka_unit_test(drop_magic_version_type),
		cmocka_unit_test(drop_length),
		cmocka_unit_test(drop_reserved),
		cmocka_unit_test(drop_cluster),
		cmocka_unit_test(drop_sender),
		cmocka_unit_test(ladder_order),
		cmocka_unit_test(replay),
		cmocka_unit_test(replay_rejects_bad_sender),
		cmocka_unit_test(cluster_id),
		cmocka_unit_test(names),
		cmocka_unit_test(random_datagrams),
		cmocka_unit_test(mutated_messages),
		cmocka_unit_test(remaced_mutations),
	};

	_Static_assert(NROWS == MSG_TYPE_MAX - MSG_HELLO,
		       "one round-trip row per message type");
	return cmocka_run_group_tests(tests, setup, NULL);
}
