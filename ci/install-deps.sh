#!/usr/bin/env bash
# Installs what switchyard needs on a fresh Debian machine, idempotently:
# nothing is fetched when everything is already there.
set -euo pipefail

pkgs=(build-essential pkg-config libevent-dev libosip2-dev libpcap-dev libsrtp2-dev
      libssl-dev libsqlite3-dev libcmocka-dev sqlite3 gnuplot-nox sip-tester tshark
      libhttp-parser-dev libxxhash-dev python3 procps clang valgrind)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	echo "install-deps: all packages present"
fi

# The independent peers of the npm tests, pinned by tests/npm/package-lock.json
# (`npm ci`): smpp (an ESME for tests/it_smpp_npm.sh), hep-js (a HEP
# collector for tests/it_hep.sh) and ussd-menu-builder (a USSD application
# for tests/it_ussd.sh). Nothing is fetched when all are installed.
npm_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/npm"
if [ -d "$npm_dir/node_modules/smpp" ] && [ -d "$npm_dir/node_modules/hep-js" ] &&
	[ -d "$npm_dir/node_modules/ussd-menu-builder" ]; then
	echo "install-deps: npm packages smpp, hep-js and ussd-menu-builder present"
else
	if ! command -v npm >/dev/null; then
		echo "install-deps: installing nodejs npm"
		SUDO=
		[ "$(id -u)" = 0 ] || SUDO=sudo
		$SUDO apt-get update -qq
		$SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
	fi
	echo "install-deps: npm ci in tests/npm"
	(cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
