#!/usr/bin/env bash
# it_report.sh: `switchyard report DIR` (docs/capacity.md, "Reports").
#  1. On a voice run (scenarios/voice-basic.scn), an SMS run (sms-basic) and
#     the fixture sweep (tests/data/sweep-fixture, the agreed sweep format):
#     report.html exists, links only images that exist under report-img/,
#     every image is a valid PNG (chunks, CRCs, zlib stream) or SVG, the
#     pictures each kind must have are there, and the summary sentence says
#     what it must (the sweep's: the capacity at the knee and the limiting
#     [expect] line).
#  2. The Erlang-B curve drawn on the sweep's blocking is B(N, A) computed
#     here independently.
#  3. Hostile text in sweep.json reaches the page escaped and gnuplot inert
#     (no <script>, no backquote command substitution).
#  4. Bad input: a missing folder, an empty folder, a ragged or non-numeric
#     sweep.csv, a missing sweep.json exit 2 with file:line; a gnuplot that
#     cannot run exits 1; nothing crashes.
set -u
source "$(dirname "$0")/lib.sh"

require_switchyard
require_tool gnuplot python3

# check_report DIR IMAGE...: the page links exactly existing, valid images,
# among them every IMAGE (names without .png).
check_report() {
	local dir=$1
	shift
	[ -s "$dir/report.html" ] || fail "$dir/report.html missing or empty"
	python3 - "$dir" "$@" <<'PY' || fail "$dir/report.html: its images are wrong (above)"
import os, re, struct, sys, zlib, xml.etree.ElementTree as ET
d, want = sys.argv[1], sys.argv[2:]
html = open(os.path.join(d, "report.html"), encoding="utf-8").read()
srcs = re.findall(r'<img[^>]*\bsrc="([^"]*)"', html)
bad = []
if not srcs:
    bad.append("no <img> at all")
for s in srcs:
    if s.startswith("/") or ":" in s or ".." in s or not s.startswith("report-img/"):
        bad.append("%s: not a relative link into report-img/" % s)
        continue
    p = os.path.join(d, s)
    if not os.path.isfile(p):
        bad.append("%s: links a missing file" % s)
        continue
    b = open(p, "rb").read()
    if s.endswith(".png"):
        if b[:8] != b"\x89PNG\r\n\x1a\n":
            bad.append("%s: no PNG signature" % s); continue
        i, idat, names = 8, b"", []
        while i + 8 <= len(b):
            n, t = struct.unpack(">I4s", b[i:i + 8])
            data, crc = b[i + 8:i + 8 + n], b[i + 8 + n:i + 12 + n]
            if len(crc) != 4 or zlib.crc32(t + data) != struct.unpack(">I", crc)[0]:
                bad.append("%s: chunk %r: bad CRC or cut" % (s, t)); break
            names.append(t)
            if t == b"IHDR":
                w, h = struct.unpack(">II", data[:8])
                if w < 400 or h < 300:
                    bad.append("%s: %dx%d, too small to read" % (s, w, h))
            idat += data if t == b"IDAT" else b""
            i += 12 + n
        if not names or names[0] != b"IHDR" or names[-1] != b"IEND":
            bad.append("%s: chunks %s: not IHDR..IEND" % (s, names[:3]))
        else:
            zlib.decompress(idat)
    elif s.endswith(".svg"):
        if not ET.fromstring(b).tag.endswith("svg"):
            bad.append("%s: root is not <svg>" % s)
    else:
        bad.append("%s: neither PNG nor SVG" % s)
for w in want:
    if "report-img/%s.png" % w not in srcs:
        bad.append("the page has no %s.png" % w)
for x in bad:
    print("  " + x)
sys.exit(1 if bad else 0)
PY
}

summary() { grep -o '<p class="summary" id="summary">[^<]*</p>' "$1/report.html"; }

# 1. runs
"$SY" sim scenarios/voice-basic.scn --out "$TMP/voice" --quiet >"$TMP/voice.txt" || fail "voice-basic run failed"
"$SY" report "$TMP/voice" >"$TMP/r.out" 2>&1 || fail "report on a voice run: $(cat "$TMP/r.out")"
check_report "$TMP/voice" calls active pdd failures
summary "$TMP/voice" | grep -qE 'scenarios/voice-basic.scn \(seed 7\) met its expectations: 3017 calls attempted, ASR 76.4%' ||
	fail "voice summary: $(summary "$TMP/voice")"
grep -q '<td class="ok">PASS asr &gt;= 55%' "$TMP/voice/report.html" || fail "voice: the [expect] table is missing"
say "voice run: report.html, 4 valid pictures, summary: $(summary "$TMP/voice" | sed 's/<[^>]*>//g')"

"$SY" sim scenarios/sms-basic.scn --out "$TMP/sms" --quiet >/dev/null || fail "sms-basic run failed"
"$SY" report "$TMP/sms" >"$TMP/r.out" 2>&1 || fail "report on an SMS run: $(cat "$TMP/r.out")"
check_report "$TMP/sms" sms
grep -q 'calls.png' "$TMP/sms/report.html" && fail "an SMS-only run has a calls plot (of zeros)"
summary "$TMP/sms" | grep -qE 'SMS submitted' || fail "sms summary: $(summary "$TMP/sms")"
say "sms run: report.html with the SMS rates"

# sweep
cp -r tests/data/sweep-fixture "$TMP/sweep"
"$SY" report "$TMP/sweep" >"$TMP/r.out" 2>&1 || fail "report on the fixture sweep: $(cat "$TMP/r.out")"
check_report "$TMP/sweep" sweep-asr sweep-pdd sweep-setup sweep-blocking sweep-resources
summary "$TMP/sweep" | grep -qF 'carries up to traffic.voice.cps = 0.3 (runs at the knee pass with a share of at least 62% at 95% confidence); above it the limiting resource is the first expectation to fail: blocking &lt;= 2% (line 31).' ||
	fail "sweep summary: $(summary "$TMP/sweep")"
say "sweep: report.html, 4 valid pictures, summary: $(summary "$TMP/sweep" | sed 's/<[^>]*>//g')"

# 2. Erlang-B as drawn, against B(N, A) computed here
python3 - "$TMP/sweep/report-img/erlang.dat" <<'PY' || fail "the Erlang-B curve is not B(N, A)"
import sys
def B(n, a):
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b
rows = [tuple(map(float, l.split(","))) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) > 20, "too few points: %d" % len(rows)
for x, pct in rows:
    a = x * 60  # the fixture: 60 s holding, so A = cps * 60 Erlangs on 30 circuits
    if abs(pct - 100 * B(30, a)) > 1e-6 * max(1, pct):
        sys.exit("x=%g: drawn %.6f%%, B(30, %g) = %.6f%%" % (x, pct, a, 100 * B(30, a)))
print("  B(30, 25) = %.2f%%" % (100 * B(30, 25)))
PY
say "Erlang-B curve: B(N, A) at every drawn point"

# 2b. live runs next to the sweep (live.csv, bench/voice-knee-compare.sh):
# the live knee is the highest rate with it and every lower one passing, the
# summary says how far the simulator's is, both curves are drawn.
cp -r tests/data/sweep-fixture "$TMP/live"
cat >"$TMP/live/live.csv" <<'CSV'
value,passed,calls,failed,setup_p50_ms,setup_p99_ms,us_per_call,skipped
0.2,1,1200,0,1,9,80.1,0
0.25,1,1500,0,1,12,80.3,0
0.3,0,1800,3,2,75,81.0,0
0.35,1,2100,0,2,20,80.9,0
0.4,0,,,,,,1
CSV
"$SY" report "$TMP/live" >"$TMP/r.out" 2>&1 || fail "report with live.csv: $(cat "$TMP/r.out")"
check_report "$TMP/live" sweep-live-setup sweep-live-pass sweep-asr sweep-blocking
live_sum=$(grep -o '<p class="summary" id="live-summary">[^<]*</p>' "$TMP/live/report.html")
echo "$live_sum" | grep -qF 'Live (live.csv): the knee is 0.25; the simulator&#39;s is 0.3, +20.0% of the live figure.' ||
	fail "live summary: $live_sum"
# the drawn live points: the skipped rate is not drawn, the others are
python3 - "$TMP/live/report-img/live.dat" <<'PY' || fail "live.dat is not live.csv's points"
import sys
rows = [l.strip().split(",") for l in open(sys.argv[1]) if l.strip()]
want = [(0.2, 9, 100), (0.25, 12, 100), (0.3, 75, 0), (0.35, 20, 100)]
got = [tuple(float(x) for x in r[:3]) for r in rows]
assert got == want, got
PY
grep -qF 'not run (two lower rates failed)' "$TMP/live/report.html" || fail "the skipped live rate is not listed"
say "live runs: both curves drawn, $(echo "$live_sum" | sed 's/<[^>]*>//g')"

# 2c. the CPU model's busy share while traffic ran, derived per run from
# sweep.csv (cpu_per_call_us x calls.attempted / (calls.offered / offered_cps))
# and averaged over the seeds: given offered_cps, the resource picture draws it
cp -r tests/data/sweep-fixture "$TMP/cpu"
python3 - "$TMP/cpu/sweep.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
h = rows[0]
out = [h + ["offered_cps"]] + [r + [str(float(r[h.index("calls.offered")]) / 400.0)] for r in rows[1:]]
csv.writer(open(sys.argv[1], "w"), lineterminator="\n").writerows(out)
PY
"$SY" report "$TMP/cpu" >"$TMP/r.out" 2>&1 || fail "report with offered_cps: $(cat "$TMP/r.out")"
check_report "$TMP/cpu" sweep-resources
grep -q "busy while traffic ran" "$TMP/cpu/report-img/sweep-resources.gp" || fail "the resource picture does not draw the traffic-time CPU share"
python3 - "$TMP/cpu/sweep.csv" "$TMP/cpu/report-img/sweep.dat" <<'PY' || fail "the CPU share drawn is not cpu_per_call_us x attempted / traffic seconds"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
want = {}
for r in rows:
    v = float(r["value"])
    share = float(r["cpu_per_call_us"]) * float(r["calls.attempted"]) / (float(r["calls.offered"]) / float(r["offered_cps"])) / 1e4
    want.setdefault(v, []).append(share)
drawn = {float(l.split(",")[0]): float(l.split(",")[27]) for l in open(sys.argv[2]) if l.strip()}
for v, xs in want.items():
    m = sum(xs) / len(xs)
    assert abs(drawn[v] - m) <= 1e-9 * max(1, m), (v, drawn[v], m)
print("  CPU share at %g: %.4f%%" % (max(want), drawn[max(want)]))
PY
say "CPU model's share while traffic ran: derived and drawn"

# 3. hostile text
cp -r tests/data/sweep-fixture "$TMP/evil"
python3 - "$TMP/evil/sweep.json" "$TMP/PWNED" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["scenario"] = "<script>alert('x')</script>.scn"
d["key"] = "traffic.voice.cps`touch %s`' \\n<b>" % sys.argv[2]
d["knee"]["limiting"] = "asr >= 55% & \"quoted\" </p><img src=x onerror=alert(1)>"
json.dump(d, open(sys.argv[1], "w"))
PY
"$SY" report "$TMP/evil" >"$TMP/r.out" 2>&1 || fail "report with hostile text: $(cat "$TMP/r.out")"
[ -e "$TMP/PWNED" ] && fail "a backquote in sweep.json ran a command through gnuplot"
grep -qE '<script|<b>|<img src=x' "$TMP/evil/report.html" && fail "hostile text reached report.html unescaped"
grep -qF '&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;.scn' "$TMP/evil/report.html" || fail "the scenario name is not shown escaped"
check_report "$TMP/evil" sweep-asr sweep-blocking
say "hostile text: escaped in the page, inert in gnuplot"

# 4. bad input
expect_error() { # WHAT PATTERN ARGS...
	local what=$1 pat=$2 rc
	shift 2
	"$SY" report "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
	rc=$?
	[ "$rc" = 2 ] || fail "$what: exit $rc, want 2 ($(cat "$TMP/bad.err"))"
	grep -qE "$pat" "$TMP/bad.err" || fail "$what: the error does not match /$pat/: $(cat "$TMP/bad.err")"
	say "$what: exit 2, $(cat "$TMP/bad.err")"
}
expect_error "missing folder" "$TMP/nope:1: not a folder" "$TMP/nope"
mkdir "$TMP/empty"
expect_error "empty folder" "empty/sweep.csv:1: missing" "$TMP/empty"
cp -r tests/data/sweep-fixture "$TMP/ragged"
sed -i '4s/,[^,]*$//' "$TMP/ragged/sweep.csv"
expect_error "ragged sweep.csv" "ragged/sweep.csv:4: 18 fields, the header has 19" "$TMP/ragged"
cp -r tests/data/sweep-fixture "$TMP/nan"
sed -i '3s/^traffic.voice.cps,0.25,/traffic.voice.cps,abc,/' "$TMP/nan/sweep.csv"
expect_error "non-numeric value" "nan/sweep.csv:3: value 'abc' is not a number" "$TMP/nan"
cp -r tests/data/sweep-fixture "$TMP/nojson"
rm "$TMP/nojson/sweep.json"
expect_error "missing sweep.json" "nojson/sweep.json:1: missing" "$TMP/nojson"
printf 'key,value\n' >"$TMP/empty/sweep.csv"
expect_error "header without seed and pass" "empty/sweep.csv:1: the header must start key,value,seed,pass" "$TMP/empty"
printf 'value,passed,setup_p99_ms\n3000,1,9\n2000,1,8\n' >"$TMP/live/live.csv"
expect_error "live.csv out of order" "live/live.csv:3: values must increase" "$TMP/live"
printf 'rate,ok\n3000,1\n' >"$TMP/live/live.csv"
expect_error "live.csv without its columns" "live/live.csv:1: the header must name value, passed and setup_p99_ms" "$TMP/live"
printf 'this is not json' >"$TMP/voice/report.json"
expect_error "broken report.json" "voice/report.json:1: not a run report" "$TMP/voice"
"$SY" report "$TMP/sweep" --gnuplot "$TMP/no-such-gnuplot" >"$TMP/bad.out" 2>"$TMP/bad.err"
rc=$?
[ "$rc" = 1 ] && grep -q "cannot run" "$TMP/bad.err" || fail "no gnuplot: exit $rc: $(cat "$TMP/bad.err")"
say "no gnuplot: exit 1, $(head -c 200 "$TMP/bad.err")"
say "ok"
