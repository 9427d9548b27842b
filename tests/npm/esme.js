#!/usr/bin/env node
// esme.js: an independent SMPP client (the npm package `smpp`) as an ESME
// against switchyard: binds as transceiver, submits N messages asking for
// receipts, answers every deliver_sm and matches receipts to accepted ids.
// Exit 0 only when N submitted, N submit_sm_resp OK and N receipts.
//
// usage: node esme.js HOST:PORT SYSTEM_ID PASSWORD N
//            [--window W] [--timeout S] [--to PREFIX] [--from NUMBER]
'use strict';

const smpp = require('smpp');

function usage(msg) {
	if (msg) console.error('esme.js: ' + msg);
	console.error('usage: node esme.js HOST:PORT SYSTEM_ID PASSWORD N [--window W] [--timeout S] [--to PREFIX] [--from NUMBER]');
	process.exit(2);
}

function parseArgs(argv) {
	const pos = [];
	const o = { window: 100, timeout: 120, to: '1415', from: '15550100' };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a.startsWith('--')) {
			const k = a.slice(2), v = argv[++i];
			if (!(k in o) || v === undefined) usage('bad option ' + a);
			o[k] = (k === 'to' || k === 'from') ? v : Number(v);
			if (k !== 'to' && k !== 'from' && !(o[k] > 0)) usage('bad value for ' + a);
		} else {
			pos.push(a);
		}
	}
	if (pos.length !== 4) usage('want 4 arguments');
	const m = /^(.+):(\d+)$/.exec(pos[0]);
	if (!m) usage('bad HOST:PORT ' + pos[0]);
	o.host = m[1];
	o.port = Number(m[2]);
	o.systemId = pos[1];
	o.password = pos[2];
	o.n = Number(pos[3]);
	if (!(Number.isInteger(o.n) && o.n > 0)) usage('bad N ' + pos[3]);
	return o;
}

const o = parseArgs(process.argv.slice(2));
const st = { submitted: 0, respOk: 0, respErr: 0, receipts: 0, rcptDup: 0, rcptUnknown: 0, rcptBad: 0, mo: 0 };
const accepted = new Set(); // ids from submit_sm_resp ESME_ROK without a receipt yet
const receipted = new Set(); // ids whose receipt came
const early = new Set(); // receipts for ids whose submit_sm_resp has not been seen yet
const errors = {};
let outstanding = 0, finished = false, progress = null;

// A receipt's id: the receipted_message_id TLV, else "id:..." in the text.
function receiptId(pdu) {
	if (pdu.receipted_message_id) return String(pdu.receipted_message_id).replace(/\0+$/, '');
	let sm = pdu.short_message;
	if (sm && typeof sm === 'object' && !Buffer.isBuffer(sm)) sm = sm.message;
	if (Buffer.isBuffer(sm)) sm = sm.toString('latin1');
	if (!sm && pdu.message_payload) sm = String(pdu.message_payload.message || pdu.message_payload);
	const m = /id:(\S+)/.exec(String(sm || ''));
	return m ? m[1] : null;
}

function countReceipt(id) {
	if (receipted.has(id)) { st.rcptDup++; return; }
	accepted.delete(id);
	receipted.add(id);
	st.receipts++;
}

function summary() {
	return `esme.js: ${st.submitted} submitted, ${st.respOk} resp ok, ${st.receipts} receipts` +
		` (resp errors ${st.respErr}, duplicate receipts ${st.rcptDup}, unknown ${st.rcptUnknown},` +
		` unparsable ${st.rcptBad}, other deliver_sm ${st.mo}` +
		(Object.keys(errors).length ? ', statuses ' + JSON.stringify(errors) : '') + ')';
}

function finish(reason) {
	if (finished) return;
	finished = true;
	clearInterval(progress);
	const ok = st.submitted === o.n && st.respOk === o.n && st.receipts === o.n;
	if (reason) console.log('esme.js: ' + reason);
	console.log(summary());
	process.exitCode = ok ? 0 : 1;
	session.unbind(() => session.close());
	setTimeout(() => process.exit(process.exitCode), 2000).unref();
}

function checkDone() {
	if (st.receipts === o.n && st.respOk === o.n) finish();
}

function onResp(pdu) {
	outstanding--;
	if (pdu.command_status === 0) {
		const id = String(pdu.message_id);
		st.respOk++;
		if (early.has(id)) { early.delete(id); countReceipt(id); } else accepted.add(id);
	} else {
		st.respErr++;
		errors[pdu.command_status] = (errors[pdu.command_status] || 0) + 1;
	}
	pump();
	checkDone();
}

// Keeps at most `window` submit_sm without their response.
function pump() {
	while (!finished && st.submitted < o.n && outstanding < o.window) {
		const i = st.submitted++;
		outstanding++;
		const dest = o.to + String(i).padStart(Math.max(0, 11 - o.to.length), '0');
		session.submit_sm({
			source_addr_ton: 1, source_addr_npi: 1, source_addr: o.from,
			dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: dest,
			registered_delivery: 1,
			short_message: 'esme.js message ' + i,
		}, onResp);
	}
}

function onDeliver(pdu) {
	session.send(pdu.response());
	if (!(pdu.esm_class & smpp.ESM_CLASS.MC_DELIVERY_RECEIPT)) { st.mo++; return; }
	const id = receiptId(pdu);
	if (id === null) { st.rcptBad++; return; }
	if (accepted.has(id) || receipted.has(id)) countReceipt(id);
	else if (early.has(id)) st.rcptDup++;
	else early.add(id); // its submit_sm_resp may still be on its way
	checkDone();
}

const session = smpp.connect({ host: o.host, port: o.port, auto_enquire_link_period: 10000 });
session.on('error', (e) => {
	console.log('esme.js: connection error: ' + e.message);
	if (!finished) { finished = true; console.log(summary()); process.exit(1); }
});
session.on('close', () => {
	if (!finished) { finished = true; console.log('esme.js: connection closed by the server'); console.log(summary()); process.exit(1); }
});
session.on('deliver_sm', onDeliver);
session.on('enquire_link', (pdu) => session.send(pdu.response()));
session.on('unbind', (pdu) => { session.send(pdu.response()); session.close(); });
session.on('connect', () => {
	session.bind_transceiver({ system_id: o.systemId, password: o.password }, (pdu) => {
		if (pdu.command_status !== 0) {
			console.log(`esme.js: bind_transceiver refused, status 0x${pdu.command_status.toString(16)}`);
			finished = true;
			process.exit(1);
		}
		pump();
	});
});
const t0 = Date.now();
setTimeout(() => finish(`timeout after ${o.timeout} s`), o.timeout * 1000).unref();
// Keep the process alive until finish(); report progress on long runs.
progress = setInterval(() => {
	console.error(`esme.js: ${((Date.now() - t0) / 1000).toFixed(0)} s: ${st.submitted} submitted, ${st.respOk} resp ok, ${st.receipts} receipts`);
}, 5000);
