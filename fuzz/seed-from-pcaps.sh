#!/usr/bin/env bash
# fuzz/seed-from-pcaps.sh: writes the SIP messages of the real captures in
# pcaps/ (see pcaps/README.md for their source) as seed inputs of the SIP
# harnesses: one file per frame in fuzz/corpus/sip_wire/ and
# fuzz/corpus/sip_msg/, named pcap-FILE-FRAME, plus, for sip_msg, each
# capture's messages in order joined by NUL bytes (the harness feeds the
# parts as successive datagrams to a B2BUA). Needs tshark. Re-run after
# adding a capture; the output is committed.
set -eu
cd "$(dirname "$0")/.."
command -v tshark >/dev/null || { echo "seed-from-pcaps: tshark is missing (bash ci/install-deps.sh)" >&2; exit 1; }
for pcap in pcaps/*.pcap; do
	base=$(basename "$pcap" .pcap)
	flow=$(mktemp)
	# udp.payload or tcp.payload: whichever carried the SIP message.
	tshark -r "$pcap" -Y sip -T fields -E separator=, -e frame.number -e udp.payload -e tcp.payload 2>/dev/null |
		while IFS=, read -r frame udp tcp; do
			hex=${udp:-$tcp}
			[ -n "$hex" ] || continue
			for h in sip_wire sip_msg; do
				mkdir -p "fuzz/corpus/$h"
				printf '%s' "$hex" | xxd -r -p >"fuzz/corpus/$h/pcap-$base-$frame"
			done
			[ -s "$flow" ] && printf '\0' >>"$flow"
			printf '%s' "$hex" | xxd -r -p >>"$flow"
		done
	cp "$flow" "fuzz/corpus/sip_msg/flow-$base"
	chmod 644 "fuzz/corpus/sip_msg/flow-$base"
	rm -f "$flow"
done
