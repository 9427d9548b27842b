// hep_collect.js PORT [COUNT] [SECONDS]: a HEP collector for
// tests/it_hep.sh, decoding with the npm package hep-js (sipcapture's own
// HEP library, independent of switchyard's encoder). Listens for UDP on
// 127.0.0.1:PORT and prints one JSON line per packet: the rcinfo fields
// hep-js decoded and the payload's first line, or {"error": ...} for a
// packet it cannot decode. Exits 0 after COUNT packets (0 = no limit),
// after SECONDS (default 60), or on SIGTERM, printing {"done": N} last.
'use strict';
const dgram = require('dgram');
const HEPjs = require('hep-js');

const port = parseInt(process.argv[2], 10);
const count = parseInt(process.argv[3] || '0', 10);
const seconds = parseInt(process.argv[4] || '60', 10);
if (!(port > 0)) {
	console.error('usage: hep_collect.js PORT [COUNT] [SECONDS]');
	process.exit(2);
}

let n = 0;
const sock = dgram.createSocket('udp4');

function done() {
	console.log(JSON.stringify({ done: n }));
	sock.close();
	process.exit(0);
}

sock.on('message', (msg) => {
	n++;
	const d = HEPjs.decapsulate(msg);
	if (!d || !d.rcinfo || typeof d.payload !== 'string') {
		console.log(JSON.stringify({ error: 'hep-js could not decode', len: msg.length }));
	} else {
		const r = d.rcinfo;
		console.log(JSON.stringify({
			len: msg.length,
			protocolFamily: r.protocolFamily,
			protocol: r.protocol,
			srcIp: r.srcIp,
			dstIp: r.dstIp,
			srcPort: r.srcPort,
			dstPort: r.dstPort,
			timeSeconds: r.timeSeconds,
			timeUseconds: r.timeUseconds,
			payloadType: r.payloadType,
			captureId: r.captureId,
			capturePass: r.capturePass,
			hepNodeName: r.hepNodeName,
			firstLine: d.payload.split('\r\n')[0],
			payloadLen: Buffer.byteLength(d.payload),
		}));
	}
	if (count > 0 && n >= count)
		done();
});
sock.on('listening', () => console.error(`hep_collect: listening on udp 127.0.0.1:${port}`));
sock.on('error', (e) => {
	console.error(`hep_collect: ${e.message}`);
	process.exit(1);
});
process.on('SIGTERM', done);
setTimeout(done, seconds * 1000);
sock.bind(port, '127.0.0.1');
