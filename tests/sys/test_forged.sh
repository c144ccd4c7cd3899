#!/bin/bash
#
# test_forged.sh - forged, replayed, truncated, oversized, other-cluster
# and other-version datagrams sent at the primary from the client's
# namespace are dropped and counted by reason, and change nothing: the
# same primary keeps the VIP in the same term, no dual holder.
#
#   c (192.0.2.10) --forge.py--> a or b (the primary), UDP 5405
#
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FORGE=$HP_REPO/tests/tools/forge.py

hp_cluster_up 20ms 200ms
p=$HP_PRIMARY
term=$(hp_term "$p")
name=$(hp_field "$p" .cluster)

# kind -> the drop counter it must be counted under (random bytes of
# random length fall under short, tag or long: the sum of all)
declare -A counter=([random]='[.rx_dropped[]] | add'
	[short]=.rx_dropped.short [long]=.rx_dropped.long
	[badtag]=.rx_dropped.tag [cluster]=.rx_dropped.cluster
	[version]=.rx_dropped.version [replay]=.rx_dropped.replay)

for kind in random short long badtag cluster version replay; do
	c=${counter[$kind]}
	before=$(hp_field "$p" "$c")
	# HELLOs claim to come from the primary's peer (from the primary
	# itself they would be counted as "sender", not as replays).
	in_ns c "$FORGE" "$HP_TMP/key" "$name" "$(node_addr "$p")" 5405 \
		"$kind" 50 "$(node_id "$(peer_of "$p")")"
	# Counting is asynchronous to our send: poll for it.
	wait_for "$kind datagrams counted as dropped ($c)" 3000 \
		hp_field "$p" "($c) >= $((before + 50))"
	ok "$kind datagrams counted as dropped ($c)"
	assert_true "$p still the one primary after $kind datagrams" \
		primary_is "$p"
done

hold_for "$p stays primary for 3 leases after the attack" "$(leases 3)" \
	primary_is "$p"
assert_eq "$p's term unchanged" "$term" "$(hp_term "$p")"
assert_eq "rx_ok still counts real traffic" true \
	"$(hp_field "$p" '.counters.rx_ok > 0')"

vipwatch_stop
assert_no_dual_holder
