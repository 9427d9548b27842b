// ussd_app.js PORT LOG: a USSD application for tests/it_ussd.sh, written
// with the npm package ussd-menu-builder (1.2.0) behind node's own http
// server, as an operator's partner would write one: the Africa's Talking
// convention (POST form sessionId, serviceCode, phoneNumber, text; reply
// "CON ..." or "END ..."). The menu, three levels deep:
//
//   Switchyard Money                1 -> END "Balance of <phoneNumber>: KES 1000.00"
//   1. Balance                      2 -> "Enter recipient number:" -> <number>
//   2. Send money                        -> "Amount to send to <number>:" -> <amount>
//   3. Airtime                           -> END "Sent <amount> to <number>"
//                                   3 -> "Airtime\n1. For myself\n2. For another number"
//                                        1 -> "Amount of airtime:" -> END "Bought <amount> airtime for <phoneNumber>"
//                                        2 -> "Number to top up:" -> <number>
//                                             -> "Amount of airtime for <number>:" -> END "Bought <amount> airtime for <number>"
//
// An input that matches nothing shows the same screen again (the package's
// default). The recipient number is kept in a session store keyed by
// sessionId (the package's sessionConfig) and read back one request later,
// so a gateway that changed sessionId within a session would show
// "undefined" in the END text.
//
// POST /ussd answers; POST /hang takes the request and never answers (an
// application that hangs, for the gateway's reply timeout). Every request
// is appended to LOG as one JSON line {path, sessionId, serviceCode,
// phoneNumber, text, reply} (reply null for /hang). Prints "listening PORT"
// once ready; SIGTERM exits 0 after printing {"requests": N}.
'use strict';
const http = require('http');
const fs = require('fs');
const querystring = require('querystring');
const UssdMenu = require('ussd-menu-builder');

const port = parseInt(process.argv[2], 10);
const logPath = process.argv[3];
if (!(port > 0) || !logPath) {
	console.error('usage: ussd_app.js PORT LOG');
	process.exit(2);
}

const NUMBER = '*^\\d{4,15}$';
const AMOUNT = '*^\\d{1,7}$';
const sessions = {}; // sessionId -> {key: value}

// One menu per request: a UssdMenu holds the request it runs (args, val,
// the result callback), so concurrent requests must not share one.
function makeMenu() {
	const menu = new UssdMenu();
	menu.sessionConfig({
		start: (id, cb) => {
			if (!(id in sessions)) sessions[id] = {};
			cb();
		},
		end: (id, cb) => {
			delete sessions[id];
			cb();
		},
		set: (id, key, value, cb) => {
			sessions[id][key] = value;
			cb();
		},
		get: (id, key, cb) => cb(null, sessions[id][key]),
	});
	menu.startState({
		run: () => menu.con('Switchyard Money\n1. Balance\n2. Send money\n3. Airtime'),
		next: { 1: 'balance', 2: 'send', 3: 'airtime' },
	});
	menu.state('balance', { run: () => menu.end(`Balance of ${menu.args.phoneNumber}: KES 1000.00`) });
	menu.state('send', { run: () => menu.con('Enter recipient number:'), next: { [NUMBER]: 'send.number' } });
	menu.state('send.number', {
		run: () => menu.session.set('to', menu.val).then(() => menu.con(`Amount to send to ${menu.val}:`)),
		next: { [AMOUNT]: 'send.amount' },
	});
	menu.state('send.amount', {
		run: () => menu.session.get('to').then((to) => menu.end(`Sent ${menu.val} to ${to}`)),
	});
	menu.state('airtime', {
		run: () => menu.con('Airtime\n1. For myself\n2. For another number'),
		next: { 1: 'airtime.self', 2: 'airtime.other' },
	});
	menu.state('airtime.self', { run: () => menu.con('Amount of airtime:'), next: { [AMOUNT]: 'airtime.self.amount' } });
	menu.state('airtime.self.amount', {
		run: () => menu.end(`Bought ${menu.val} airtime for ${menu.args.phoneNumber}`),
	});
	menu.state('airtime.other', { run: () => menu.con('Number to top up:'), next: { [NUMBER]: 'airtime.other.number' } });
	menu.state('airtime.other.number', {
		run: () => menu.session.set('to', menu.val).then(() => menu.con(`Amount of airtime for ${menu.val}:`)),
		next: { [AMOUNT]: 'airtime.other.amount' },
	});
	menu.state('airtime.other.amount', {
		run: () => menu.session.get('to').then((to) => menu.end(`Bought ${menu.val} airtime for ${to}`)),
	});
	return menu;
}

let requests = 0;
function log(path, args, reply) {
	const line = {
		path,
		sessionId: args.sessionId,
		serviceCode: args.serviceCode,
		phoneNumber: args.phoneNumber,
		text: args.text,
		reply,
	};
	fs.appendFileSync(logPath, JSON.stringify(line) + '\n');
}

function answer(req, res, body) {
	const f = querystring.parse(body);
	const args = {
		sessionId: f.sessionId,
		serviceCode: f.serviceCode,
		phoneNumber: f.phoneNumber,
		text: f.text === undefined ? '' : f.text,
	};
	requests++;
	if (req.url === '/hang') {
		log('/hang', args, null); // never answered: the gateway's timeout ends it
		return;
	}
	const menu = makeMenu();
	menu.on('error', (err) => {
		log(req.url, args, `ERROR ${err.message}`);
		res.writeHead(500, { 'Content-Type': 'text/plain' });
		res.end(`error: ${err.message}\n`);
	});
	menu.run(args, (reply) => {
		log(req.url, args, reply);
		res.writeHead(200, { 'Content-Type': 'text/plain' });
		res.end(reply);
	});
}

const server = http.createServer((req, res) => {
	const chunks = [];
	let size = 0;
	req.on('data', (c) => {
		size += c.length;
		if (size <= 65536) chunks.push(c);
	});
	req.on('end', () => {
		if (req.method !== 'POST' || (req.url !== '/ussd' && req.url !== '/hang')) {
			res.writeHead(404, { 'Content-Type': 'text/plain' });
			res.end('not found\n');
			return;
		}
		answer(req, res, Buffer.concat(chunks).toString('utf8'));
	});
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => {
	console.log(JSON.stringify({ requests }));
	process.exit(0);
});
