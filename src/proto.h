/*
 * proto.h - the hapair wire protocol on one screen.  PURE.
 *
 * One UDP datagram carries one message:
 *
 *   offset size  field
 *        0    4  magic      "HAPR" (0x48415052)
 *        4    1  version    PROTO_VERSION
 *        5    1  type       enum proto_type
 *        6    1  sender     node id, 1..PROTO_MAX_NODE
 *        7    1  reserved   must be 0
 *        8    8  cluster    cluster id (proto_cluster_id() of its name)
 *       16    8  term
 *       24    8  seq        per-sender, strictly increasing (replay guard)
 *       32    8  send_ms    sender's monotonic clock, milliseconds
 *       40    n  body       fixed size per type, see proto_body_len()
 *     40+n   32  tag        HMAC-SHA256 over bytes [0, 40+n) with the key
 *
 * All integers are big-endian.  Bodies (all integers big-endian):
 *
 *   HELLO         role u8, flags u8, pad u16(0), position u64, priority u32,
 *                 pause_gen u64
 *   HEARTBEAT     flags u8, sync_set u8, pad u16(0), position u64,
 *                 lease_ms u32
 *   ACK           flags u8, pad u8(0) u16(0), hb_seq u64, hb_send_ms u64,
 *                 position u64
 *   PREVOTE_REQ   flags u8, pad u8(0) u16(0), position u64
 *   PREVOTE_REPLY flags u8, reason u8, pad u16(0), wait_ms u32,
 *                 hb_send_ms u64 (the request's send_ms: which round)
 *   VOTE_REQ      flags u8, pad u8(0) u16(0), position u64
 *   VOTE_REPLY    flags u8, reason u8, pad u16(0), wait_ms u32
 *   STEP_DOWN     flags u8, pad u8(0) u16(0), position u64
 *
 * Which fields a type uses is listed in struct proto_msg.  Unused fields
 * are encoded as zero and decoded as zero.
 */
#ifndef HAPAIR_PROTO_H
#define HAPAIR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PROTO_MAGIC = 0x48415052u,
	PROTO_VERSION = 3,
	PROTO_HDR_LEN = 40,
	PROTO_TAG_LEN = 32,
	PROTO_KEY_LEN = 32,
	PROTO_MAX_BODY = 28, /* ACK: 4 + hb_seq + hb_send_ms + position */
	PROTO_MAX_LEN = PROTO_HDR_LEN + PROTO_MAX_BODY + PROTO_TAG_LEN,
	PROTO_MAX_NODE = 3, /* two agents and the witness */
	PROTO_DEFAULT_PORT = 5405,
};

enum proto_type {
	MSG_HELLO = 1,	    /* periodic liveness + role/position, all voters */
	MSG_HEARTBEAT,	    /* primary -> voters: renew lease */
	MSG_ACK,	    /* voter -> primary: promise made (or refused) */
	MSG_PREVOTE_REQ,    /* would you vote for me in term+1? */
	MSG_PREVOTE_REPLY,
	MSG_VOTE_REQ,	    /* vote for me in this term */
	MSG_VOTE_REPLY,
	MSG_STEP_DOWN,	    /* primary fenced itself: release its promise */
	MSG_TYPE_MAX
};

/* Flag bits in the body's flags byte. */
enum proto_flag {
	PF_HAS_POSITION = 1u << 0, /* position field is meaningful */
	PF_GRANTED = 1u << 1,	   /* ACK / *_REPLY: yes */
	PF_HEALTHY = 1u << 2,	   /* HELLO: sender's checks pass */
	PF_COLD = 1u << 3,	   /* PREVOTE/VOTE: candidate has no primary
				    * or peer seen since it started */
	PF_PAUSED = 1u << 4,	   /* HELLO: automatic failover paused (as of
				    * pause_gen) */
	PF_SWITCHOVER = 1u << 5,   /* STEP_DOWN: planned, standby goes now;
				    * HEARTBEAT: a switchover waits for the
				    * standby's position: report it soon */
	PF_IN_SYNC = 1u << 6,	   /* ACK: sender's replication link to the
				    * primary is up (its data follows) */
	PF_ASYNC = 1u << 7,	   /* HEARTBEAT: position is the primary's own
				    * (async mode), not a committed one */
};

/* Why a vote or pre-vote was refused (PREVOTE_REPLY, VOTE_REPLY). */
enum proto_reason {
	RR_NONE = 0,
	RR_STALE_TERM,	/* request's term below voter's */
	RR_PROMISE,	/* voter holds a live promise to a primary */
	RR_GRACE,	/* voter restarted less than lease*(1+drift) ago */
	RR_VOTED,	/* voter already voted for another in that term */
	RR_BEHIND,	/* candidate's position behind what is committed */
	RR_NOT_SYNCED,	/* witness record: candidate not in sync */
	RR_UNFIT,	/* voter is a healthy primary or can't judge */
	RR_MAX
};

/* Why proto_decode() or the replay filter dropped a datagram.  Each is
 * a label of hapair_rx_dropped_total{reason=...}. */
enum proto_drop {
	DROP_NONE = 0,
	DROP_SHORT,	/* shorter than header + tag */
	DROP_LONG,	/* longer than PROTO_MAX_LEN */
	DROP_TAG,	/* HMAC does not verify: forged or wrong key */
	DROP_MAGIC,
	DROP_VERSION,
	DROP_TYPE,	/* unknown message type */
	DROP_LENGTH,	/* body length does not match the type */
	DROP_CLUSTER,	/* other cluster id */
	DROP_SENDER,	/* sender id out of range, or ourselves */
	DROP_RESERVED,	/* reserved/pad bytes not zero */
	DROP_REPLAY,	/* seq at or below the last seen from that sender */
	DROP_MAX
};

/* A decoded message.  Header fields first, then the union of all body
 * fields; each type uses the subset documented in the layout above. */
struct proto_msg {
	uint8_t type;	   /* enum proto_type */
	uint8_t sender;	   /* 1..PROTO_MAX_NODE */
	uint64_t cluster;
	uint64_t term;
	uint64_t seq;
	uint64_t send_ms;

	uint8_t flags;	   /* enum proto_flag bits */
	uint8_t role;	   /* HELLO: enum elect_role of the sender */
	uint8_t reason;	   /* *_REPLY: enum proto_reason */
	uint8_t sync_set;  /* HEARTBEAT: bit (1 << id) per node in sync */
	uint32_t priority; /* HELLO */
	uint32_t lease_ms; /* HEARTBEAT: sender's configured lease */
	uint32_t wait_ms;  /* *_REPLY refused with RR_PROMISE/RR_GRACE:
			    * how long until the voter could say yes */
	uint64_t position; /* data position, valid if PF_HAS_POSITION */
	uint64_t hb_seq;   /* ACK: seq of the heartbeat acknowledged */
	uint64_t hb_send_ms; /* ACK: that heartbeat's send_ms, echoed;
			      * PREVOTE_REPLY: the request's */
	uint64_t pause_gen; /* HELLO: generation of the sender's pause
			     * setting; the higher one wins */
};

/* Per-sender replay filter: last accepted seq from each node id. */
struct proto_replay {
	uint64_t last_seq[PROTO_MAX_NODE + 1];
};

/* Body length for a type, or -1 if the type is unknown. */
int proto_body_len(uint8_t type);

/* Encode msg into buf (at least PROTO_MAX_LEN bytes) and append the HMAC.
 * Returns the datagram length, or -1 if msg->type is unknown or cap is
 * below that length. */
int proto_encode(const struct proto_msg *msg, const uint8_t key[PROTO_KEY_LEN],
		 uint8_t *buf, size_t cap);

/* Decode and authenticate one datagram.  Checks, in order: size bounds,
 * HMAC over the whole datagram (constant time), magic, version, type,
 * body length, reserved bytes, cluster, sender (1..PROTO_MAX_NODE and not
 * self_id).  Nothing in buf is trusted before the tag verifies.  Returns
 * 0 and fills *out, or -1 and sets *why.  Does not check replay: call
 * proto_replay_check() after, with the filter of the receiving node. */
int proto_decode(const uint8_t *buf, size_t len,
		 const uint8_t key[PROTO_KEY_LEN], uint64_t cluster,
		 uint8_t self_id, struct proto_msg *out, enum proto_drop *why);

/* Accept msg only if its seq is above the last accepted from its sender;
 * on accept, remember it.  Returns true if accepted. */
bool proto_replay_check(struct proto_replay *r, const struct proto_msg *msg);

/* Cluster id from the cluster's name: first 8 bytes, big-endian, of
 * BLAKE2b-128(name) (crypto_generichash with a 16-byte output, unkeyed);
 * 0 becomes 1. */
uint64_t proto_cluster_id(const char *name);

const char *proto_type_name(uint8_t type);
const char *proto_drop_name(enum proto_drop why);
const char *proto_reason_name(uint8_t reason);

#endif
