// webhook_rx.js PORT OUT [MODE]: the alert webhook's receiver for
// tests/it_fraud.sh and tests/security/fraud.sh, on node's own http module
// (no npm package). Listens on 127.0.0.1:PORT; each POST's body must be one
// JSON document: it is parsed (a body that does not parse is written as
// {"bad_json": "..."}) and appended as one line to OUT, with the request's
// method, path and Content-Type under "_rx". MODE ok (default) answers 204;
// hang takes the request and never answers (a dead receiver, to show the
// switch does not wait for it). Prints "listening PORT" once ready; exits
// on SIGTERM.
'use strict';
const http = require('http');
const fs = require('fs');

const port = parseInt(process.argv[2], 10);
const out = process.argv[3];
const mode = process.argv[4] || 'ok';
if (!(port > 0) || !out || !['ok', 'hang'].includes(mode)) {
	console.error('usage: webhook_rx.js PORT OUT [ok|hang]');
	process.exit(2);
}

let n = 0;
const server = http.createServer((req, res) => {
	const chunks = [];
	let size = 0;
	req.on('data', (c) => {
		size += c.length;
		if (size <= 65536) chunks.push(c);
	});
	req.on('end', () => {
		n++;
		const text = Buffer.concat(chunks).toString('utf8');
		let doc;
		try {
			doc = JSON.parse(text);
		} catch (e) {
			doc = { bad_json: text };
		}
		doc._rx = { method: req.method, path: req.url, type: req.headers['content-type'] || '' };
		fs.appendFileSync(out, JSON.stringify(doc) + '\n');
		if (mode === 'ok') {
			res.writeHead(204);
			res.end();
		} // hang: never answered; the client's timeout ends it
	});
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => {
	console.log(JSON.stringify({ done: n }));
	process.exit(0);
});
