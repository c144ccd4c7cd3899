/*
 * res_vip.c - the virtual IP as a resource (DESIGN.md, Resources).
 *
 * promote adds the address and announces it at once (gratuitous ARP or
 * unsolicited NA), then garp_count - 1 more times every garp_interval,
 * then every garp_refresh while primary if configured.  demote and
 * fence remove it.  vip.c is synchronous and bounded (netlink with a
 * timeout), so every step finishes before it returns.  There is nothing
 * to monitor: the VIP is always "healthy".
 */
#include <stdio.h>
#include <stdlib.h>

#include "res_int.h"
#include "vip.h"

struct vipres {
	uv_timer_t announce;
	uint32_t left;		/* announcements still to send */
	bool announce_failing;	/* reported once until one succeeds */
};

static const char *ifname(const struct res *r)
{
	return conf_vip_interface(&r->cr->vip, r->self_id);
}

static void announce_cb(uv_timer_t *t)
{
	struct res *r = t->data;
	struct vipres *v = r->priv;
	const struct conf_vip *vip = &r->cr->vip;
	struct hp_err err;

	if (vip_announce(vip, ifname(r), &err)) {
		if (!v->announce_failing)
			res_event(r, "%s (not repeated until an announcement "
				  "succeeds)", err.msg);
		v->announce_failing = true;
	} else {
		v->announce_failing = false;
	}
	if (v->left > 0)
		v->left--;
	if (v->left == 0) {
		if (vip->garp_refresh_ms)
			uv_timer_start(t, announce_cb, vip->garp_refresh_ms,
				       0);
		else
			uv_timer_stop(t);
		return;
	}
	uv_timer_start(t, announce_cb, vip->garp_interval_ms, 0);
}

static int vip_open(struct res *r, struct hp_err *err)
{
	struct vipres *v = calloc(1, sizeof(*v));

	if (!v)
		return hp_errf(err, "vip %s: out of memory", r->cr->vip.text);
	r->priv = v;
	r->state.healthy = true;
	snprintf(r->state.detail, sizeof(r->state.detail), "vip %s on %s",
		 r->cr->vip.text, ifname(r));
	uv_timer_init(r->loop, &v->announce);
	v->announce.data = r;
	return 0;
}

static void vip_close(struct res *r)
{
	struct vipres *v = r->priv;

	res_close_handle(r, (uv_handle_t *)&v->announce);
}

static void vip_promote(struct res *r, unsigned token)
{
	struct vipres *v = r->priv;
	const struct conf_vip *vip = &r->cr->vip;
	struct hp_err err;
	char note[128];

	if (vip_add(vip, ifname(r), &err)) {
		res_step_done(r, token, -1, err.msg);
		return;
	}
	/* First announcement now, the rest from the timer. */
	v->left = vip->garp_count;
	if (v->left)
		announce_cb(&v->announce);
	snprintf(note, sizeof(note), "vip %s added on %s", vip->text,
		 ifname(r));
	res_step_done(r, token, 0, note);
}

static int remove_vip(struct res *r, struct hp_err *err)
{
	struct vipres *v = r->priv;

	uv_timer_stop(&v->announce);
	v->left = 0;
	return vip_remove(&r->cr->vip, ifname(r), err);
}

static void vip_demote(struct res *r, uint8_t primary_id, unsigned token)
{
	struct hp_err err;

	if (remove_vip(r, &err))
		res_step_done(r, token, -1, err.msg);
	else
		res_step_done(r, token, 0, NULL);
}

static void vip_fence(struct res *r)
{
	struct hp_err err;

	if (remove_vip(r, &err))
		res_event(r, "fence: %s", err.msg);
}

static int vip_fence_sync(const struct conf *conf,
			  const struct conf_resource *cr, uint8_t self_id,
			  struct hp_err *err)
{
	return vip_remove(&cr->vip, conf_vip_interface(&cr->vip, self_id),
			  err);
}

const struct res_ops res_vip_ops = {
	.type = "vip",
	.data = false,
	.open = vip_open,
	.close = vip_close,
	.promote = vip_promote,
	.demote = vip_demote,
	.fence = vip_fence,
	.monitor = NULL,
	.set_sync = NULL,
	.fence_sync = vip_fence_sync,
};
