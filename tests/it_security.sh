#!/usr/bin/env bash
# it_security.sh: every attack of docs/security.md against a live `serve`,
# and every one must fail. The attacks live in tests/security/PART.sh, one
# script per listener or layer, each starting its own `serve` (through
# tests/lib.sh) and ending with "PASS" or a "FAIL:" line; a part missing,
# failing or ending without its PASS fails the whole test. The list is
# explicit, so a part cannot drop out silently.
set -u
source "$(dirname "$0")/lib.sh"
parts=(sipauth sipwire smpp http fraud ussd)
failed=()
for p in "${parts[@]}"; do
	s="tests/security/$p.sh"
	[ -f "$s" ] || { say "FAIL: $s is missing"; failed+=("$p"); continue; }
	say "--- $p ---"
	out=$(BUILD="$BUILD" bash "$s" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed "s/^/  /"
	if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | grep -q ': PASS$'; then
		failed+=("$p")
	fi
done
check "security parts failed (want none)" "${failed[*]}" ""
finish
