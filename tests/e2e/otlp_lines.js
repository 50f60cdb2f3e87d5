#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// otlp_lines.js: what both test receivers (receiver.js for OTLP/HTTP,
// grpc_receiver.js for OTLP/gRPC) write for a decoded request, so that
// harness.py reads the same JSON lines whatever the transport: one line
// per log record (logLines) and one per metric data point (metricLines),
// record counts, and the strict UTF-8 reader installed into protobufjs.
// Messages come from the OpenTelemetry JS packages' protobufjs root,
// decoded by the receivers, turned into plain objects with TO_OBJ.
'use strict';

const fs = require('fs');

// Strict UTF-8: protobufjs would silently turn invalid bytes into U+FFFD,
// which would hide an agent that forgot to sanitise. Count them instead
// (utf8.bad); installStrictUtf8() patches the protobufjs reader once.
const utf8 = { bad: 0 };
function installStrictUtf8() {
	const pb = require('protobufjs/minimal');
	const td = new TextDecoder('utf-8', { fatal: true });
	const strict = function read_string_strict() {
		const b = this.bytes();
		try {
			return td.decode(b);
		} catch (e) {
			utf8.bad++;
			return Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
		}
	};
	pb.Reader.prototype.string = strict;
	if (pb.BufferReader) pb.BufferReader.prototype.string = strict;
}

const METRIC_TYPES = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'];
const TO_OBJ = { longs: String, bytes: String, enums: Number, defaults: false, oneofs: false };

function b64hex(s) {
	if (s === undefined || s === null) return '';
	return Buffer.from(s, 'base64').toString('hex');
}

function anyValue(v) {
	if (v === undefined || v === null) return null;
	if ('stringValue' in v) return v.stringValue;
	if ('boolValue' in v) return v.boolValue;
	if ('intValue' in v) {
		const n = Number(v.intValue);
		return Number.isSafeInteger(n) ? n : String(v.intValue);
	}
	if ('doubleValue' in v) return v.doubleValue;
	if ('bytesValue' in v) return { bytes: b64hex(v.bytesValue) };
	if ('arrayValue' in v) return ((v.arrayValue && v.arrayValue.values) || []).map(anyValue);
	if ('kvlistValue' in v) return flatten(v.kvlistValue && v.kvlistValue.values);
	return null; // an AnyValue with nothing set
}

function flatten(kvs) {
	const o = {};
	for (const kv of kvs || []) o[kv.key] = anyValue(kv.value);
	return o;
}

function logLines(reqN, msg, enc, ctype, compact) {
	const lines = [];
	for (const rl of msg.resourceLogs || []) {
		const res = flatten(rl.resource && rl.resource.attributes);
		for (const sl of rl.scopeLogs || []) {
			for (const lr of sl.logRecords || []) {
				// compact: only what the fault tests count (millions of records).
				if (compact) {
					lines.push({
						req: reqN,
						pid: res['process.pid'] === undefined ? null : Number(res['process.pid']),
						body: anyValue(lr.body),
						time: lr.timeUnixNano || '0',
					});
					continue;
				}
				lines.push({
					req: reqN,
					service: res['service.name'] === undefined ? null : res['service.name'],
					pid: res['process.pid'] === undefined ? null : Number(res['process.pid']),
					resource: res,
					scope: sl.scope ? sl.scope.name || '' : '',
					body: anyValue(lr.body),
					sev: lr.severityNumber || 0,
					sevText: lr.severityText || '',
					time: lr.timeUnixNano || '0',
					observed: lr.observedTimeUnixNano || '0',
					attrs: flatten(lr.attributes),
					traceId: b64hex(lr.traceId),
					spanId: b64hex(lr.spanId),
					flags: lr.flags || 0,
					encoding: enc,
					ctype: ctype,
				});
			}
		}
	}
	return lines;
}

function num(v) {
	if (v === undefined || v === null) return null;
	const n = Number(v);
	return Number.isSafeInteger(n) || !Number.isInteger(n) ? n : String(v);
}

// NaN and +-Infinity as strings: JSON.stringify would write them as null.
function dbl(v) {
	if (v === undefined || v === null) return null;
	const n = Number(v);
	return Number.isFinite(n) ? n : String(n);
}

// One line per data point (see the header): what the tests compare.
function metricLines(reqN, msg, enc, ctype) {
	const lines = [];
	for (const rm of msg.resourceMetrics || []) {
		const res = flatten(rm.resource && rm.resource.attributes);
		for (const sm of rm.scopeMetrics || []) {
			for (const m of sm.metrics || []) {
				const type = METRIC_TYPES.find((k) => k in m) || '';
				const data = type ? m[type] || {} : {};
				for (const dp of data.dataPoints || []) {
					const l = {
						req: reqN,
						service: res['service.name'] === undefined ? null : res['service.name'],
						pid: res['process.pid'] === undefined ? null : Number(res['process.pid']),
						resource: res,
						scope: sm.scope ? sm.scope.name || '' : '',
						scopeVersion: sm.scope ? sm.scope.version || '' : '',
						name: m.name || '',
						unit: m.unit || '',
						description: m.description || '',
						type,
						attrs: flatten(dp.attributes),
						start: dp.startTimeUnixNano || '0',
						time: dp.timeUnixNano || '0',
						flags: dp.flags || 0,
						encoding: enc,
						ctype,
					};
					if (type === 'sum') l.monotonic = !!data.isMonotonic;
					if (type === 'sum' || type === 'histogram' || type === 'exponentialHistogram')
						l.temporality = data.aggregationTemporality || 0;
					if (type === 'sum' || type === 'gauge') {
						l.value = 'asDouble' in dp ? dbl(dp.asDouble) : 'asInt' in dp ? num(dp.asInt) : null;
						l.valueType = 'asDouble' in dp ? 'double' : 'asInt' in dp ? 'int' : null;
					} else {
						l.count = num(dp.count || 0);
						l.sum = 'sum' in dp ? dbl(dp.sum) : null;
						if (type !== 'summary') {
							l.min = 'min' in dp ? dbl(dp.min) : null;
							l.max = 'max' in dp ? dbl(dp.max) : null;
						}
					}
					if (type === 'histogram') {
						l.bounds = (dp.explicitBounds || []).map(dbl);
						l.buckets = (dp.bucketCounts || []).map(num);
					} else if (type === 'exponentialHistogram') {
						l.scale = dp.scale || 0;
						l.zeroCount = num(dp.zeroCount || 0);
						for (const side of ['positive', 'negative'])
							l[side] = { offset: (dp[side] && dp[side].offset) || 0,
								buckets: ((dp[side] && dp[side].bucketCounts) || []).map(num) };
					} else if (type === 'summary') {
						l.quantiles = (dp.quantileValues || []).map((q) => ({ q: dbl(q.quantile || 0), v: dbl(q.value || 0) }));
					}
					if (dp.exemplars && dp.exemplars.length) l.exemplars = dp.exemplars.length;
					lines.push(l);
				}
			}
		}
	}
	return lines;
}

// Metrics without a data field or without points: invalid, counted per request.
function emptyMetrics(msg) {
	let n = 0;
	for (const rm of msg.resourceMetrics || [])
		for (const sm of rm.scopeMetrics || [])
			for (const m of sm.metrics || []) {
				const k = METRIC_TYPES.find((x) => x in m);
				if (!k || !m[k] || !(m[k].dataPoints || []).length) n++;
			}
	return n;
}

function countRecords(sig, msg) {
	let n = 0;
	if (sig === 'logs')
		for (const rl of msg.resourceLogs || []) for (const sl of rl.scopeLogs || []) n += (sl.logRecords || []).length;
	else if (sig === 'metrics')
		for (const rm of msg.resourceMetrics || [])
			for (const sm of rm.scopeMetrics || [])
				for (const m of sm.metrics || []) {
					const k = METRIC_TYPES.find((x) => x in m);
					n += k && m[k].dataPoints ? m[k].dataPoints.length : 0;
				}
	else
		for (const rs of msg.resourceSpans || []) for (const ss of rs.scopeSpans || []) n += (ss.spans || []).length;
	return n;
}

function appendLines(file, objs) {
	if (objs.length === 0) return;
	fs.appendFileSync(file, objs.map((o) => JSON.stringify(o)).join('\n') + '\n');
}

module.exports = {
	METRIC_TYPES, TO_OBJ, utf8, installStrictUtf8, b64hex, anyValue, flatten, logLines, num, dbl,
	metricLines, emptyMetrics, countRecords, appendLines,
};
