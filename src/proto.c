/*
 * proto.c - encode, authenticate and decode hapair datagrams.  PURE:
 * libc and libsodium only, no clock, no logging, no globals that change.
 *
 * The byte layout is in proto.h.  Bodies are described once, as a list
 * of fields per type (layout[] below); the encoder and the decoder walk
 * the same list, so they cannot disagree about an offset, and every byte
 * of a valid datagram maps to exactly one field or pad.  That makes the
 * codec a bijection: decoding then re-encoding gives back the same bytes,
 * which the fuzzer checks.
 *
 * proto_decode() is a ladder.  Nothing in the datagram is looked at
 * before the HMAC over all of it verifies, except its length; the checks
 * after the tag only tell a well-keyed but malformed or misdirected
 * message apart, each with its own drop reason for the metrics.
 */
#include "proto.h"

#include <sodium.h>
#include <string.h>

/* Header offsets; see the table in proto.h. */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 4,
	OFF_TYPE = 5,
	OFF_SENDER = 6,
	OFF_RESERVED = 7,
	OFF_CLUSTER = 8,
	OFF_TERM = 16,
	OFF_SEQ = 24,
	OFF_SEND_MS = 32,
};

/* Body fields.  F_END terminates a layout; pads must be zero. */
enum field {
	F_END = 0,
	F_PAD8,
	F_PAD16,
	F_FLAGS,
	F_ROLE,
	F_REASON,
	F_SYNC_SET,
	F_PRIORITY,
	F_LEASE_MS,
	F_WAIT_MS,
	F_POSITION,
	F_HB_SEQ,
	F_HB_SEND_MS,
	F_PAUSE_GEN,
	F_MAX
};

static const uint8_t field_size[F_MAX] = {
	[F_PAD8] = 1,	  [F_PAD16] = 2,    [F_FLAGS] = 1,
	[F_ROLE] = 1,	  [F_REASON] = 1,   [F_SYNC_SET] = 1,
	[F_PRIORITY] = 4, [F_LEASE_MS] = 4, [F_WAIT_MS] = 4,
	[F_POSITION] = 8, [F_HB_SEQ] = 8,   [F_HB_SEND_MS] = 8,
	[F_PAUSE_GEN] = 8,
};

enum { LAYOUT_MAX = 7 };

/* The bodies of proto.h, field by field, in wire order. */
static const uint8_t layout[MSG_TYPE_MAX][LAYOUT_MAX] = {
	[MSG_HELLO] = { F_ROLE, F_FLAGS, F_PAD16, F_POSITION, F_PRIORITY,
			F_PAUSE_GEN },
	[MSG_HEARTBEAT] = { F_FLAGS, F_SYNC_SET, F_PAD16, F_POSITION,
			    F_LEASE_MS },
	[MSG_ACK] = { F_FLAGS, F_PAD8, F_PAD16, F_HB_SEQ, F_HB_SEND_MS,
		      F_POSITION },
	[MSG_PREVOTE_REQ] = { F_FLAGS, F_PAD8, F_PAD16, F_POSITION },
	[MSG_PREVOTE_REPLY] = { F_FLAGS, F_REASON, F_PAD16, F_WAIT_MS,
				F_HB_SEND_MS },
	[MSG_VOTE_REQ] = { F_FLAGS, F_PAD8, F_PAD16, F_POSITION },
	[MSG_VOTE_REPLY] = { F_FLAGS, F_REASON, F_PAD16, F_WAIT_MS },
	[MSG_STEP_DOWN] = { F_FLAGS, F_PAD8, F_PAD16, F_POSITION },
};

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static bool type_known(uint8_t type)
{
	return type >= MSG_HELLO && type < MSG_TYPE_MAX;
}

static bool is_pad(uint8_t f)
{
	return f == F_PAD8 || f == F_PAD16;
}

int proto_body_len(uint8_t type)
{
	const uint8_t *f;
	int n = 0;

	if (!type_known(type))
		return -1;
	for (f = layout[type]; f < layout[type] + LAYOUT_MAX && *f; f++)
		n += field_size[*f];
	return n;
}

static uint64_t field_get(const struct proto_msg *m, uint8_t f)
{
	switch (f) {
	case F_FLAGS:		return m->flags;
	case F_ROLE:		return m->role;
	case F_REASON:		return m->reason;
	case F_SYNC_SET:	return m->sync_set;
	case F_PRIORITY:	return m->priority;
	case F_LEASE_MS:	return m->lease_ms;
	case F_WAIT_MS:		return m->wait_ms;
	case F_POSITION:	return m->position;
	case F_HB_SEQ:		return m->hb_seq;
	case F_HB_SEND_MS:	return m->hb_send_ms;
	case F_PAUSE_GEN:	return m->pause_gen;
	default:		return 0; /* pads */
	}
}

/* v was read with field_size[f] bytes, so the narrowing casts are exact. */
static void field_set(struct proto_msg *m, uint8_t f, uint64_t v)
{
	switch (f) {
	case F_FLAGS:		m->flags = (uint8_t)v; break;
	case F_ROLE:		m->role = (uint8_t)v; break;
	case F_REASON:		m->reason = (uint8_t)v; break;
	case F_SYNC_SET:	m->sync_set = (uint8_t)v; break;
	case F_PRIORITY:	m->priority = (uint32_t)v; break;
	case F_LEASE_MS:	m->lease_ms = (uint32_t)v; break;
	case F_WAIT_MS:		m->wait_ms = (uint32_t)v; break;
	case F_POSITION:	m->position = v; break;
	case F_HB_SEQ:		m->hb_seq = v; break;
	case F_HB_SEND_MS:	m->hb_send_ms = v; break;
	case F_PAUSE_GEN:	m->pause_gen = v; break;
	default:		break; /* pads */
	}
}

static void put_body(const struct proto_msg *m, uint8_t *p)
{
	const uint8_t *f = layout[m->type];

	for (; f < layout[m->type] + LAYOUT_MAX && *f; f++) {
		put_be(p, field_get(m, *f), field_size[*f]);
		p += field_size[*f];
	}
}

static void get_body(const uint8_t *p, struct proto_msg *m)
{
	const uint8_t *f = layout[m->type];

	for (; f < layout[m->type] + LAYOUT_MAX && *f; f++) {
		field_set(m, *f, get_be(p, field_size[*f]));
		p += field_size[*f];
	}
}

static bool pads_zero(uint8_t type, const uint8_t *p)
{
	const uint8_t *f = layout[type];

	for (; f < layout[type] + LAYOUT_MAX && *f; f++) {
		if (is_pad(*f) && get_be(p, field_size[*f]) != 0)
			return false;
		p += field_size[*f];
	}
	return true;
}

int proto_encode(const struct proto_msg *msg, const uint8_t key[PROTO_KEY_LEN],
		 uint8_t *buf, size_t cap)
{
	int blen = proto_body_len(msg->type);
	size_t len;

	if (blen < 0)
		return -1;
	len = (size_t)(PROTO_HDR_LEN + blen + PROTO_TAG_LEN);
	if (cap < len)
		return -1;
	put_be(buf + OFF_MAGIC, PROTO_MAGIC, 4);
	buf[OFF_VERSION] = PROTO_VERSION;
	buf[OFF_TYPE] = msg->type;
	buf[OFF_SENDER] = msg->sender;
	buf[OFF_RESERVED] = 0;
	put_be(buf + OFF_CLUSTER, msg->cluster, 8);
	put_be(buf + OFF_TERM, msg->term, 8);
	put_be(buf + OFF_SEQ, msg->seq, 8);
	put_be(buf + OFF_SEND_MS, msg->send_ms, 8);
	put_body(msg, buf + PROTO_HDR_LEN);
	crypto_auth_hmacsha256(buf + len - PROTO_TAG_LEN, buf,
			       len - PROTO_TAG_LEN, key);
	return (int)len;
}

/* The ladder of proto_decode(), in the order proto.h documents.  Returns
 * DROP_NONE if the datagram is one valid message for us. */
static enum proto_drop check(const uint8_t *buf, size_t len,
			     const uint8_t key[PROTO_KEY_LEN], uint64_t cluster,
			     uint8_t self_id)
{
	size_t mac_len;
	uint8_t type, sender;
	int blen;

	if (len < PROTO_HDR_LEN + PROTO_TAG_LEN)
		return DROP_SHORT;
	if (len > PROTO_MAX_LEN)
		return DROP_LONG;
	mac_len = len - PROTO_TAG_LEN;
	/* Constant time; the only check on bytes nobody has vouched for. */
	if (crypto_auth_hmacsha256_verify(buf + mac_len, buf, mac_len, key))
		return DROP_TAG;
	if (get_be(buf + OFF_MAGIC, 4) != PROTO_MAGIC)
		return DROP_MAGIC;
	if (buf[OFF_VERSION] != PROTO_VERSION)
		return DROP_VERSION;
	type = buf[OFF_TYPE];
	blen = proto_body_len(type);
	if (blen < 0)
		return DROP_TYPE;
	if (mac_len - PROTO_HDR_LEN != (size_t)blen)
		return DROP_LENGTH;
	if (buf[OFF_RESERVED] != 0 || !pads_zero(type, buf + PROTO_HDR_LEN))
		return DROP_RESERVED;
	if (get_be(buf + OFF_CLUSTER, 8) != cluster)
		return DROP_CLUSTER;
	sender = buf[OFF_SENDER];
	if (sender < 1 || sender > PROTO_MAX_NODE || sender == self_id)
		return DROP_SENDER;
	return DROP_NONE;
}

int proto_decode(const uint8_t *buf, size_t len,
		 const uint8_t key[PROTO_KEY_LEN], uint64_t cluster,
		 uint8_t self_id, struct proto_msg *out, enum proto_drop *why)
{
	enum proto_drop d = check(buf, len, key, cluster, self_id);

	if (why)
		*why = d;
	if (d != DROP_NONE)
		return -1;
	memset(out, 0, sizeof(*out));
	out->type = buf[OFF_TYPE];
	out->sender = buf[OFF_SENDER];
	out->cluster = get_be(buf + OFF_CLUSTER, 8);
	out->term = get_be(buf + OFF_TERM, 8);
	out->seq = get_be(buf + OFF_SEQ, 8);
	out->send_ms = get_be(buf + OFF_SEND_MS, 8);
	get_body(buf + PROTO_HDR_LEN, out);
	return 0;
}

bool proto_replay_check(struct proto_replay *r, const struct proto_msg *msg)
{
	if (msg->sender < 1 || msg->sender > PROTO_MAX_NODE)
		return false;
	if (msg->seq <= r->last_seq[msg->sender])
		return false;
	r->last_seq[msg->sender] = msg->seq;
	return true;
}

uint64_t proto_cluster_id(const char *name)
{
	/* libsodium's shortest BLAKE2b output is 16 bytes; use its head. */
	uint8_t h[crypto_generichash_BYTES_MIN];
	uint64_t id;

	if (!name)
		name = "";
	crypto_generichash(h, sizeof(h), (const unsigned char *)name,
			   strlen(name), NULL, 0);
	id = get_be(h, 8);
	/* 0 is never a cluster id, so a zeroed struct never matches. */
	return id ? id : 1;
}

const char *proto_type_name(uint8_t type)
{
	static const char *const names[MSG_TYPE_MAX] = {
		[MSG_HELLO] = "hello",
		[MSG_HEARTBEAT] = "heartbeat",
		[MSG_ACK] = "ack",
		[MSG_PREVOTE_REQ] = "prevote_req",
		[MSG_PREVOTE_REPLY] = "prevote_reply",
		[MSG_VOTE_REQ] = "vote_req",
		[MSG_VOTE_REPLY] = "vote_reply",
		[MSG_STEP_DOWN] = "step_down",
	};

	return type_known(type) ? names[type] : "unknown";
}

const char *proto_drop_name(enum proto_drop why)
{
	static const char *const names[DROP_MAX] = {
		[DROP_NONE] = "none",
		[DROP_SHORT] = "short",
		[DROP_LONG] = "long",
		[DROP_TAG] = "tag",
		[DROP_MAGIC] = "magic",
		[DROP_VERSION] = "version",
		[DROP_TYPE] = "type",
		[DROP_LENGTH] = "length",
		[DROP_CLUSTER] = "cluster",
		[DROP_SENDER] = "sender",
		[DROP_RESERVED] = "reserved",
		[DROP_REPLAY] = "replay",
	};

	return (unsigned)why < DROP_MAX ? names[why] : "unknown";
}

const char *proto_reason_name(uint8_t reason)
{
	static const char *const names[RR_MAX] = {
		[RR_NONE] = "none",
		[RR_STALE_TERM] = "stale_term",
		[RR_PROMISE] = "promise",
		[RR_GRACE] = "grace",
		[RR_VOTED] = "voted",
		[RR_BEHIND] = "behind",
		[RR_NOT_SYNCED] = "not_synced",
		[RR_UNFIT] = "unfit",
	};

	return reason < RR_MAX ? names[reason] : "unknown";
}
