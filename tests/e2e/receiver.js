#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// receiver.js: a loopback-only OTLP/HTTP receiver for shmlog's end-to-end
// tests. It decodes every request with the OpenTelemetry JavaScript packages
// (@opentelemetry/otlp-transformer's protobufjs root, fzstd for zstd), never
// with our own code, and writes what it received as JSON lines so that the
// Python tests (harness.py) can count and compare records.
//
//   node receiver.js --port-file F --out OUT [--plan "503,429:2,200"] [--port N]
//                    [--logs-path /custom/logs] [--metrics-path /custom/m]
//                    [--plan-metrics] [--metrics-out FILE] [--compact]
//                    [--tls-cert PEM --tls-key PEM [--tls-ca PEM]
//                     [--require-client-cert]]
//
// Files written:
//   OUT            one line per accepted log record (see recordLine());
//                  with --compact only {req, pid, body, time} (the fault
//                  tests' millions of records)
//   OUT.rejected   one line per record of a failed/refused request (+status)
//   OUT.requests   one line per request: n, status, records, timings...
//   OUT.metrics    (or --metrics-out FILE) one line per data point of an
//                  accepted metrics request: req, service, pid, resource,
//                  scope, name, unit, description, type (sum, gauge,
//                  histogram, exponentialHistogram, summary), monotonic
//                  (sums), temporality (1 delta, 2 cumulative; sums and
//                  histograms), attrs, start, time (nanoseconds as
//                  strings), value (sum, gauge: asDouble or asInt; valueType
//                  says which), count, sum, min, max, bounds, buckets
//                  (histograms), flags, encoding, ctype
//   FILE.rejected  the same for a failed metrics request (+status)
//   OUT.tls        (TLS only) one line per refused TLS handshake: t_ms,
//                  code, message (e.g. a client without a certificate)
//
// JSON requests are also checked as sent, before protobufjs' lenient
// fromObject sees them (OTLP/JSON mapping): traceId/spanId hex strings of
// 32/16 characters, 64-bit integers (timeUnixNano, intValue, asInt, count,
// bucketCounts...) decimal strings, enums (severityNumber,
// aggregationTemporality, kind) and 32-bit fields numbers, every key
// lowerCamelCase. The request line gets json: {problems (first 10),
// n_problems, seen: {id, int64, enum, key}}.
//
// TLS: --tls-cert/--tls-key serve HTTPS (still on 127.0.0.1 only);
// --tls-ca is the CA that client certificates must chain to, and
// --require-client-cert refuses handshakes without a valid one (mTLS).
// A request line then also has client_cn (the client certificate's CN, or
// null).
//
// Plan entries (one per logs request, in order of arrival; after the plan,
// 200): "200", any status "NNN", "NNN:S" (Retry-After: S seconds),
// "NNN:date" (Retry-After as an HTTP-date at least 2 s ahead), "400"
// (google.rpc.Status body), "partial:N" (200 + partial_success rejected N),
// "reset" (socket destroyed, no answer), "stall:S" (answer 200 after S s).
// Any entry may end in "*K" to repeat it K times ("503*3"). "NNN@S" (or
// "NNN:R@S" with Retry-After R) answers NNN to every request for S seconds
// from the first request it answers, then the plan goes on ("503@60"). POST
// /_control/plan with a plan as body replaces the plan (tests use it
// between phases; it is not a request of the log).
// With --plan-metrics the plan also applies to metrics requests.
//
// The record and data-point lines are otlp_lines.js's, shared with
// grpc_receiver.js (the OTLP/gRPC receiver).
//
// Read next: harness.py (starts this with the daemons), selftest_receiver.js.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const zlib = require('zlib');

const otlp = require('./otlp_lines.js');
const { METRIC_TYPES, TO_OBJ, logLines, metricLines, emptyMetrics, countRecords, appendLines } = otlp;

const MAX_BODY = 64 << 20; // OTLP's recommended request cap

function usage(msg) {
	process.stderr.write(`receiver.js: ${msg}\n`);
	process.exit(2);
}

function parseArgs(argv) {
	const o = { plan: [], logsPath: '/v1/logs', metricsPath: '/v1/metrics', planMetrics: false };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length) usage(`${a} needs a value`);
			return argv[++i];
		};
		if (a === '--port-file') o.portFile = val();
		else if (a === '--port') o.port = Number(val()); // a restarted receiver keeps its port
		else if (a === '--out') o.out = val();
		else if (a === '--plan') {
			try {
				o.plan = parsePlan(val());
			} catch (e) {
				usage(e.message);
			}
		}
		else if (a === '--logs-path') o.logsPath = val();
		else if (a === '--metrics-path') o.metricsPath = val();
		else if (a === '--plan-metrics') o.planMetrics = true;
		else if (a === '--metrics-out') o.metricsOut = val();
		else if (a === '--compact') o.compact = true;
		else if (a === '--tls-cert') o.tlsCert = val();
		else if (a === '--tls-key') o.tlsKey = val();
		else if (a === '--tls-ca') o.tlsCa = val();
		else if (a === '--require-client-cert') o.requireClientCert = true;
		else usage(`unknown argument '${a}'`);
	}
	if (!o.portFile || !o.out) usage('--port-file and --out are required');
	if (!o.tlsCert !== !o.tlsKey) usage('--tls-cert and --tls-key go together');
	if ((o.tlsCa || o.requireClientCert) && !o.tlsCert) usage('--tls-ca and --require-client-cert need --tls-cert');
	if (o.requireClientCert && !o.tlsCa) usage('--require-client-cert needs --tls-ca');
	if (!o.metricsOut) o.metricsOut = o.out + '.metrics';
	return o;
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
		if ((mm = /^(\d{3})(?::(\d+|date))?@(\d+(?:\.\d+)?)$/.exec(e)))
			ent = { kind: 'status', code: Number(mm[1]), retryAfter: mm[2], forS: Number(mm[3]) };
		else if ((mm = /^partial:(\d+)$/.exec(e))) ent = { kind: 'partial', n: Number(mm[1]) };
		else if (e === 'reset') ent = { kind: 'reset' };
		else if ((mm = /^stall:(\d+(?:\.\d+)?)$/.exec(e))) ent = { kind: 'stall', s: Number(mm[1]) };
		else if ((mm = /^(\d{3})(?::(\d+|date))?$/.exec(e)))
			ent = { kind: 'status', code: Number(mm[1]), retryAfter: mm[2] };
		else throw new Error(`bad plan entry '${e}'`);
		// Timed entries get their own object each: each keeps its start.
		for (let k = 0; k < rep; k++) plan.push(ent.forS !== undefined ? Object.assign({}, ent) : ent);
	}
	return plan;
}

const opts = parseArgs(process.argv.slice(2));

let root;
let fzstd;
try {
	root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
	fzstd = require('fzstd');
} catch (e) {
	process.stderr.write(`receiver.js: npm packages missing (run npm ci in tests/e2e): ${e.message}\n`);
	process.exit(77);
}

// Strict UTF-8 strings (otlp_lines.js): invalid bytes are counted, not hidden.
otlp.installStrictUtf8();

const P = root.opentelemetry.proto;
const SIG = {
	logs: {
		req: P.collector.logs.v1.ExportLogsServiceRequest,
		resp: P.collector.logs.v1.ExportLogsServiceResponse,
		rejectedField: 'rejectedLogRecords',
	},
	metrics: {
		req: P.collector.metrics.v1.ExportMetricsServiceRequest,
		resp: P.collector.metrics.v1.ExportMetricsServiceResponse,
		rejectedField: 'rejectedDataPoints',
	},
	traces: {
		req: P.collector.trace.v1.ExportTraceServiceRequest,
		resp: P.collector.trace.v1.ExportTraceServiceResponse,
		rejectedField: 'rejectedSpans',
	},
};

// JSON bodies carry traceId/spanId as hex (OTLP JSON mapping); protobufjs'
// fromObject wants base64 for bytes. Convert before fromObject.
function fixJsonIds(obj) {
	const fix = (r) => {
		for (const f of ['traceId', 'spanId']) {
			if (typeof r[f] === 'string') {
				if (!/^([0-9a-fA-F]{2})*$/.test(r[f])) throw new Error(`bad hex ${f} '${r[f]}'`);
				r[f] = Buffer.from(r[f], 'hex');
			}
		}
	};
	for (const rl of obj.resourceLogs || [])
		for (const sl of rl.scopeLogs || []) for (const lr of sl.logRecords || []) fix(lr);
	for (const rs of obj.resourceSpans || [])
		for (const ss of rs.scopeSpans || []) for (const sp of ss.spans || []) fix(sp);
	for (const rm of obj.resourceMetrics || [])
		for (const sm of rm.scopeMetrics || [])
			for (const m of sm.metrics || [])
				for (const k of METRIC_TYPES)
					for (const dp of (m[k] && m[k].dataPoints) || []) for (const ex of dp.exemplars || []) fix(ex);
}

// The OTLP/JSON mapping, checked on the parsed text as the agent sent it
// (protobufjs' fromObject would accept base64 ids, numbers for int64,
// enum names and snake_case keys alike). Returns {problems, n_problems, seen}.
const JSON_ID_LEN = { traceId: 32, spanId: 16, parentSpanId: 16 };
const JSON_INT64 = new Set(['timeUnixNano', 'observedTimeUnixNano', 'startTimeUnixNano', 'intValue',
	'asInt', 'count', 'zeroCount', 'bucketCounts']);
const JSON_ENUM = new Set(['severityNumber', 'aggregationTemporality', 'kind']);
const JSON_INT32 = new Set(['flags', 'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount',
	'scale', 'offset']);
const JSON_DOUBLE = new Set(['asDouble', 'doubleValue', 'sum', 'min', 'max', 'explicitBounds', 'quantile',
	'zeroThreshold']);
function jsonShape(root) {
	const problems = [];
	const seen = { id: 0, int64: 0, enum: 0, key: 0 };
	const bad = (path, what) => problems.push(`${path}: ${what}`);
	const isDbl = (v) => typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity';
	const walk = (v, path) => {
		if (Array.isArray(v)) {
			v.forEach((x, i) => walk(x, `${path}[${i}]`));
			return;
		}
		if (v === null || typeof v !== 'object') return;
		for (const [k, x] of Object.entries(v)) {
			const p = `${path}.${k}`;
			seen.key++;
			if (!/^[a-z][A-Za-z0-9]*$/.test(k)) bad(p, 'key is not lowerCamelCase');
			// "sum" is a metric's data (an object) and a histogram's double.
			if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
				walk(x, p);
			} else if (k in JSON_ID_LEN) {
				seen.id++;
				if (typeof x !== 'string' || !new RegExp(`^[0-9a-fA-F]{${JSON_ID_LEN[k]}}$`).test(x))
					bad(p, `${JSON.stringify(x)} is not a hex string of ${JSON_ID_LEN[k]} characters`);
			} else if (JSON_INT64.has(k)) {
				for (const y of Array.isArray(x) ? x : [x]) {
					seen.int64++;
					if (typeof y !== 'string' || !/^-?\d+$/.test(y)) bad(p, `${JSON.stringify(y)} is not a decimal string`);
				}
			} else if (JSON_ENUM.has(k)) {
				seen.enum++;
				if (!Number.isInteger(x)) bad(p, `${JSON.stringify(x)} is not an integer`);
			} else if (JSON_INT32.has(k)) {
				if (!Number.isInteger(x)) bad(p, `${JSON.stringify(x)} is not an integer`);
			} else if (JSON_DOUBLE.has(k)) {
				for (const y of Array.isArray(x) ? x : [x]) if (!isDbl(y)) bad(p, `${JSON.stringify(y)} is not a number`);
			} else if (k === 'value') {
				if (!isDbl(x)) bad(p, `${JSON.stringify(x)} is not a number`); // summary quantile value
			} else {
				walk(x, p);
			}
		}
	};
	walk(root, '');
	return { problems: problems.slice(0, 10), n_problems: problems.length, seen };
}

function decompress(enc, body) {
	switch (enc) {
	case '':
	case 'identity':
	case 'none':
		return body;
	case 'gzip':
	case 'x-gzip':
		return zlib.gunzipSync(body, { maxOutputLength: MAX_BODY });
	case 'deflate':
	case 'zlib':
		try {
			return zlib.inflateSync(body, { maxOutputLength: MAX_BODY });
		} catch (e) {
			return zlib.inflateRawSync(body, { maxOutputLength: MAX_BODY });
		}
	case 'zstd': {
		const out = Buffer.from(fzstd.decompress(new Uint8Array(body.buffer, body.byteOffset, body.length)));
		if (out.length > MAX_BODY) throw Object.assign(new Error('too large'), { status: 413 });
		return out;
	}
	default:
		throw Object.assign(new Error(`unsupported Content-Encoding '${enc}'`), { status: 400 });
	}
}

function signalOf(path) {
	const p = path.split('?')[0];
	if (p === opts.logsPath || p.endsWith('/v1/logs')) return 'logs';
	if (p === opts.metricsPath || p.endsWith('/v1/metrics')) return 'metrics';
	if (p.endsWith('/v1/traces')) return 'traces';
	return null;
}


// google.rpc.Status { int32 code = 1; string message = 2; }, by hand.
function rpcStatus(code, message) {
	const m = Buffer.from(message, 'utf8');
	const len = [];
	let l = m.length;
	do {
		let b = l & 0x7f;
		l >>>= 7;
		if (l) b |= 0x80;
		len.push(b);
	} while (l);
	return Buffer.concat([Buffer.from([0x08, code, 0x12, ...len]), m]);
}

// Request headers other than the transport's own, for tests that check
// what the exporter sent (User-Agent, configured headers).
function headerMap(req) {
	const skip = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'expect']);
	const o = {};
	for (const [k, v] of Object.entries(req.headers)) if (!skip.has(k)) o[k] = v;
	return o;
}

let reqCounter = 0;
let planIdx = 0;
const sockets = new Set();

function handle(req, res, body, tArrive) {
	const n = ++reqCounter;
	const enc = String(req.headers['content-encoding'] || '').trim().toLowerCase();
	const ctypeFull = String(req.headers['content-type'] || '');
	const ctype = ctypeFull.split(';')[0].trim().toLowerCase();
	const isJson = ctype === 'application/json';
	const sig = signalOf(req.url);
	const info = { n, path: req.url, status: 0, records: 0, encoding: enc, ctype, bytes: body.length, t_ms: tArrive,
		hdr: headerMap(req) };
	if (opts.tlsCert) {
		const pc = req.socket.getPeerCertificate ? req.socket.getPeerCertificate() : null;
		info.client_cn = pc && pc.subject ? pc.subject.CN || null : null;
	}
	const badBefore = otlp.utf8.bad;

	const finish = (status, lines, why) => {
		info.status = status;
		info.t_resp_ms = Date.now();
		info.bad_utf8 = otlp.utf8.bad - badBefore;
		if (why) info.why = why;
		if (lines) {
			if (sig === 'logs') {
				if (status === 200) appendLines(opts.out, lines);
				else appendLines(opts.out + '.rejected', lines.map((l) => Object.assign(l, { status })));
			} else if (sig === 'metrics') {
				if (status === 200) appendLines(opts.metricsOut, lines);
				else appendLines(opts.metricsOut + '.rejected', lines.map((l) => Object.assign(l, { status })));
			}
		}
		appendLines(opts.out + '.requests', [info]);
	};
	const reply = (status, headers, payload) => {
		res.writeHead(status, Object.assign({ 'Content-Length': payload.length }, headers));
		res.end(payload);
	};
	const errReply = (status, message, extra) => {
		if (isJson)
			reply(status, Object.assign({ 'Content-Type': 'application/json' }, extra || {}),
				Buffer.from(JSON.stringify({ code: status === 400 ? 3 : 14, message })));
		else
			reply(status, Object.assign({ 'Content-Type': 'application/x-protobuf' }, extra || {}),
				rpcStatus(status === 400 ? 3 : 14, message));
	};

	if (req.method !== 'POST') {
		finish(405, null, 'method');
		return errReply(405, 'POST only');
	}
	if (!sig) {
		finish(404, null, 'path');
		return errReply(404, `unknown path ${req.url}`);
	}
	if (!isJson && ctype !== 'application/x-protobuf') {
		finish(415, null, 'content-type');
		return errReply(415, `unsupported Content-Type '${ctypeFull}'`);
	}

	// Decode first: what the agent sent must be valid whatever we answer.
	let msg;
	let raw;
	try {
		raw = decompress(enc, body);
		info.raw_bytes = raw.length;
		const T = SIG[sig].req;
		if (isJson) {
			let text;
			try {
				text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
			} catch (e) {
				otlp.utf8.bad++;
				text = raw.toString('utf8');
			}
			const obj = JSON.parse(text);
			info.json = jsonShape(obj);
			fixJsonIds(obj);
			const err = T.verify(T.fromObject(obj));
			if (err) throw new Error(err);
			msg = T.toObject(T.fromObject(obj), TO_OBJ);
		} else {
			msg = T.toObject(T.decode(raw), TO_OBJ);
		}
	} catch (e) {
		const status = e.status || 400;
		process.stderr.write(`receiver.js: request ${n}: ${e.message}\n`);
		finish(status, null, `decode: ${e.message}`);
		return errReply(status, `decode: ${e.message}`);
	}
	info.records = countRecords(sig, msg);
	if (sig === 'metrics') info.empty_metrics = emptyMetrics(msg);
	const lines = sig === 'logs' ? logLines(n, msg, enc, ctype, opts.compact) : sig === 'metrics' ? metricLines(n, msg, enc, ctype) : [];

	let ent = { kind: 'status', code: 200 };
	if (sig === 'logs' || opts.planMetrics) {
		// A timed entry holds its place until its time is over.
		while (planIdx < opts.plan.length && opts.plan[planIdx].forS !== undefined) {
			const t = opts.plan[planIdx];
			if (t.t0 === undefined) t.t0 = tArrive;
			if (tArrive - t.t0 < t.forS * 1000) break;
			planIdx++;
		}
		if (planIdx < opts.plan.length) ent = opts.plan[planIdx];
		if (ent.forS === undefined) planIdx++;
	}
	info.plan = ent.kind === 'status' ? String(ent.code) + (ent.forS !== undefined ? `@${ent.forS}` : '') : ent.kind;

	const ok = (rejected) => {
		const R = SIG[sig].resp;
		const o = {};
		if (rejected !== undefined) {
			o.partialSuccess = { [SIG[sig].rejectedField]: rejected, errorMessage: `rejected ${rejected}` };
			info.partial = rejected;
		}
		// Files first: a test reads them as soon as it has the answer.
		finish(200, lines);
		if (isJson) {
			const js = R.toObject(R.fromObject(o), { longs: String });
			reply(200, { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify(js)));
		} else {
			reply(200, { 'Content-Type': 'application/x-protobuf' }, Buffer.from(R.encode(R.fromObject(o)).finish()));
		}
	};

	switch (ent.kind) {
	case 'reset':
		finish('reset', lines);
		req.socket.destroy();
		return;
	case 'partial':
		return ok(ent.n);
	case 'stall': {
		const timer = setTimeout(() => {
			if (res.destroyed || req.socket.destroyed) return finish('aborted', lines);
			ok();
		}, ent.s * 1000);
		res.on('close', () => {
			if (!res.writableEnded) {
				clearTimeout(timer);
				finish('aborted', lines);
			}
		});
		return;
	}
	default:
		break;
	}
	if (ent.code === 200) return ok();
	const headers = {};
	if (ent.retryAfter === 'date') {
		// Whole seconds only in an HTTP-date: round up so the wait is >= 2 s.
		headers['Retry-After'] = new Date((Math.floor(Date.now() / 1000) + 3) * 1000).toUTCString();
	} else if (ent.retryAfter !== undefined) {
		headers['Retry-After'] = ent.retryAfter;
	}
	info.retry_after = headers['Retry-After'];
	finish(ent.code, lines);
	errReply(ent.code, `planned ${ent.code}`, headers);
}

function onRequest(req, res) {
	const tArrive = Date.now();
	const chunks = [];
	let size = 0;
	let tooBig = false;
	req.on('data', (c) => {
		size += c.length;
		if (size > MAX_BODY) tooBig = true;
		else chunks.push(c);
	});
	req.on('end', () => {
		if (tooBig) {
			res.writeHead(413, { 'Content-Length': 0 });
			res.end();
			appendLines(opts.out + '.requests', [{ n: ++reqCounter, status: 413, bytes: size, t_ms: tArrive }]);
			return;
		}
		try {
			if (req.url === '/_control/plan' && req.method === 'POST') {
				// Tests replace the plan between phases: body = plan string.
				try {
					opts.plan = parsePlan(Buffer.concat(chunks).toString());
					planIdx = 0;
					res.writeHead(204);
				} catch (e) {
					res.writeHead(400);
				}
				res.end();
				return;
			}
			handle(req, res, Buffer.concat(chunks), tArrive);
		} catch (e) {
			process.stderr.write(`receiver.js: internal error: ${e.stack}\n`);
			if (!res.headersSent) {
				res.writeHead(500, { 'Content-Length': 0 });
				res.end();
			}
		}
	});
}

let server;
if (opts.tlsCert) {
	const tlsOpts = { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) };
	if (opts.tlsCa) {
		tlsOpts.ca = fs.readFileSync(opts.tlsCa);
		tlsOpts.requestCert = true;
		tlsOpts.rejectUnauthorized = !!opts.requireClientCert;
	}
	server = https.createServer(tlsOpts, onRequest);
	server.on('tlsClientError', (err) => {
		appendLines(opts.out + '.tls', [{ t_ms: Date.now(), code: err.code || '', message: String(err.message || err) }]);
	});
} else {
	server = http.createServer(onRequest);
}
server.on('connection', (s) => {
	sockets.add(s);
	s.on('close', () => sockets.delete(s));
});
server.keepAliveTimeout = 30000;

function shutdown() {
	server.close();
	for (const s of sockets) s.destroy();
	process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// Loopback only, never anything else.
server.listen(opts.port || 0, '127.0.0.1', () => {
	const port = server.address().port;
	const tmp = `${opts.portFile}.tmp-${process.pid}`;
	fs.writeFileSync(tmp, `${port}\n`);
	fs.renameSync(tmp, opts.portFile);
});
