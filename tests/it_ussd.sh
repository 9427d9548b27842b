#!/usr/bin/env bash
# it_ussd.sh: the USSD gateway live (docs/ussd.md, "Live: serve and load").
# A real application written with the npm package ussd-menu-builder
# (tests/npm/ussd_app.js, behind node's http server) answers *384#;
# `switchyard serve` runs the gateway with an accept-mode [ussd-link] (a
# hashed password), [ussd-service *384#] pointing at the application, a
# declared [ussd-menu] on *100#, and *385# pointing at a path where the
# application never answers. `switchyard load` is the operator's USSD node:
# its handsets bind over SMPP and dial.
#  1. 200 dialogues at 20/s through every level of both menus (the
#     application's three levels, inputs dialled with the code, an invalid
#     input, the declared menu): every handset dialogue completes with the
#     END text of its path, every screen as the menu shows it and in order
#     (the expected screens computed here from the menus, not from
#     switchyard's output: a model of ussd_app.js and of the declared menu);
#     the UDRs (udrs.csv and udrs.sqlite) match the transcripts one to one
#     (msisdn, code, steps, inputs, end, last text; the UDR's id is the
#     sessionId the application got); the application saw for each session
#     the `text` values its inputs joined by '*' give, with its phoneNumber
#     and serviceCode; /metrics' ussd counters say the same.
#  2. Outage: the application is killed mid-run (once *385# has timed out
#     at least once): every dialogue still ends at the handset (no hang, no
#     handset timeout): completed with its END text, or the gateway's error
#     text with UDR end app_error, or (*385#) its error text with UDR end
#     app_timeout; no session is left open.
#  3. SIGTERM to serve with 10 dialogues open: each handset gets the error
#     text (a clean release), each session a UDR with outcome shutdown,
#     serve exits 0.
# Break-once hooks, each seen to fail (USSD_BREAK=NAME, names below in
# break_on calls): screens, order, dial, udr, udr_sqlite, applog, metrics,
# outage, open, shutdown.
set -u
source "$(dirname "$0")/lib.sh"
SESSIONS=200 RATE=20 SESSIONS2=120 RATE2=15 SESSIONS3=10

require_switchyard
[ -x "$PWD/$BUILD/switchyard-load" ] || fail "$BUILD/switchyard-load is missing: build it first"
require_tool node python3 sqlite3
[ -d tests/npm/node_modules/ussd-menu-builder ] || fail "tests/npm/node_modules/ussd-menu-builder is missing (bash ci/install-deps.sh)"
LOAD="$PWD/$BUILD/switchyard-load"

# break_on NAME: true when USSD_BREAK names this check (to see it fail once).
break_on() { [[ ",${USSD_BREAK:-}," == *",$1,"* ]]; }

pick_ports 4
sip=${PORTS[0]} http=${PORTS[1]} link=${PORTS[2]} app=${PORTS[3]}
hash=$(printf 'Op3rat0r\n' | "$SY" passwd --iter 1000) || fail "switchyard passwd failed"

cat >"$TMP/serve.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
http = 127.0.0.1:$http
out = $TMP/out

[ussd]
listen = 127.0.0.1:$link
app_timeout = 5s
session_timeout = 60s

[ussd-link operator]
mode = accept
system_id = opnode
password = $hash
session_ref = its_session_info
release_op = 32

[ussd-service *384#]
url = http://127.0.0.1:$app/ussd
timeout = 3s
retries = 1

[ussd-service *385#]
url = http://127.0.0.1:$app/hang
timeout = 1s
retries = 0

[ussd-service *100#]
menu = bundles

[ussd-menu bundles]
start = main
screen main = Data bundles\n1. Daily\n2. Weekly\n3. Gift
option main 1 = daily
option main 2 = weekly
option main 3 = gift
end daily = Daily bundle: 50 MB
screen weekly = Weekly bundle\n1. 500 MB\n2. 2 GB
option weekly 1 = w500
option weekly 2 = w2g
end w500 = Weekly bundle: 500 MB
end w2g = Weekly bundle: 2 GB
screen gift = Number to gift to:
input gift = gifted
end gifted = Bundle gifted to {input}
CONF

# write_load NAME SESSIONS RATE CODES PATHS: the handsets' scenario.
write_load() {
	cat >"$TMP/$1.scn" <<SCN
[run]
duration = 60s
drain = 30s

# the handsets' clock starts once the node has bound: every session asked
# for is dialled
[traffic ussd]
rate = $3
sessions = $2
codes = $4
paths = $5
think = 20ms
handsets = 100000
msisdn = 2547XXXXXXXX
system_id = opnode
password = Op3rat0r
SCN
}

# Paths: the application's three levels (balance; send money: number,
# amount; airtime for myself / for another number), inputs dialled with the
# code ("1#", "3*1#50"), an invalid input first ("9*1"); the declared menu's
# two levels, its free-text input and an invalid choice.
write_load load1 "$SESSIONS" "$RATE" "*384# 80%, *100# 20%" \
	"*384#: 1 20%, 9*1 10%, 2*0712345678*500 20%, 3*1*50 15%, 3*1#75 10%, 2#0712345678*500 5%, 3*2*0799000111*20 20%; *100#: 1 25%, 2*2 25%, 3*0711222333 25%, 7*2*1 25%"


# wait_exit NAME SECONDS: NAME (a load) ends by itself within the bound;
# STATUS is its exit status. Past the bound it is a failure (log shown).
wait_exit() {
	if ! sy_wait_gone "${PID[$1]}" "$2"; then
		show_log "$1"
		fail "$1 did not finish within $2 s"
	fi
	wait "${PID[$1]}" 2>/dev/null
	STATUS=$?
	PID[$1]=
}

# verify TRANSCRIPTS APPLOG SQLITE: the checks, in one pass over the
# handsets' transcripts (load --ussd-log), the application's log and the
# UDRs in $TMP/out (udrs.csv; udrs.sqlite too when SQLITE is 1, after serve
# stopped). One line per check, "NAME<TAB>GOT<TAB>WANT", then facts
# ("ends", "paths", "app_requests") for the shell's checks.
verify() {
	USSD_BREAK=${USSD_BREAK:-} python3 - "$@" "$TMP/out" <<'PY'
import collections, csv, json, os, re, sqlite3, sys

tr_path, app_path, sqlite_too, udr_dir = sys.argv[1:5]
brk = set(os.environ['USSD_BREAK'].split(','))
FAILED_TEXTS = ('Service unavailable. Try later.', 'Session timed out.')  # [ussd] error_text, timeout_text

# ---- the application's menu (tests/npm/ussd_app.js), modelled from its
# source the way ussd-menu-builder resolves a request: the whole `text`
# walked from the start state; an input no rule of a state takes stays on
# that state (its defaultNext is itself); the state reached renders.
NUMBER, AMOUNT = re.compile(r'^\d{4,15}$'), re.compile(r'^\d{1,7}$')
NEXT = {
    'start': [('1', 'balance'), ('2', 'send'), ('3', 'airtime')],
    'send': [(NUMBER, 'send.number')], 'send.number': [(AMOUNT, 'send.amount')],
    'airtime': [('1', 'airtime.self'), ('2', 'airtime.other')],
    'airtime.self': [(AMOUNT, 'airtime.self.amount')],
    'airtime.other': [(NUMBER, 'airtime.other.number')],
    'airtime.other.number': [(AMOUNT, 'airtime.other.amount')],
}

def resolve(parts):
    st, val = 'start', ''
    for p in parts:
        val = p
        for rule, nxt in NEXT.get(st, []):
            if (rule == p) if isinstance(rule, str) else rule.search(p):
                st = nxt
                break
    return st, val

def app_render(st, val, phone, store):
    money = 'KES 999.00' if 'screens' in brk else 'KES 1000.00'
    r = {'start': (False, 'Switchyard Money\n1. Balance\n2. Send money\n3. Airtime'),
         'balance': (True, 'Balance of %s: %s' % (phone, money)),
         'send': (False, 'Enter recipient number:'),
         'airtime': (False, 'Airtime\n1. For myself\n2. For another number'),
         'airtime.self': (False, 'Amount of airtime:'),
         'airtime.self.amount': (True, 'Bought %s airtime for %s' % (val, phone)),
         'airtime.other': (False, 'Number to top up:')}.get(st)
    if r: return r
    if st in ('send.number', 'airtime.other.number'):  # the session store keeps the number
        store['to'] = val
        return False, ('Amount to send to %s:' if st == 'send.number' else 'Amount of airtime for %s:') % val
    fmt = 'Sent %s to %s' if st == 'send.amount' else 'Bought %s airtime for %s'
    return True, fmt % (val, store.get('to', 'undefined'))

def app_dialogue(first, answers, phone):
    """[(end, text)] the application answers, and the `text` of each request."""
    inputs = first.split('*') if first else []
    out, texts, store = [], [], {}
    for k in range(len(answers) + 1):
        parts = inputs + answers[:k]
        texts.append('*'.join(parts))
        out.append(app_render(*resolve(parts), phone, store))
        if out[-1][0]: break
    return out, texts

# ---- the declared menu, [ussd-menu bundles] in serve.scn
MENU = {'main': ('Data bundles\n1. Daily\n2. Weekly\n3. Gift', {'1': 'daily', '2': 'weekly', '3': 'gift'}, None),
        'weekly': ('Weekly bundle\n1. 500 MB\n2. 2 GB', {'1': 'w500', '2': 'w2g'}, None),
        'gift': ('Number to gift to:', {}, 'gifted')}
ENDS = {'daily': 'Daily bundle: 50 MB', 'w500': 'Weekly bundle: 500 MB', 'w2g': 'Weekly bundle: 2 GB',
        'gifted': 'Bundle gifted to {input}'}

def menu_dialogue(first, answers):
    node = 'main'
    def step(inp):
        nonlocal node
        text, opts, any_next = MENU[node]
        nxt = opts.get(inp, any_next if inp else None)
        if nxt is None:  # invalid: the text, then the same screen
            return False, 'Invalid choice.\n' + text.replace('{input}', '')
        node = nxt
        return (True, ENDS[nxt].replace('{input}', inp)) if nxt in ENDS else (False, MENU[nxt][0].replace('{input}', inp))
    res = (False, MENU['main'][0])
    for inp in (first.split('*') if first else []):  # dialled with the code: one screen for all
        if not res[0]: res = step(inp)
    out = [res]
    for a in answers:
        if out[-1][0]: break
        out.append(step(a))
    return out, None

def expected(t):
    """What the handset should dial, answer and see, from its code and path."""
    first, _, rest = t['path'].rpartition('#')
    answers = rest.split('*') if rest else []
    code = t['code']
    dialled = code[:-1] + '*' + first + '#' if first else code
    replies, texts = app_dialogue(first, answers, t['msisdn']) if code == '*384#' else \
        menu_dialogue(first, answers) if code == '*100#' else ([], None)
    return dialled, answers, replies, texts

checks = []
def check(name, got, want):
    checks.append((name, str(got), str(want)))

trs = [json.loads(l) for l in open(tr_path)]
# The gateway ended a dialogue with its error or timeout text: at the
# handset that is an early END, or a "completed" one when it came after the
# path's last input (the handset cannot tell it from the application's END;
# neither menu here ever says those texts).
def failed(t):
    return t['end'] != 'completed' or t['received'][-1] in FAILED_TEXTS

# ---- the transcripts against the menus
bad_screens = bad_order = bad_sent = 0
for t in trs:
    dialled, answers, replies, _ = expected(t)
    want = [x[1] for x in replies]
    if failed(t):  # the screens before the failure, then the gateway's text
        want = want[:len(t['received']) - 1] + [t['received'][-1] if t['received'][-1] in FAILED_TEXTS else '?']
    if 'order' in brk and len(want) > 1: want = want[::-1]
    if t['received'] != want:
        if sorted(t['received']) == sorted(want): bad_order += 1
        else: bad_screens += 1
        if bad_screens + bad_order <= 3:
            print('screens: %s %s %s %s: got %r want %r' % (t['msisdn'], t['code'], t['path'], t['end'],
                  t['received'], want), file=sys.stderr)
    if 'dial' in brk: dialled += ' '
    if t['sent'] != ([dialled] + answers)[:len(t['received'])]:
        bad_sent += 1
        print('sent: %r for %s %s' % (t['sent'], t['code'], t['path']), file=sys.stderr)
check('dialogues whose screens differ from the menu', bad_screens, 0)
check('dialogues with the right screens in another order', bad_order, 0)
check('dialogues whose dial and inputs differ from the path', bad_sent, 0)

# ---- the UDRs, one per dialogue: (msisdn, code, steps, inputs, end, last text);
# a failed dialogue's steps are the application's replies before the failure
rows = list(csv.DictReader(open(os.path.join(udr_dir, 'udrs.csv'))))
FAIL_ENDS = {'app_error', 'app_timeout'}
def udr_key(msisdn, code, steps, inputs, end, text):
    return (msisdn, code, int(steps), int(inputs), 'failed' if end in FAIL_ENDS else end, text[:95])
got_udr = collections.Counter(udr_key(r['msisdn'], r['code'], r['steps'], r['inputs'], r['outcome'], r['last_text'])
                              for r in rows)
want_udr = collections.Counter()
for t in trs:
    ok = not failed(t)
    want_udr[udr_key(t['msisdn'], t['code'], len(t['received']) - (0 if ok else 1), len(t['sent']) - 1,
                     'completed' if ok else 'failed', t['received'][-1])] += 1
if 'udr' in brk: want_udr[('254700000000', '*384#', 3, 2, 'completed', 'x')] += 1
check('UDR rows (udrs.csv) = dialogues', len(rows), len(trs))
check('UDRs not matching a dialogue', sum((got_udr - want_udr).values()), 0)
check('dialogues without their UDR', sum((want_udr - got_udr).values()), 0)
for k in list((got_udr - want_udr).elements())[:3]: print('UDR only:', k, file=sys.stderr)
for k in list((want_udr - got_udr).elements())[:3]: print('dialogue only:', k, file=sys.stderr)
ends = collections.Counter(r['outcome'] for r in rows)
timeouts_385 = sum(1 for r in rows if r['outcome'] == 'app_timeout' and r['code'] == '*385#')
check('UDRs that say app_timeout are *385# (the application that hangs)', timeouts_385, ends['app_timeout'])
if sqlite_too == '1':
    db = sqlite3.connect('file:%s?mode=ro' % os.path.join(udr_dir, 'udrs.sqlite'), uri=True)
    got_sql = collections.Counter(udr_key(*r) for r in db.execute(
        'SELECT msisdn, code, steps, inputs, outcome, last_text FROM udrs'))
    sql_ids = sorted(str(r[0]) for r in db.execute('SELECT id FROM udrs'))
    if 'udr_sqlite' in brk: got_sql[('x', 'x', 0, 0, 'x', 'x')] += 1
    check('UDRs in udrs.sqlite different from udrs.csv', sum(((got_sql - got_udr) + (got_udr - got_sql)).values()), 0)
    check('UDR ids in udrs.sqlite = udrs.csv', sql_ids == sorted(r['id'] for r in rows), True)

# ---- the application's log: per sessionId, the `text` of each request;
# the sessionId is the UDR's id, so each session maps to its UDR's msisdn
app, meta = collections.defaultdict(list), {}
app_requests = 0
for l in open(app_path):
    a = json.loads(l)
    if a['path'] != '/ussd': continue
    app_requests += 1
    app[a['sessionId']].append(a['text'])
    meta[a['sessionId']] = (a['phoneNumber'], a['serviceCode'])
by_id = {r['id']: r for r in rows}
got_app, want_app = collections.Counter(), collections.Counter()
for sid, texts in app.items():
    r = by_id.get(sid, {})
    if r.get('outcome', 'completed') == 'completed':  # failed sessions: how far they got varies
        got_app[(meta[sid], tuple(texts), r.get('msisdn'))] += 1
for t in trs:
    if t['code'] != '*384#' or failed(t): continue
    texts = expected(t)[3]
    if 'applog' in brk: texts = [x.replace('*', '#') for x in texts]
    want_app[((t['msisdn'], '*384#'), tuple(texts), t['msisdn'])] += 1
check('application sessions not matching a completed dialogue', sum((got_app - want_app).values()), 0)
check('completed dialogues the application did not see as such', sum((want_app - got_app).values()), 0)
check('application sessions without a UDR of that id', sum(1 for sid in app if sid not in by_id), 0)
for k in list((got_app - want_app).elements())[:3]: print('app only:', k, file=sys.stderr)
for k in list((want_app - got_app).elements())[:3]: print('expected at the app:', k, file=sys.stderr)

for c in checks: print('\t'.join(c))
print('ends\t%s' % ' '.join('%s=%d' % kv for kv in sorted(collections.Counter(t['end'] for t in trs).items())))
print('outcomes\tok=%d failed=%d' % (sum(not failed(t) for t in trs), sum(failed(t) for t in trs)))
print('udr_ends\t%s' % ' '.join('%s=%d' % kv for kv in sorted(ends.items())))
print('paths\t%d' % len({(t['code'], t['path']) for t in trs}))
print('app_requests\t%d' % app_requests)
PY
}

# run_checks WHAT TRANSCRIPTS SQLITE: verify's lines as checks; sets ENDS
# (the handsets' ends), OUTCOMES ("ok=N failed=M": M ended by the gateway's
# error or timeout text), UDR_ENDS, PATHS, APP_REQUESTS.
run_checks() {
	local out name got want
	out=$(verify "$2" "$TMP/app.jsonl" "$3" 2>"$TMP/verify-$1.err") ||
		{ cat "$TMP/verify-$1.err"; fail "$1: the checker failed"; }
	while IFS=$'\t' read -r name got want; do
		case $name in
		ends) ENDS=$got ;;
		outcomes) OUTCOMES=$got ;;
		udr_ends) UDR_ENDS=$got ;;
		paths) PATHS=$got ;;
		app_requests) APP_REQUESTS=$got ;;
		*) check "$1: $name" "$got" "$want" ;;
		esac
	done <<<"$out"
	[ -s "$TMP/verify-$1.err" ] && head -20 "$TMP/verify-$1.err"
	return 0
}

m() { metric "$http" "switchyard_ussd_$1"; }

# udrs_at_least N: udrs.csv holds N rows (a poll for sy_wait).
udrs_at_least() {
	[ -f "$TMP/out/udrs.csv" ] && [ "$(($(wc -l <"$TMP/out/udrs.csv") - 1))" -ge "$1" ]
}

start app node tests/npm/ussd_app.js "$app" "$TMP/app.jsonl"
wait_log app "^listening $app"
start_switchyard serve serve "$TMP/serve.scn"
check "ready file: the USSD link listener" "$(grep -c "^ussd tcp 127.0.0.1:$link\$" "$TMP/serve.ready")" 1

# ---- 1. every path, every screen ---------------------------------------------
start load1 "$LOAD" load "$TMP/load1.scn" --target "127.0.0.1:$sip" --ussd-target "127.0.0.1:$link" \
	--ussd-log "$TMP/full.jsonl" --seed 13 --bench it-ussd
wait_exit load1 180
grep '^ussd:' "$TMP/load1.log"
[ "$STATUS" = 0 ] || { show_log load1; fail "load: exit status $STATUS (want 0)"; }
N1=$(wc -l <"$TMP/full.jsonl")
check "dialogues (a transcript each) = the sessions asked for" "$N1" "$SESSIONS"
check "/metrics ussd records = dialogues (UDRs queued)" "$(metric_settles "$http" switchyard_ussd_records_total "$N1")" "$N1"
sy_wait serve "$N1 UDRs in udrs.csv (flushed on a timer)" 30 udrs_at_least "$N1"
run_checks full "$TMP/full.jsonl" 0
check "every dialogue completed" "$ENDS" "completed=$N1"
check "load's bench line: started, completed, improper" "$(python3 -c '
import json, sys
b = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"bench\":\"it-ussd\"")]
print(len(b), b[0]["started"], b[0]["completed"], b[0]["improper"])' "$TMP/load1.log")" "1 $N1 $N1 0"
check_ge "distinct paths walked (of 11)" "$PATHS" 11
want_started=$N1
break_on metrics && want_started=$((N1 + 1))
check "/metrics ussd sessions started" "$(m sessions_started_total)" "$want_started"
check "/metrics ussd sessions completed" "$(m sessions_completed_total)" "$N1"
check "/metrics ussd sessions open" "$(m sessions_active)" 0
check "/metrics ussd app errors" "$(m app_errors_total)" 0
check "/metrics ussd app requests = the application's" "$(m app_requests_total)" "$APP_REQUESTS"
check "/metrics ussd http replies ok = the application's requests" "$(m http_ok_total)" "$APP_REQUESTS"

# ---- 2. the application goes away mid-run --------------------------------------
write_load load2 "$SESSIONS2" "$RATE2" "*384# 80%, *385# 20%" \
	"*384#: 1 30%, 2*0712345678*500 40%, 3*2*0799000111*20 30%; *385#: 1 100%"
start load2 "$LOAD" load "$TMP/load2.scn" --target "127.0.0.1:$sip" --ussd-target "127.0.0.1:$link" \
	--ussd-log "$TMP/outage.jsonl" --seed 14
# the outage once *385# timed out at least once and some of this run completed
outage_due() {
	local t c
	t=$(m app_timeouts_total 2>/dev/null) && c=$(m sessions_completed_total 2>/dev/null) &&
		[ "$t" -ge 1 ] && [ "$c" -ge $((N1 + 10)) ]
}
sy_wait load2 "an application timeout and 10 completed" 60 outage_due
stop app KILL
say "application killed after $(wc -l <"$TMP/app.jsonl") requests in all"
wait_exit load2 180
check "outage: load exit status (every dialogue ended at the handset)" "$STATUS" 0
grep '^ussd:' "$TMP/load2.log"
want_open=0
break_on open && want_open=1
check "outage: /metrics ussd sessions open" "$(metric_settles "$http" switchyard_ussd_sessions_active 0)" "$want_open"
app_errors=$(m app_errors_total)
app_timeouts=$(m app_timeouts_total)
stop_clean serve
cat "$TMP/full.jsonl" "$TMP/outage.jsonl" >"$TMP/both.jsonl"
check_ge "outage: dialogues (of $SESSIONS2 asked for)" "$(wc -l <"$TMP/outage.jsonl")" $((SESSIONS2 * 9 / 10))
# ok / failed as verify counts them: the last text the gateway's error text or not
read -r ok_n failed_n < <(python3 -c '
import json, sys
f = [json.loads(l)["received"][-1] == "Service unavailable. Try later." for l in open(sys.argv[1])]
print(f.count(False), f.count(True))' "$TMP/outage.jsonl")
check_ge "outage: dialogues that completed with the application's END" "$ok_n" 10
check_ge "outage: dialogues ended by the gateway's error text" "$failed_n" 1
check "outage: the handsets' completed (load's view) = dialogues with the application's END" \
	"$(grep -c '"end":"completed"' "$TMP/outage.jsonl")" "$ok_n"
run_checks "whole run, after stop (sqlite too)" "$TMP/both.jsonl" 1
want_err="app_error=$app_errors"
break_on outage && want_err="app_error=$((app_errors + 1))"
check "UDR ends: app_error as /metrics" "$(grep -oE 'app_error=[0-9]+' <<<"$UDR_ENDS")" "$want_err"
check "UDR ends: app_timeout as /metrics" "$(grep -oE 'app_timeout=[0-9]+' <<<"$UDR_ENDS")" "app_timeout=$app_timeouts"
check "UDR ends: nothing else failed" "$(tr ' ' '\n' <<<"$UDR_ENDS" | grep -vcE '^(completed|app_error|app_timeout)=')" 0

# ---- 3. SIGTERM with dialogues open ---------------------------------------------
# The declared menu (no application needed), users who think for a minute:
# once all are open, serve is stopped; each handset must get the error text
# (a clean release), each session a UDR with outcome shutdown.
write_load load3 "$SESSIONS3" 20 "*100#" "2*1 100%"
sed -i 's/^think = .*/think = 60s/' "$TMP/load3.scn"
start_switchyard serve3 serve "$TMP/serve.scn" --out "$TMP/out3"
start load3 "$LOAD" load "$TMP/load3.scn" --target "127.0.0.1:$sip" --ussd-target "127.0.0.1:$link" \
	--ussd-log "$TMP/shutdown.jsonl" --seed 15
all_open() { [ "$(m sessions_active 2>/dev/null)" = "$SESSIONS3" ]; }
sy_wait load3 "$SESSIONS3 dialogues open at the gateway" 60 all_open
stop_clean serve3
check "shutdown: serve logs the releases" \
	"$(grep -c "USSD stopped: $SESSIONS3 sessions started, 0 completed, $SESSIONS3 released at shutdown" "$TMP/serve3.log")" 1
wait_exit load3 120
check "shutdown: load exit status (every dialogue released cleanly)" "$STATUS" 0
grep '^ussd:' "$TMP/load3.log"
want_outcome=shutdown
break_on shutdown && want_outcome=completed
check "shutdown: the handsets' dialogues: ended early with the error text after the first screen" \
	"$(python3 -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) for t in [json.loads(l)]
          if t["end"] == "ended_early" and t["received"] == ["Data bundles\n1. Daily\n2. Weekly\n3. Gift",
                                                           "Service unavailable. Try later."]))' "$TMP/shutdown.jsonl")" \
	"$SESSIONS3"
check "shutdown: UDRs (outcome, code, steps, last text: count)" \
	"$(python3 -c '
import collections, csv, sys
print(collections.Counter((r["outcome"], r["code"], r["steps"], r["last_text"]) for r in csv.DictReader(open(sys.argv[1]))))
' "$TMP/out3/udrs.csv")" \
	"Counter({('$want_outcome', '*100#', '1', 'Service unavailable. Try later.'): $SESSIONS3})"
finish serve serve3 load1 load2 load3 app
