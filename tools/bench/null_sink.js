#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// null_sink.js: the cheapest OTLP/HTTP receiver for bench_e2e.sh, so that
// the end-to-end figure measures the agent and not the receiver. It never
// decodes: every POST is answered 200 with an empty protobuf
// Export*ServiceResponse (zero bytes, a valid message), and one line
// {"t_ms","path","bytes","status":200} is appended to OUT.requests per request.
// Record counts come from the exporter's acknowledged sent_records.
// tests/e2e/receiver.js is the receiver that checks what arrives.
//
//   node null_sink.js --port-file F --out OUT
'use strict';

const fs = require('fs');
const http = require('http');

const args = process.argv.slice(2);
const opt = (name) => {
	const i = args.indexOf(name);
	if (i < 0 || i + 1 >= args.length) {
		process.stderr.write(`null_sink.js: ${name} FILE is required\n`);
		process.exit(2);
	}
	return args[i + 1];
};
const portFile = opt('--port-file');
const reqFile = opt('--out') + '.requests';
const reqFd = fs.openSync(reqFile, 'a');

const server = http.createServer((req, res) => {
	let bytes = 0;
	req.on('data', (c) => { bytes += c.length; });
	req.on('end', () => {
		const status = req.method === 'POST' ? 200 : 405;
		fs.writeSync(reqFd, JSON.stringify({ t_ms: Date.now(), path: req.url, bytes, status }) + '\n');
		res.writeHead(status, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 });
		res.end();
	});
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
	// Written then renamed: a reader never sees a partial port number.
	fs.writeFileSync(portFile + '.tmp', String(server.address().port));
	fs.renameSync(portFile + '.tmp', portFile);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
