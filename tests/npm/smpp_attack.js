#!/usr/bin/env node
// smpp_attack.js: attacks on the SMSC's binds with an independent SMPP client
// (the npm package `smpp`) and raw TCP, for tests/security/smpp.sh. Each mode
// prints one line of key=value results; the script judges them. Sources are
// chosen with --from (loopback has all of 127/8), so one attack's backoff
// never falls on another's address. Every wait is bounded.
//
// usage: node smpp_attack.js MODE HOST:PORT [--from IP] [args]
//   empty SID           bind_transceiver(SID, password "")  -> status=N
//   guess SID           4 binds with a wrong password on one connection, then
//                       a new connection from the same source
//                       -> statuses=a,b,c answered=N closed=1 reconnect_refused=1
//   flood N SID PW      N idle TCP connections from --from, then a good ESME
//                       from --good binds and submits one message
//                       -> idle_open=K idle_closed=M bind=S submit=S
//   idle                one TCP connection that never binds -> closed_by_server=1
'use strict';

const net = require('net');
const smpp = require('smpp');

const WAIT_MS = 15000;

function usage(msg) {
	console.error('smpp_attack.js: ' + msg);
	process.exit(2);
}

function parse(argv) {
	const o = { from: '127.0.0.1', good: '127.0.0.1', pos: [] };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--from' || argv[i] === '--good') o[argv[i].slice(2)] = argv[++i];
		else o.pos.push(argv[i]);
	}
	if (o.pos.length < 2) usage('want MODE HOST:PORT');
	const m = /^(.+):(\d+)$/.exec(o.pos[1]);
	if (!m) usage('bad HOST:PORT');
	o.mode = o.pos[0];
	o.host = m[1];
	o.port = Number(m[2]);
	return o;
}

const o = parse(process.argv.slice(2));
const guard = setTimeout(() => {
	console.log('timeout=1');
	process.exit(1);
}, 4 * WAIT_MS);

function session(from) {
	const s = smpp.connect({ host: o.host, port: o.port, localAddress: from, auto_enquire_link_period: 0 });
	s.on('error', () => {});
	return s;
}

function done(line) {
	console.log(line);
	clearTimeout(guard);
	process.exit(0);
}

function modeEmpty() {
	const s = session(o.from);
	s.on('connect', () => {
		s.bind_transceiver({ system_id: o.pos[2], password: '' }, (pdu) => done('status=' + pdu.command_status));
	});
	s.on('close', () => done('status=closed'));
}

// Binds one after another on one connection; the fourth is sent after the
// third answer, and should find the connection closed.
function modeGuess() {
	const s = session(o.from);
	const st = [];
	let closed = false;
	const next = () => {
		if (closed) return;
		if (st.length >= 4) return done(`statuses=${st.join(',')} answered=4 closed=0 reconnect_refused=0`);
		s.bind_transceiver({ system_id: o.pos[2], password: 'wrong' + st.length }, (pdu) => {
			st.push(pdu.command_status);
			next();
		});
	};
	s.on('connect', next);
	s.on('close', () => {
		closed = true;
		setTimeout(() => reconnect(st), 100); // the 4th bind's write may still be in flight
	});
	const reconnect = (statuses) => {
		const c = net.connect({ host: o.host, port: o.port, localAddress: o.from });
		let refused = 0;
		const t = setTimeout(() => { c.destroy(); finish(); }, WAIT_MS);
		c.on('error', () => {});
		c.on('close', () => { refused = 1; clearTimeout(t); finish(); });
		function finish() {
			done(`statuses=${statuses.join(',')} answered=${statuses.length} closed=1 reconnect_refused=${refused}`);
		}
	};
}

function modeFlood() {
	const n = Number(o.pos[2]);
	let settled = 0, last = Date.now();
	const socks = [];
	for (let i = 0; i < n; i++) {
		const c = net.connect({ host: o.host, port: o.port, localAddress: o.from });
		socks.push(c);
		c.on('error', () => {});
		c.on('connect', () => { settled++; last = Date.now(); });
		c.on('close', () => { last = Date.now(); });
	}
	// Settled: every socket connected, and no close for 500 ms (the
	// refusals come at once), within the bound; then the good ESME.
	const t0 = Date.now();
	const poll = setInterval(() => {
		const now = Date.now();
		if ((settled >= n && now - last > 500) || now - t0 > WAIT_MS) {
			clearInterval(poll);
			good();
		}
	}, 50);
	function good() {
		const idleOpen = socks.filter((c) => !c.destroyed).length;
		const s = session(o.good);
		s.on('connect', () => {
			s.bind_transceiver({ system_id: o.pos[3], password: o.pos[4] }, (b) => {
				if (b.command_status !== 0) return done(`idle_open=${idleOpen} idle_closed=${n - idleOpen} bind=${b.command_status} submit=none`);
				s.submit_sm({ source_addr: '15550100', destination_addr: '14155550000', short_message: 'hi' }, (r) => {
					done(`idle_open=${idleOpen} idle_closed=${n - idleOpen} bind=0 submit=${r.command_status}`);
				});
			});
		});
		s.on('close', () => done(`idle_open=${idleOpen} idle_closed=${n - idleOpen} bind=closed submit=none`));
	}
}

function modeIdle() {
	const c = net.connect({ host: o.host, port: o.port, localAddress: o.from });
	const t = setTimeout(() => { c.destroy(); done('closed_by_server=0'); }, WAIT_MS);
	c.on('error', () => {});
	c.on('close', () => { clearTimeout(t); done('closed_by_server=1'); });
}

({ empty: modeEmpty, guess: modeGuess, flood: modeFlood, idle: modeIdle }[o.mode] || (() => usage('bad mode ' + o.mode)))();
