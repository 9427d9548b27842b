#!/usr/bin/env bash
# it_sipp_dialog.sh: dialogs beyond INVITE/BYE, with SIPp on both sides of
# the live switch (scenarios in tests/sipp/):
#  - uac_dialog.xml -> serve -> uas_dialog.xml: hold with a re-INVITE and
#    resume with UPDATE, each offer and answer relayed end to end (both SIPp
#    scenarios check the other side's SDP with ereg check_it), then BYE;
#    the caller also checks our 200 carries Session-Expires (RFC 4028).
#  - uac_cancel.xml -> serve -> uas_cancel_race.xml: the caller cancels after
#    180 and the carrier answers 200 anyway (the CANCEL/200 race): the
#    switch ACKs and BYEs the carrier (the SIPp uas waits for both) and the
#    CDR says CANCELLED.
# Then /metrics shows no call left and, after SIGTERM, the CDRs say so.
set -u
source "$(dirname "$0")/lib.sh"
calls=${SIPP_DIALOG_CALLS:-20}
here=$(cd "$(dirname "$0")" && pwd)

require_switchyard
require_tool sipp sqlite3 python3
require_run "sipp" '^ *SIPp v[0-9]' sipp -v

pick_ports 6
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]} race=${PORTS[4]} uac2=${PORTS[5]}

cat >"$TMP/serve.scn" <<CONF
[node]
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $TMP/out

[trunk local]
address = 127.0.0.1

[carrier dialog]
prefixes = 1
address = 127.0.0.1:$uas

[carrier race]
prefixes = 44
address = 127.0.0.1:$race
CONF

start_switchyard serve serve "$TMP/serve.scn"
# -m: each carrier exits after its calls, 0 only if every one ran to the end
# of its scenario (for the race: the switch's ACK and BYE came)
start uas sipp -sf "$here/sipp/uas_dialog.xml" -i 127.0.0.1 -p "$uas" -m "$calls" -nostdin
start race sipp -sf "$here/sipp/uas_cancel_race.xml" -i 127.0.0.1 -p "$race" -m "$calls" -nostdin
wait_port uas udp "$uas"
wait_port race udp "$race"

# SIPp's counts from its stat file: successful and failed calls.
sipp_counts() {
	python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index('SuccessfulCall(C)')], last[h.index('FailedCall(C)')])
PY
}

run_uac() { # name scenario service port
	(cd "$TMP" && timeout 60 sipp -sf "$here/sipp/$2" -s "$3" -i 127.0.0.1 -p "$4" -r 10 -m "$calls" \
		-nostdin -trace_stat -stf "$TMP/$1_stat.csv" -trace_err -error_file "$TMP/$1_err.log" \
		"127.0.0.1:$sw" >"$TMP/$1.log" 2>&1)
	check "sipp $1 exit status" "$?" 0
	[ -s "$TMP/$1_stat.csv" ] || { show_log "$1"; fail "sipp $1 wrote no statistics file"; }
	read -r ok failed < <(sipp_counts "$TMP/$1_stat.csv")
	check "SIPp $1 successful calls" "${ok:-none}" "$calls"
	check "SIPp $1 failed calls" "${failed:-none}" 0
	[ "${failed:-1}" = 0 ] || tail -40 "$TMP/$1_err.log" 2>/dev/null
}

run_uac dialog uac_dialog.xml 14155550123 "$uac"
run_uac cancel uac_cancel.xml 442071234567 "$uac2"

check "/metrics re-INVITEs and UPDATEs relayed" \
	"$(metric_settles "$http" switchyard_calls_relayed_total $((2 * calls)))" $((2 * calls))
check "/metrics calls active" "$(metric_settles "$http" switchyard_calls_active 0)" 0
# the carrier side of both: every scenario instance ran to its end
for n in uas race; do
	pid=${PID[$n]}
	sy_wait_gone "$pid" 30 || { show_log "$n"; fail "sipp $n did not finish its $calls calls"; }
	wait "$pid"
	check "sipp $n (carrier) exit status" "$?" 0
	PID[$n]=
done

stop_clean serve
db=$TMP/out/cdrs.sqlite
check "CDRs" "$(sql "$db" 'select count(*) from cdrs')" $((2 * calls))
check "answered CDRs (dialog)" \
	"$(sql "$db" "select count(*) from cdrs where disposition='ANSWERED' and carrier='dialog'")" "$calls"
check "cancelled CDRs (race)" \
	"$(sql "$db" "select count(*) from cdrs where disposition='CANCELLED' and carrier='race'")" "$calls"
[ "$SY_FAILS" = 0 ] || { show_log uas 30; show_log race 30; }
finish serve
