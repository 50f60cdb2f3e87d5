#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// grpc_receiver.js: a loopback-only OTLP/gRPC receiver for shmlog's
// end-to-end tests: a real gRPC server (@grpc/grpc-js) serving
// opentelemetry.proto.collector.logs.v1.LogsService/Export and
// metrics.v1.MetricsService/Export. grpc-js does the HTTP/2, the framing
// and gzip/deflate; requests are decoded with the protobufjs root that
// @opentelemetry/otlp-transformer ships, never with our own code. It writes
// the same JSON lines as receiver.js (otlp_lines.js), so harness.py's
// checks apply unchanged.
//
//   node grpc_receiver.js --port-file F --out OUT [--plan "14*2,8:2,3,partial:5"]
//                         [--plan-metrics] [--metrics-out FILE]
//                         [--tls-cert PEM --tls-key PEM] [--raw-http2]
//
// Files written (as receiver.js): OUT (log records), OUT.rejected (records
// of refused calls, + status), OUT.requests (one line per call: n, path,
// status = the gRPC code answered (0 = OK), records, encoding (the
// call's grpc-encoding), ctype, bytes (decompressed message), t_ms,
// t_resp_ms, hdr (the call's metadata: user-agent, configured headers),
// transport (te, content-type, grpc-encoding, grpc-accept-encoding,
// grpc-timeout as sent), deadline_ms (what grpc-js made of grpc-timeout,
// or null), peer (the client's address:port: one per connection), plan,
// partial, retry_delay_s), OUT.metrics (or
// --metrics-out FILE) and FILE.rejected for metric data points.
// F gets the gRPC port; F.control the port of a plain HTTP control
// server on 127.0.0.1: POST /_control/plan with a plan as body replaces
// the plan (harness.py's Env.set_plan).
//
// Plan entries (one per logs call, in order; after the plan, OK): "0"
// (OK), any gRPC code "N" (an error with that status, e.g. 14
// UNAVAILABLE, 3 INVALID_ARGUMENT, 16 UNAUTHENTICATED), "N:S" (the error
// with grpc-status-details-bin = google.rpc.Status carrying a
// google.rpc.RetryInfo of S seconds, e.g. "8:2" RESOURCE_EXHAUSTED), and
// "partial:N" (OK with partial_success rejecting N). "*K" repeats an
// entry K times. With --plan-metrics the plan applies to metrics too.
// --raw-http2 serves with node's http2 module instead of grpc-js (see
// rawCall), which adds "http:NNN" (HTTP status NNN, no grpc-status, as a
// proxy in front of a gRPC server answers) and "gzip-partial:N" (the
// partial success in a gzip-compressed response message), and it takes
// zstd-compressed messages (fzstd), which grpc-js has no codec for.
// Under grpc-js a zstd message never reaches the handler: grpc-js
// answers UNIMPLEMENTED itself, and that call is not in OUT.requests.
//
// Read next: test_grpc.py, otlp_lines.js, receiver.js.
'use strict';

const fs = require('fs');
const http = require('http');
const http2 = require('http2');
const zlib = require('zlib');

const otlp = require('./otlp_lines.js');
const { TO_OBJ, logLines, metricLines, emptyMetrics, countRecords, appendLines } = otlp;

const MAX_MSG = 64 << 20; // OTLP's recommended request cap

function usage(msg) {
	process.stderr.write(`grpc_receiver.js: ${msg}\n`);
	process.exit(2);
}

function parsePlan(s) {
	const plan = [];
	for (let e of s.split(',').map((x) => x.trim()).filter((x) => x)) {
		let rep = 1;
		const m = /^(.*)\*(\d+)$/.exec(e);
		if (m) {
			e = m[1];
			rep = Number(m[2]);
		}
		let ent;
		let mm;
		if ((mm = /^partial:(\d+)$/.exec(e))) ent = { kind: 'partial', n: Number(mm[1]) };
		else if ((mm = /^gzip-partial:(\d+)$/.exec(e))) ent = { kind: 'partial', n: Number(mm[1]), gzip: true };
		else if ((mm = /^http:(\d{3})$/.exec(e))) ent = { kind: 'http', code: Number(mm[1]) };
		else if ((mm = /^(\d{1,2})(?::(\d+(?:\.\d+)?))?$/.exec(e)) && Number(mm[1]) <= 16)
			ent = { kind: 'status', code: Number(mm[1]), retryDelay: mm[2] === undefined ? undefined : Number(mm[2]) };
		else throw new Error(`bad plan entry '${e}'`);
		ent.text = e;
		for (let k = 0; k < rep; k++) plan.push(ent);
	}
	return plan;
}

function parseArgs(argv) {
	const o = { plan: [], planMetrics: false };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length) usage(`${a} needs a value`);
			return argv[++i];
		};
		if (a === '--port-file') o.portFile = val();
		else if (a === '--out') o.out = val();
		else if (a === '--plan') {
			try {
				o.plan = parsePlan(val());
			} catch (e) {
				usage(e.message);
			}
		} else if (a === '--plan-metrics') o.planMetrics = true;
		else if (a === '--metrics-out') o.metricsOut = val();
		else if (a === '--tls-cert') o.tlsCert = val();
		else if (a === '--tls-key') o.tlsKey = val();
		else if (a === '--raw-http2') o.rawHttp2 = true;
		else usage(`unknown argument '${a}'`);
	}
	if (!o.portFile || !o.out) usage('--port-file and --out are required');
	if (!o.tlsCert !== !o.tlsKey) usage('--tls-cert and --tls-key go together');
	if (o.rawHttp2 && o.tlsCert) usage('--raw-http2 is cleartext only');
	if (!o.metricsOut) o.metricsOut = o.out + '.metrics';
	return o;
}

const opts = parseArgs(process.argv.slice(2));

let root;
let grpc;
let pbWriter;
let fzstd;
try {
	root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
	grpc = require('@grpc/grpc-js');
	pbWriter = require('protobufjs/minimal').Writer;
	fzstd = require('fzstd');
} catch (e) {
	process.stderr.write(`grpc_receiver.js: npm packages missing (run npm ci in tests/e2e): ${e.message}\n`);
	process.exit(77);
}
otlp.installStrictUtf8();

// grpc-js strips the transport headers (te, content-type, grpc-encoding,
// grpc-accept-encoding, grpc-timeout) from a call's metadata; the tests
// check them, so keep a copy on the metadata object as grpc-js builds it
// from the HTTP/2 headers (the handler's call.metadata is that object).
const TRANSPORT_HEADERS = ['te', 'content-type', 'grpc-encoding', 'grpc-accept-encoding', 'grpc-timeout'];
{
	const { Metadata } = require('@grpc/grpc-js/build/src/metadata.js');
	const fromHttp2Headers = Metadata.fromHttp2Headers;
	Metadata.fromHttp2Headers = function (headers) {
		const md = fromHttp2Headers.call(this, headers);
		const raw = {};
		for (const k of TRANSPORT_HEADERS) if (headers[k] !== undefined) raw[k] = String(headers[k]);
		Object.defineProperty(md, 'transportHeaders', { value: raw, enumerable: false });
		return md;
	};
}

const P = root.opentelemetry.proto;
const SIG = {
	logs: {
		path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
		req: P.collector.logs.v1.ExportLogsServiceRequest,
		resp: P.collector.logs.v1.ExportLogsServiceResponse,
		rejectedField: 'rejectedLogRecords',
	},
	metrics: {
		path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
		req: P.collector.metrics.v1.ExportMetricsServiceRequest,
		resp: P.collector.metrics.v1.ExportMetricsServiceResponse,
		rejectedField: 'rejectedDataPoints',
	},
};

// google.rpc.Status { code = 1; message = 2; details = 3 (Any) } with one
// Any { type_url = 1; value = 2 } holding google.rpc.RetryInfo
// { retry_delay = 1 (Duration { seconds = 1; nanos = 2 }) }, written with
// protobufjs' Writer (these types are not in the OTLP root).
function retryInfoStatus(code, message, delayS) {
	const secs = Math.floor(delayS);
	const nanos = Math.round((delayS - secs) * 1e9);
	const dur = pbWriter.create();
	dur.uint32((1 << 3) | 0).int64(secs);
	if (nanos) dur.uint32((2 << 3) | 0).int32(nanos);
	const ri = pbWriter.create().uint32((1 << 3) | 2).bytes(dur.finish()).finish();
	const any = pbWriter.create()
		.uint32((1 << 3) | 2).string('type.googleapis.com/google.rpc.RetryInfo')
		.uint32((2 << 3) | 2).bytes(ri).finish();
	return Buffer.from(pbWriter.create()
		.uint32((1 << 3) | 0).int32(code)
		.uint32((2 << 3) | 2).string(message)
		.uint32((3 << 3) | 2).bytes(any).finish());
}

let callCounter = 0;
let planIdx = 0;

function metadataMap(md) {
	const o = {};
	for (const [k, v] of Object.entries(md.getMap())) o[k] = Buffer.isBuffer(v) ? v.toString('base64') : v;
	return o;
}

// One call, whatever server carried it: decode, log, pick the planned
// answer. meta: {enc, hdr, transport, peer, deadline_ms}; ans: ok(o),
// error(code, details, statusDetailsBin or undefined), http(status).
function serveCall(sig, body, meta, ans) {
	const tArrive = Date.now();
	const n = ++callCounter;
	const info = Object.assign({ n, path: SIG[sig].path, status: 0, records: 0, ctype: 'application/grpc',
		bytes: body.length, t_ms: tArrive }, meta);
	const badBefore = otlp.utf8.bad;
	let lines = null;
	const finish = (status) => {
		info.status = status;
		info.t_resp_ms = Date.now();
		info.bad_utf8 = otlp.utf8.bad - badBefore;
		if (lines) {
			const file = sig === 'logs' ? opts.out : opts.metricsOut;
			if (status === 0) appendLines(file, lines);
			else appendLines(file + '.rejected', lines.map((l) => Object.assign(l, { status })));
		}
		appendLines(opts.out + '.requests', [info]);
	};

	let msg;
	try {
		msg = SIG[sig].req.toObject(SIG[sig].req.decode(body), TO_OBJ);
	} catch (e) {
		process.stderr.write(`grpc_receiver.js: call ${n}: ${e.message}\n`);
		info.why = `decode: ${e.message}`;
		finish(grpc.status.INVALID_ARGUMENT);
		return ans.error(grpc.status.INVALID_ARGUMENT, `decode: ${e.message}`);
	}
	info.records = countRecords(sig, msg);
	if (sig === 'metrics') info.empty_metrics = emptyMetrics(msg);
	lines = sig === 'logs' ? logLines(n, msg, meta.encoding, 'application/grpc')
		: metricLines(n, msg, meta.encoding, 'application/grpc');

	let ent = { kind: 'status', code: 0 };
	if (sig === 'logs' || opts.planMetrics) {
		if (planIdx < opts.plan.length) ent = opts.plan[planIdx];
		planIdx++;
	}
	info.plan = ent.text;

	if (ent.kind === 'http') {
		finish(`http:${ent.code}`);
		return ans.http(ent.code);
	}
	if (ent.kind === 'partial' || ent.code === 0) {
		const o = {};
		if (ent.kind === 'partial') {
			o.partialSuccess = { [SIG[sig].rejectedField]: ent.n, errorMessage: `rejected ${ent.n}` };
			info.partial = ent.n;
		}
		finish(0); // files first: a test reads them as soon as it has the answer
		return ans.ok(o, ent.gzip);
	}
	const details = `planned ${ent.code}: a message to percent-encode (100%)`;
	let bin;
	if (ent.retryDelay !== undefined) {
		bin = retryInfoStatus(ent.code, details, ent.retryDelay);
		info.retry_delay_s = ent.retryDelay;
	}
	finish(ent.code);
	ans.error(ent.code, details, bin);
}

function metadataMap(md) {
	const o = {};
	for (const [k, v] of Object.entries(md.getMap())) o[k] = Buffer.isBuffer(v) ? v.toString('base64') : v;
	return o;
}

// grpc-js: the message arrives decompressed (gzip, deflate) as call.request.
function handler(sig) {
	return (call, callback) => {
		const th = call.metadata.transportHeaders || {};
		const deadline = call.getDeadline();
		const meta = { encoding: String(th['grpc-encoding'] || ''), hdr: metadataMap(call.metadata), transport: th,
			peer: call.getPeer(), deadline_ms: Number.isFinite(Number(deadline)) ? Number(deadline) - Date.now() : null };
		serveCall(sig, call.request, meta, {
			ok: (o) => callback(null, o),
			error: (code, details, bin) => {
				const err = { code, details };
				if (bin) {
					err.metadata = new grpc.Metadata();
					err.metadata.set('grpc-status-details-bin', bin);
				}
				callback(err);
			},
			http: () => callback({ code: grpc.status.INTERNAL, details: 'http: entries need --raw-http2' }),
		});
	};
}

// --raw-http2: node's own HTTP/2 server standing where a proxy or a
// non-gRPC server would: it can answer a plain HTTP status without any
// grpc-status ("http:NNN"), or an OK whose response message is gzip
// compressed ("gzip-partial:N"), which grpc-js servers never send. The
// request is unframed here (gunzipped, or zstd-decompressed by fzstd) and
// decoded by the same root.
function rawCall(stream, headers, body) {
	const path = String(headers[':path'] || '');
	const sig = path === SIG.logs.path ? 'logs' : path === SIG.metrics.path ? 'metrics' : null;
	const th = {};
	for (const k of TRANSPORT_HEADERS) if (headers[k] !== undefined) th[k] = String(headers[k]);
	// A trailers-only answer: grpc-status in the only header block.
	const fail = (code, details, bin) => {
		const h = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code),
			'grpc-message': encodeURIComponent(details) };
		if (bin) h['grpc-status-details-bin'] = bin.toString('base64').replace(/=+$/, '');
		stream.respond(h, { endStream: true });
	};
	if (!sig) return fail(grpc.status.UNIMPLEMENTED, `unknown method ${path}`);
	if (body.length < 5 || body.length - 5 !== body.readUInt32BE(1) || body[0] > 1)
		return fail(grpc.status.INTERNAL, 'bad message frame');
	let msg = body.subarray(5);
	if (body[0] === 1) {
		const enc = th['grpc-encoding'];
		if (enc === 'gzip') msg = zlib.gunzipSync(msg, { maxOutputLength: MAX_MSG });
		else if (enc === 'zstd') msg = Buffer.from(fzstd.decompress(msg));
		else return fail(grpc.status.UNIMPLEMENTED, `encoding ${enc}`);
		if (msg.length > MAX_MSG) return fail(grpc.status.RESOURCE_EXHAUSTED, 'message too large');
	}
	const hdr = {};
	for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') && !(k in th)) hdr[k] = String(v);
	const meta = { encoding: th['grpc-encoding'] || '', hdr, transport: th,
		peer: `${stream.session.socket.remoteAddress}:${stream.session.socket.remotePort}`, deadline_ms: null };
	const R = SIG[sig].resp;
	serveCall(sig, msg, meta, {
		ok: (o, gz) => {
			let m = Buffer.from(R.encode(R.fromObject(o)).finish());
			if (gz) m = zlib.gzipSync(m);
			const frame = Buffer.alloc(5);
			frame[0] = gz ? 1 : 0;
			frame.writeUInt32BE(m.length, 1);
			stream.respond({ ':status': 200, 'content-type': 'application/grpc',
				'grpc-encoding': gz ? 'gzip' : 'identity' }, { waitForTrailers: true });
			stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
			stream.end(Buffer.concat([frame, m]));
		},
		error: (code, details, bin) => fail(code, details, bin),
		http: (status) => {
			stream.respond({ ':status': status, 'content-type': 'text/plain' });
			stream.end(`proxy says ${status}\n`);
		},
	});
}

function definition(sig) {
	const R = SIG[sig].resp;
	return {
		Export: {
			path: SIG[sig].path,
			requestStream: false,
			responseStream: false,
			// The raw message: the handler decodes it, so a bad one is
			// logged and answered rather than failed inside grpc-js.
			requestSerialize: (b) => b,
			requestDeserialize: (b) => b,
			responseSerialize: (o) => Buffer.from(R.encode(R.fromObject(o)).finish()),
			responseDeserialize: (b) => R.decode(b),
		},
	};
}

const server = new grpc.Server({
	'grpc.max_receive_message_length': MAX_MSG,
	'grpc.max_send_message_length': 4 << 20,
});
server.addService(definition('logs'), { Export: handler('logs') });
server.addService(definition('metrics'), { Export: handler('metrics') });

const creds = opts.tlsCert
	? grpc.ServerCredentials.createSsl(null,
		[{ private_key: fs.readFileSync(opts.tlsKey), cert_chain: fs.readFileSync(opts.tlsCert) }], false)
	: grpc.ServerCredentials.createInsecure();

// The control server: plan changes between phases, never a call of the log.
const control = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		if (req.url === '/_control/plan' && req.method === 'POST') {
			try {
				opts.plan = parsePlan(Buffer.concat(chunks).toString());
				planIdx = 0;
				res.writeHead(204);
			} catch (e) {
				res.writeHead(400);
			}
		} else {
			res.writeHead(404);
		}
		res.end();
	});
});

function writePort(file, port) {
	const tmp = `${file}.tmp-${process.pid}`;
	fs.writeFileSync(tmp, `${port}\n`);
	fs.renameSync(tmp, file);
}

let raw = null; // the --raw-http2 server

function shutdown() {
	control.close();
	if (raw) raw.close();
	server.forceShutdown();
	process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// Loopback only, never anything else.
control.listen(0, '127.0.0.1', () => {
	if (opts.rawHttp2) {
		raw = http2.createServer();
		raw.on('stream', (stream, headers) => {
			const chunks = [];
			stream.on('data', (c) => chunks.push(c));
			stream.on('end', () => {
				try {
					rawCall(stream, headers, Buffer.concat(chunks));
				} catch (e) {
					process.stderr.write(`grpc_receiver.js: raw call: ${e.stack}\n`);
					stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
				}
			});
		});
		raw.listen(0, '127.0.0.1', () => {
			writePort(`${opts.portFile}.control`, control.address().port);
			writePort(opts.portFile, raw.address().port);
		});
		return;
	}
	server.bindAsync('127.0.0.1:0', creds, (err, port) => {
		if (err) {
			process.stderr.write(`grpc_receiver.js: bind: ${err.message}\n`);
			process.exit(1);
		}
		writePort(`${opts.portFile}.control`, control.address().port);
		writePort(opts.portFile, port); // last: harness waits for this one
	});
});
