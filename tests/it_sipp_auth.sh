#!/usr/bin/env bash
# it_sipp_auth.sh: SIPp with SIP digest credentials against the live
# switch, whose config has no [trunk] for 127.0.0.1 (default deny) but a
# [user]: `sipp -sf tests/sipp/uac_auth.xml -au sipp -ap ...` gets 407 on each
# first INVITE and answers it ([authentication], MD5: SIPp 3.6 speaks no
# SHA-256, so [node] auth_algorithms = MD5). Passes when SIPp counts 1,000
# successful calls and 0 failed, /metrics counts 1,000 digest acceptances
# and 1,000 challenges, and every CDR (sqlite and CSV) carries the user's
# account. A run with a wrong password (-ap) must complete no call at all
# and leave the carrier untouched.
set -u
source "$(dirname "$0")/lib.sh"
calls=${SIPP_CALLS:-1000}
rate=${SIPP_RATE:-200}

require_switchyard
require_tool sipp sqlite3 python3
require_run "sipp" '^ *SIPp v[0-9]' sipp -v

pick_ports 5
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]} uac2=${PORTS[4]}
here=$(cd "$(dirname "$0")" && pwd)

cat >"$TMP/serve.scn" <<CONF
[node]
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $TMP/out
realm = sy.test
auth_algorithms = MD5
# one SIPp places every user's calls: 5 requests a call from one address,
# far above what pike allows a single phone (it is not a trunk)
pike_exempt = 127.0.0.1

[user sipp]
password = s3cret-digest
account = acme

[account acme]
type = postpaid

[carrier sipp-uas]
prefixes = 1 44
address = 127.0.0.1:$uas
capacity = 5000
CONF

start_switchyard serve serve "$TMP/serve.scn"
start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -buff_size 4194304 -trace_stat -stf "$TMP/uas_stat.csv" -fd 1
wait_port uas udp "$uas"

# SIPp's statistics file: successful and failed calls, last row.
stat_of() {
	python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index('SuccessfulCall(C)')], last[h.index('FailedCall(C)')])
PY
}

# 1. A wrong password: every call fails at the second 407, nothing routed.
(cd "$TMP" && timeout 60 sipp -sf "$here/sipp/uac_auth.xml" -s 14155550100 -au sipp -ap wrong-password \
	-i 127.0.0.1 -p "$uac2" -r 50 -m 20 -recv_timeout 3000 -nostdin -trace_stat -stf "$TMP/bad_stat.csv" \
	-fd 1 "127.0.0.1:$sw" >"$TMP/bad.log" 2>&1)
read -r bad_ok bad_failed < <(stat_of "$TMP/bad_stat.csv")
check "wrong password: SIPp successful calls" "${bad_ok:-none}" 0
check "wrong password: SIPp failed calls" "${bad_failed:-none}" 20
check "wrong password: /metrics bad credentials" "$(metric_settles "$http" switchyard_sip_auth_bad_credentials_total 20)" 20
check "wrong password: /metrics calls attempted" "$(metric "$http" switchyard_calls_attempted_total)" 0

# 2. The right password: 1,000 calls.
(cd "$TMP" && timeout 120 sipp -sf "$here/sipp/uac_auth.xml" -s 14155550100 -au sipp -ap s3cret-digest \
	-i 127.0.0.1 -p "$uac" -r "$rate" -m "$calls" -buff_size 4194304 -nostdin -trace_stat \
	-stf "$TMP/uac_stat.csv" -fd 1 "127.0.0.1:$sw" >"$TMP/uac.log" 2>&1)
uac_rc=$?
check "sipp uac exit status" "$uac_rc" 0
[ -s "$TMP/uac_stat.csv" ] || { show_log uac; fail "sipp uac wrote no statistics file"; }
read -r ok failed < <(stat_of "$TMP/uac_stat.csv")
check "SIPp successful calls" "${ok:-none}" "$calls"
check "SIPp failed calls" "${failed:-none}" 0
check "/metrics calls completed" "$(metric_settles "$http" switchyard_calls_completed_total "$calls")" "$calls"
check "/metrics digest acceptances" "$(metric "$http" switchyard_sip_auth_digest_total)" "$calls"
check "/metrics challenges" "$(metric "$http" switchyard_sip_auth_challenged_total)" "$((calls + 40))"
check "/metrics trunk acceptances" "$(metric "$http" switchyard_sip_auth_trunk_total)" 0
check "/metrics replays" "$(metric "$http" switchyard_sip_auth_replays_total)" 0
alive uas || { show_log uas; fail "sipp uas died during the run"; }

stop_clean serve
check "CDRs in sqlite" "$(sql "$TMP/out/cdrs.sqlite" 'select count(*) from cdrs')" "$calls"
check "CDRs of account acme" "$(sql "$TMP/out/cdrs.sqlite" "select count(*) from cdrs where account='acme' and disposition='ANSWERED'")" "$calls"
check "CSV rows of account acme" \
	"$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(sum(1 for x in r if x["account"]=="acme"))' "$TMP/out/cdrs.csv")" \
	"$calls"
[ "$SY_FAILS" = 0 ] || show_log uac 20
finish serve
