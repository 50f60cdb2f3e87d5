#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// selftest_receiver.js: checks receiver.js on its own, without the daemons
// (CTest e2e_receiver_selftest). Starts it with a plan, POSTs hand-made
// OTLP requests (protobuf and JSON; gzip, deflate, zstd, identity) with
// node's http client and checks the answers and the files it writes.
// Exit 0 pass, 1 fail, 77 skip (npm packages missing).
'use strict';

const assert = require('assert');
const child = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

let root;
try {
	root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
	require('fzstd');
} catch (e) {
	console.log(`SKIP: npm packages missing (${e.message})`);
	process.exit(77);
}
const L = root.opentelemetry.proto.collector.logs.v1;
const M = root.opentelemetry.proto.collector.metrics.v1;

// A zstd frame made of raw blocks: valid zstd that needs no compressor.
function zstdRaw(buf) {
	const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0])];
	const fcs = Buffer.alloc(4);
	fcs.writeUInt32LE(buf.length);
	parts.push(fcs);
	const B = 1 << 17;
	let off = 0;
	do {
		const n = Math.min(B, buf.length - off);
		const last = off + n >= buf.length ? 1 : 0;
		const h = (n << 3) | last; // block type 0 = raw
		parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]));
		parts.push(buf.subarray(off, off + n));
		off += n;
	} while (off < buf.length);
	return Buffer.concat(parts);
}

function zstdReal(buf) {
	const r = child.spawnSync('zstd', ['-q', '-c', '-3'], { input: buf });
	return r.status === 0 ? r.stdout : null;
}

function kv(k, v) {
	if (typeof v === 'string') return { key: k, value: { stringValue: v } };
	if (typeof v === 'boolean') return { key: k, value: { boolValue: v } };
	if (Number.isInteger(v)) return { key: k, value: { intValue: v } };
	return { key: k, value: { doubleValue: v } };
}

function logsReq(service, pid, bodies, extra) {
	return {
		resourceLogs: [{
			resource: { attributes: [kv('service.name', service), kv('process.pid', pid), kv('host.name', 'h')] },
			scopeLogs: [{
				scope: { name: 'shmlog' },
				logRecords: bodies.map((b, i) => Object.assign({
					timeUnixNano: String(1700000000000000000n + BigInt(i)),
					observedTimeUnixNano: '1700000000000000999',
					severityNumber: 13,
					severityText: 'WARNING',
					body: { stringValue: b },
					attributes: [kv('log.iostream', 'stdout'), kv('shmlog.line.part', 1), kv('shmlog.line.last', true)],
				}, extra || {})),
			}],
		}],
	};
}

function pbLogs(obj) {
	return Buffer.from(L.ExportLogsServiceRequest.encode(L.ExportLogsServiceRequest.fromObject(obj)).finish());
}

function post(port, p, headers, body) {
	return new Promise((resolve) => {
		const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST',
			headers: Object.assign({ 'Content-Length': body.length }, headers), agent: false }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
		});
		req.on('error', (e) => resolve({ status: 'error', error: e.code || e.message }));
		req.end(body);
	});
}

function readLines(f) {
	if (!fs.existsSync(f)) return [];
	return fs.readFileSync(f, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
}

async function main() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmlog-rx-selftest-'));
	const out = path.join(dir, 'out.jsonl');
	const portFile = path.join(dir, 'port');
	const rx = child.spawn(process.execPath, [path.join(__dirname, 'receiver.js'), '--port-file', portFile,
		'--out', out, '--plan', '503,429:2,400,partial:3,reset,503:date,stall:0.3'],
	{ stdio: ['ignore', 'inherit', 'inherit'] });
	let exited = null;
	rx.on('exit', (code, sig) => { exited = { code, sig }; });
	const cleanup = () => {
		if (exited === null) rx.kill('SIGKILL');
		fs.rmSync(dir, { recursive: true, force: true });
	};
	try {
		const t0 = Date.now();
		while (!fs.existsSync(portFile)) {
			if (Date.now() - t0 > 10000 || exited) throw new Error('receiver did not start');
			await new Promise((r) => setTimeout(r, 20));
		}
		const port = Number(fs.readFileSync(portFile, 'utf8'));
		const ct = { 'Content-Type': 'application/x-protobuf' };
		const body1 = pbLogs(logsReq('svc', 42, ['a', 'b']));

		// Plan: 503, 429:2, 400, partial:3, reset, 503:date, stall, then 200s.
		let r = await post(port, '/v1/logs', ct, body1);
		assert.strictEqual(r.status, 503);
		r = await post(port, '/v1/logs', Object.assign({ 'Content-Encoding': 'gzip' }, ct), zlib.gzipSync(body1));
		assert.strictEqual(r.status, 429);
		assert.strictEqual(r.headers['retry-after'], '2');
		r = await post(port, '/v1/logs', ct, body1);
		assert.strictEqual(r.status, 400);
		assert.strictEqual(r.body[0], 0x08); // google.rpc.Status code field
		assert.strictEqual(r.body[1], 3);
		assert.strictEqual(r.body[2], 0x12);
		assert.strictEqual(r.body.subarray(4).toString(), 'planned 400');
		r = await post(port, '/v1/logs', ct, pbLogs(logsReq('svc', 42, ['p1', 'p2', 'p3', 'p4'])));
		assert.strictEqual(r.status, 200);
		const pr = L.ExportLogsServiceResponse.toObject(L.ExportLogsServiceResponse.decode(r.body), { longs: Number });
		assert.strictEqual(pr.partialSuccess.rejectedLogRecords, 3);
		assert.strictEqual(pr.partialSuccess.errorMessage, 'rejected 3');
		r = await post(port, '/v1/logs', ct, body1);
		assert.strictEqual(r.status, 'error'); // reset
		r = await post(port, '/v1/logs', ct, body1);
		assert.strictEqual(r.status, 503);
		const ra = Date.parse(r.headers['retry-after']);
		assert.ok(ra - Date.now() >= 1900, `HTTP-date Retry-After too close: ${r.headers['retry-after']}`);
		const tStall = Date.now();
		r = await post(port, '/v1/logs', ct, pbLogs(logsReq('stall', 1, ['s'])));
		assert.strictEqual(r.status, 200);
		assert.ok(Date.now() - tStall >= 280, 'stall did not stall');

		// After the plan: 200 with an empty response, every encoding.
		const bodies = ['hello', '', 'ünïcödé ✓ 日本', 'x'.repeat(20000)];
		const pb = pbLogs(logsReq('svc-pb', 7, bodies));
		r = await post(port, '/v1/logs', Object.assign({ 'Content-Encoding': 'gzip' }, ct), zlib.gzipSync(pb));
		assert.strictEqual(r.status, 200);
		assert.strictEqual(r.headers['content-type'], 'application/x-protobuf');
		assert.deepStrictEqual(L.ExportLogsServiceResponse.toObject(L.ExportLogsServiceResponse.decode(r.body)), {});
		r = await post(port, '/custom/prefix/v1/logs', Object.assign({ 'Content-Encoding': 'deflate' }, ct),
			zlib.deflateSync(pbLogs(logsReq('svc-deflate', 8, ['d']))));
		assert.strictEqual(r.status, 200);
		r = await post(port, '/v1/logs', Object.assign({ 'Content-Encoding': 'zstd' }, ct),
			zstdRaw(pbLogs(logsReq('svc-zstd', 9, ['z1', 'z2']))));
		assert.strictEqual(r.status, 200);
		const zr = zstdReal(pbLogs(logsReq('svc-zstd-real', 10, ['zr'])));
		if (zr) {
			r = await post(port, '/v1/logs', Object.assign({ 'Content-Encoding': 'zstd' }, ct), zr);
			assert.strictEqual(r.status, 200);
		}
		r = await post(port, '/v1/logs', Object.assign({ 'Content-Encoding': 'br' }, ct), pb);
		assert.strictEqual(r.status, 400);
		r = await post(port, '/v1/logs', { 'Content-Type': 'text/plain' }, pb);
		assert.strictEqual(r.status, 415);
		r = await post(port, '/v1/logs', ct, Buffer.from([0x0a, 0xff, 0xff]));
		assert.strictEqual(r.status, 400);

		// Invalid UTF-8 inside a protobuf string is counted, not hidden.
		const bad = pbLogs(logsReq('svc-bad', 11, ['BADUTF8']));
		const at = bad.indexOf(Buffer.from('BADUTF8'));
		bad[at + 3] = 0xff;
		r = await post(port, '/v1/logs', ct, bad);
		assert.strictEqual(r.status, 200);

		// JSON: hex ids, int64 as strings, answer in JSON.
		const js = logsReq('svc-json', 12, ['j1'], {
			traceId: '0102030405060708090a0b0c0d0e0f10', spanId: 'a1a2a3a4a5a6a7a8' });
		r = await post(port, '/v1/logs', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
			zlib.gzipSync(Buffer.from(JSON.stringify(js))));
		assert.strictEqual(r.status, 200);
		assert.strictEqual(r.headers['content-type'], 'application/json');
		assert.deepStrictEqual(JSON.parse(r.body.toString()), {});

		// Metrics: one line per data point, protobuf (zstd) and JSON (gzip).
		const mres = (svc, pid) => ({ attributes: [kv('service.name', svc), kv('process.pid', pid)] });
		const mobj = { resourceMetrics: [{
			resource: mres('m', 77),
			scopeMetrics: [{ scope: { name: 'shmlog', version: '1' }, metrics: [
				{ name: 'c', unit: '1', description: 'a counter', sum: { aggregationTemporality: 2, isMonotonic: true,
					dataPoints: [
						{ asInt: 5, startTimeUnixNano: '1700000000000000000', timeUnixNano: '1700000001000000000',
							attributes: [kv('route', 'a')] },
						{ asDouble: 2.5, startTimeUnixNano: '1700000000000000000', timeUnixNano: '1700000001000000000',
							attributes: [kv('route', 'b'), kv('otel.metric.overflow', true)] }] } },
				{ name: 'q', sum: { aggregationTemporality: 2, isMonotonic: false,
					dataPoints: [{ asDouble: -3, timeUnixNano: '2' }] } },
				{ name: 'g', unit: 'Cel', gauge: { dataPoints: [{ asDouble: 0, timeUnixNano: '3' }] } },
				{ name: 'h', unit: 'ms', histogram: { aggregationTemporality: 1, dataPoints: [{
					startTimeUnixNano: '10', timeUnixNano: '20', count: 6, sum: 1.5, min: -1, max: 2000,
					explicitBounds: [0, 5, 1000], bucketCounts: [2, 1, 2, 1] }] } },
				{ name: 'empty', gauge: {} },
			] }] }] };
		const mpb = Buffer.from(M.ExportMetricsServiceRequest.encode(M.ExportMetricsServiceRequest.fromObject(mobj)).finish());
		r = await post(port, '/v1/metrics', Object.assign({ 'Content-Encoding': 'zstd' }, ct), zstdRaw(mpb));
		assert.strictEqual(r.status, 200);
		assert.deepStrictEqual(M.ExportMetricsServiceResponse.toObject(M.ExportMetricsServiceResponse.decode(r.body)), {});
		const mjs = { resourceMetrics: [{ resource: mres('mj', 78), scopeMetrics: [{ scope: { name: 's' }, metrics: [
			{ name: 'hj', histogram: { aggregationTemporality: 2, dataPoints: [{ startTimeUnixNano: '5',
				timeUnixNano: '9', count: '3', sum: 7, min: 1, max: 5, explicitBounds: [2], bucketCounts: ['1', '2'],
				attributes: [kv('k', 1)],
				exemplars: [{ asDouble: 1, timeUnixNano: '6', traceId: '0102030405060708090a0b0c0d0e0f10',
					spanId: 'a1a2a3a4a5a6a7a8' }] }] } },
			{ name: 'gj', gauge: { dataPoints: [{ asInt: '9007199254740993', timeUnixNano: '9' }] } },
		] }] }] };
		r = await post(port, '/v1/metrics', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
			zlib.gzipSync(Buffer.from(JSON.stringify(mjs))));
		assert.strictEqual(r.status, 200);
		assert.deepStrictEqual(JSON.parse(r.body.toString()), {});
		r = await post(port, '/custom/v1/metrics', ct, Buffer.from([0x0a, 0xff, 0xff]));
		assert.strictEqual(r.status, 400);

		// Files.
		const got = readLines(out);
		const rej = readLines(out + '.rejected');
		const reqs = readLines(out + '.requests');
		const mets = readLines(out + '.metrics');
		const by = (s) => got.filter((g) => g.service === s);
		assert.deepStrictEqual(by('svc-pb').map((g) => g.body), bodies);
		const g0 = by('svc-pb')[0];
		assert.strictEqual(g0.pid, 7);
		assert.strictEqual(g0.sev, 13);
		assert.strictEqual(g0.sevText, 'WARNING');
		assert.strictEqual(g0.time, '1700000000000000000');
		assert.strictEqual(g0.observed, '1700000000000000999');
		assert.deepStrictEqual(g0.attrs, { 'log.iostream': 'stdout', 'shmlog.line.part': 1, 'shmlog.line.last': true });
		assert.strictEqual(g0.resource['host.name'], 'h');
		assert.strictEqual(g0.encoding, 'gzip');
		assert.strictEqual(g0.ctype, 'application/x-protobuf');
		assert.strictEqual(g0.traceId, '');
		assert.deepStrictEqual(by('svc-deflate').map((g) => g.body), ['d']);
		assert.deepStrictEqual(by('svc-zstd').map((g) => g.body), ['z1', 'z2']);
		assert.strictEqual(by('svc-zstd')[0].encoding, 'zstd');
		if (zr) assert.deepStrictEqual(by('svc-zstd-real').map((g) => g.body), ['zr']);
		const j = by('svc-json')[0];
		assert.strictEqual(j.traceId, '0102030405060708090a0b0c0d0e0f10');
		assert.strictEqual(j.spanId, 'a1a2a3a4a5a6a7a8');
		assert.strictEqual(j.pid, 12);
		assert.strictEqual(j.time, '1700000000000000000');
		assert.strictEqual(j.ctype, 'application/json');
		assert.strictEqual(by('svc').length, 4); // the partial-success request only
		assert.strictEqual(by('stall').length, 1);
		// 503, 429, 400, reset, 503:date: 2 records each.
		assert.deepStrictEqual(rej.map((x) => x.status), [503, 503, 429, 429, 400, 400, 'reset', 'reset', 503, 503]);
		assert.strictEqual(got.filter((g) => g.service === 'svc-bad').length, 1);
		const badReq = reqs.find((q) => q.n === got.find((g) => g.service === 'svc-bad').req);
		assert.strictEqual(badReq.bad_utf8, 1);
		assert.ok(reqs.filter((q) => q.n !== badReq.n).every((q) => !q.bad_utf8), 'spurious bad_utf8');
		assert.deepStrictEqual(reqs.slice(0, 7).map((q) => q.status), [503, 429, 400, 200, 'reset', 503, 200]);
		assert.strictEqual(reqs[1].encoding, 'gzip');
		assert.strictEqual(reqs[0].records, 2);
		assert.ok(reqs.every((q) => typeof q.t_ms === 'number'));
		assert.strictEqual(mets.length, 7, JSON.stringify(mets));
		const mp = (name, i) => mets.filter((x) => x.name === name)[i || 0];
		const c0 = mp('c', 0);
		assert.deepStrictEqual(
			[c0.service, c0.pid, c0.scope, c0.unit, c0.description, c0.type, c0.monotonic, c0.temporality, c0.value,
				c0.valueType, c0.start, c0.time, c0.encoding],
			['m', 77, 'shmlog', '1', 'a counter', 'sum', true, 2, 5, 'int', '1700000000000000000',
				'1700000001000000000', 'zstd']);
		assert.deepStrictEqual(c0.attrs, { route: 'a' });
		assert.deepStrictEqual(c0.resource, { 'service.name': 'm', 'process.pid': 77 });
		assert.deepStrictEqual([mp('c', 1).value, mp('c', 1).valueType, mp('c', 1).attrs],
			[2.5, 'double', { route: 'b', 'otel.metric.overflow': true }]);
		assert.deepStrictEqual([mp('q').type, mp('q').monotonic, mp('q').temporality, mp('q').value, mp('q').start],
			['sum', false, 2, -3, '0']);
		assert.deepStrictEqual([mp('g').type, mp('g').value, mp('g').unit, 'temporality' in mp('g'), 'monotonic' in mp('g')],
			['gauge', 0, 'Cel', false, false]);
		const hh = mp('h');
		assert.deepStrictEqual([hh.type, hh.temporality, hh.count, hh.sum, hh.min, hh.max, hh.bounds, hh.buckets,
			hh.start, hh.time], ['histogram', 1, 6, 1.5, -1, 2000, [0, 5, 1000], [2, 1, 2, 1], '10', '20']);
		const hj = mp('hj');
		assert.deepStrictEqual([hj.service, hj.pid, hj.ctype, hj.temporality, hj.count, hj.sum, hj.min, hj.max, hj.bounds,
			hj.buckets, hj.attrs, hj.exemplars], ['mj', 78, 'application/json', 2, 3, 7, 1, 5, [2], [1, 2], { k: 1 }, 1]);
		assert.strictEqual(mp('gj').value, '9007199254740993'); // beyond 2^53: kept exact, as a string
		assert.ok(!mets.some((x) => x.name === 'empty'));
		const mreqs = reqs.filter((q) => q.path.endsWith('/v1/metrics'));
		assert.deepStrictEqual(mreqs.map((q) => [q.status, q.records, q.empty_metrics]),
			[[200, 5, 1], [200, 2, 0], [400, 0, undefined]]);

		// The OTLP/JSON mapping as sent: a conforming request has no problem;
		// base64 ids, numbers for int64, enum names, snake_case keys are named.
		{
			const n0 = readLines(out + '.requests').length;
			const good = logsReq('svc-shape', 13, ['s1'], { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
			// kv() writes intValue as a number (decoders accept both); as sent by an exporter, a string.
			const str64 = (k, v) => (k === 'intValue' ? String(v) : v);
			r = await post(port, '/v1/logs', { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify(good, str64)));
			assert.strictEqual(r.status, 200);
			const bad = logsReq('svc-shape', 13, ['s2'], { traceId: 'CvdlGRbWQ92ESOshHIAxnA==', spanId: 'b7ad6b7169203331' });
			const lr = bad.resourceLogs[0].scopeLogs[0].logRecords[0];
			lr.timeUnixNano = 1700000000000000000;
			lr.severityNumber = 'SEVERITY_NUMBER_WARN';
			lr.dropped_attributes_count = 1;
			lr.attributes.push({ key: 'i', value: { intValue: 5 } });
			r = await post(port, '/v1/logs', { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify(bad)));
			const q = readLines(out + '.requests').slice(n0);
			assert.strictEqual(q.length, 2);
			assert.strictEqual(q[0].json.n_problems, 0, JSON.stringify(q[0].json));
			assert.deepStrictEqual([q[0].json.seen.id, q[0].json.seen.enum], [2, 1]);
			const probs = q[1].json.problems.join('\n');
			for (const w of ['traceId: "CvdlGRbWQ92ESOshHIAxnA==" is not a hex string of 32', 'timeUnixNano: 1700000000000000000 is not a decimal string',
				'severityNumber: "SEVERITY_NUMBER_WARN" is not an integer', 'dropped_attributes_count: key is not lowerCamelCase',
				'intValue: 5 is not a decimal string'])
				assert.ok(probs.includes(w), `missing '${w}' in ${probs}`);
		}

		// The plan can be replaced between test phases; the control call is not logged.
		r = await post(port, '/_control/plan', {}, Buffer.from('503:1'));
		assert.strictEqual(r.status, 204);
		r = await post(port, '/_control/plan', {}, Buffer.from('bogus'));
		assert.strictEqual(r.status, 400);
		r = await post(port, '/v1/logs', ct, body1);
		assert.strictEqual(r.status, 503);
		assert.strictEqual(r.headers['retry-after'], '1');
		r = await post(port, '/v1/logs', Object.assign({ 'x-api-key': 'k1' }, ct), body1);
		assert.strictEqual(r.status, 200);
		const reqs2 = readLines(out + '.requests');
		assert.strictEqual(reqs2.length, reqs.length + 4);
		assert.strictEqual(reqs2[reqs2.length - 1].hdr['x-api-key'], 'k1');
		assert.strictEqual(readLines(out + '.rejected').length, rej.length + 2);

		// A timed entry: 503 (Retry-After 1) for 0.6 s from its first answer, then the plan goes on.
		r = await post(port, '/_control/plan', {}, Buffer.from('503:1@0.6,429'));
		assert.strictEqual(r.status, 204);
		const tTimed = Date.now();
		for (let k = 0; k < 3; k++) {
			r = await post(port, '/v1/logs', ct, body1);
			if (Date.now() - tTimed < 500) {
				assert.strictEqual(r.status, 503);
				assert.strictEqual(r.headers['retry-after'], '1');
			}
		}
		await new Promise((res) => setTimeout(res, 700));
		r = await post(port, '/v1/logs', ct, body1);
		assert.strictEqual(r.status, 429);
		r = await post(port, '/v1/logs', ct, body1);
		assert.strictEqual(r.status, 200);
		const timed = readLines(out + '.requests').slice(-5);
		assert.strictEqual(timed[0].plan, '503@0.6');

		// SIGTERM: clean exit.
		rx.kill('SIGTERM');
		const t1 = Date.now();
		while (exited === null && Date.now() - t1 < 5000) await new Promise((res) => setTimeout(res, 20));
		assert.ok(exited && exited.code === 0, `receiver exit on SIGTERM: ${JSON.stringify(exited)}`);
		console.log(`PASS: receiver self-test (${got.length} records accepted, ${rej.length} rejected, ` +
			`${mets.length} metric points, ${reqs.length} requests${zr ? '' : ', zstd CLI absent: raw-block frame only'})`);
		cleanup();
		process.exit(0);
	} catch (e) {
		console.log(`FAIL: ${e.stack}`);
		cleanup();
		process.exit(1);
	}
}

main();
