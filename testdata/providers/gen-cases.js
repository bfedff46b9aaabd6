// Generates koji/cases.json and gather/cases.json: signature vectors signed
// the way each provider signs (Node crypto, JSON.stringify for Gather).
// The two §3.1 vectors from PROVIDERS.md are literal published values.
// Run: node gen-cases.js
const crypto = require("crypto");
const fs = require("fs");
const hmac = (secret, msg) => crypto.createHmac("sha256", secret).update(msg).digest("hex");
const NOW = "2024-01-01T00:00:00Z", T = 1704067200;

const kojiBody = '{"event":"interview.analysis_ready","timestamp":"2024-01-01T00:00:00Z","project_id":"p1","data":{"interview_id":"i1","quality_score":4.5}}';
const kojiHTML = '{"event":"interview.completed","timestamp":"2024-01-01T00:00:00Z","study_id":"s1","data":{"interview_id":"i2","metadata":{"note":"<b>&</b>\u2028","2":"x","1":"y"}}}';
const kojiPretty = JSON.stringify(JSON.parse(kojiBody), null, 2);
const ks = (b, s) => "sha256=" + hmac(s, b);
// Koji vectors are checked at NOW unless they say otherwise: the body's
// timestamp must be recent (default max body age 24h, 5m ahead at most).
const K = (o) => Object.assign({ secrets: ["test_secret"], now: NOW }, o);
const KW = (i) => ({ mode: "raw", secret_index: i, timestamp: NOW, timestamp_unit: "rfc3339", skew_ms: 0 });
const koji = [
  K({ name: "published vector", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": "sha256=32b07a1372852e6d095992cd287c6943a3afe18b34b64276f0f30e46e49cbf3d" }, want: KW(0) }),
  K({ name: "uppercase hex", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": "sha256=" + hmac("test_secret", kojiBody).toUpperCase() }, want: KW(0) }),
  K({ name: "rotated secret", secrets: ["new_secret", "test_secret"], body: kojiBody, headers: { "X-Koji-Signature": ks(kojiBody, "test_secret") }, want: KW(1) }),
  K({ name: "html and line separator raw", secrets: ["s3cr3t"], body: kojiHTML, headers: { "X-Koji-Signature": ks(kojiHTML, "s3cr3t") }, want: KW(0) }),
  K({ name: "pretty body signed raw", secrets: ["s3cr3t"], body: kojiPretty, headers: { "X-Koji-Signature": ks(kojiPretty, "s3cr3t") }, want: KW(0) }),
  K({ name: "wrong secret", secrets: ["other"], body: kojiBody, headers: { "X-Koji-Signature": ks(kojiBody, "test_secret") }, want_error: "bad_signature" }),
  K({ name: "body changed", secrets: ["test_secret"], body: kojiBody.replace("4.5", "4.6"), headers: { "X-Koji-Signature": ks(kojiBody, "test_secret") }, want_error: "bad_signature" }),
  K({ name: "missing header", secrets: ["test_secret"], body: kojiBody, headers: {}, want_error: "missing_signature" }),
  K({ name: "empty header", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": "" }, want_error: "missing_signature" }),
  K({ name: "no prefix", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": hmac("test_secret", kojiBody) }, want_error: "malformed_signature" }),
  K({ name: "sha1 prefix", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": "sha1=" + hmac("test_secret", kojiBody) }, want_error: "malformed_signature" }),
  K({ name: "uppercase prefix", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": "SHA256=" + hmac("test_secret", kojiBody) }, want_error: "malformed_signature" }),
  K({ name: "short hex", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": "sha256=" + hmac("test_secret", kojiBody).slice(0, 63) }, want_error: "malformed_signature" }),
  K({ name: "long hex", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": "sha256=" + hmac("test_secret", kojiBody) + "00" }, want_error: "malformed_signature" }),
  K({ name: "non hex", secrets: ["test_secret"], body: kojiBody, headers: { "X-Koji-Signature": "sha256=" + "zz" + hmac("test_secret", kojiBody).slice(2) }, want_error: "malformed_signature" }),
  K({ name: "stale body timestamp", now: "2024-01-02T00:00:01Z", body: kojiBody, headers: { "X-Koji-Signature": ks(kojiBody, "test_secret") }, want_error: "stale_timestamp" }),
  K({ name: "default max body age edge", now: "2024-01-02T00:00:00Z", body: kojiBody, headers: { "X-Koji-Signature": ks(kojiBody, "test_secret") }, want: { mode: "raw", secret_index: 0, timestamp: NOW, timestamp_unit: "rfc3339", skew_ms: 86400000 } }),
  K({ name: "body timestamp too far ahead", now: "2023-12-31T23:54:59Z", body: kojiBody, headers: { "X-Koji-Signature": ks(kojiBody, "test_secret") }, want_error: "stale_timestamp" }),
  K({ name: "stale but wrong secret is bad signature", secrets: ["other"], now: "2025-01-01T00:00:00Z", body: kojiBody, headers: { "X-Koji-Signature": ks(kojiBody, "test_secret") }, want_error: "bad_signature" }),
];

const gBody = '{"event":"candidate_interview.status_changed","timestamp":"2024-01-01T00:00:00Z","data":{"candidateInterviewId":"ci-1","candidateId":"c-1","interviewId":"i-1","status":"has_reviewed","note":"<b>&</b>"}}';
const gOdd = JSON.stringify(JSON.parse('{"event":"candidate_interview.completed","timestamp":"2024-01-01T00:00:00Z","data":{"candidateInterviewId":"ci-2","takenAt":"2024-01-01T00:00:00Z","10":"ten","2":"two","note":"line\u2028sep<>&","score":1.5}}')); // as the sender posts it
const gPretty = JSON.stringify(JSON.parse(gBody), null, 2);
const gOddPretty = '{\n  "event": "candidate_interview.completed",\n  "timestamp": "2024-01-01T00:00:00Z",\n  "data": {"candidateInterviewId": "ci-2", "takenAt": "2024-01-01T00:00:00Z", "2": "two", "10": "ten", "note": "line\\u2028sep\\u003c>&", "score": 1.50}\n}';
const gv = (t, body, s) => hmac(s, t + "." + JSON.stringify(JSON.parse(body)));
const gh = (t, ...v1) => ({ "X-Qualifi-Signature": "t=" + t + v1.map((v) => ",v1=" + v).join("") });
const G = (o) => Object.assign({ secrets: ["test_secret"], now: NOW, body: gBody }, o);
const gather = [
  G({ name: "published vector", headers: gh(T, "125f7c66e15b6df3ba97afc661c01dcf67e6e6f145de34dad39c431adad7efd2"), want: { mode: "raw", secret_index: 0, timestamp: String(T), timestamp_unit: "s", skew_ms: 0 } }),
  G({ name: "rotated secret", secrets: ["new_secret", "test_secret"], headers: gh(T, gv(T, gBody, "test_secret")), want: { mode: "raw", secret_index: 1, timestamp: String(T), timestamp_unit: "s", skew_ms: 0 } }),
  G({ name: "multiple v1 second matches", headers: gh(T, gv(T, gBody, "old"), gv(T, gBody, "test_secret")), want: { mode: "raw", secret_index: 0, timestamp: String(T), timestamp_unit: "s", skew_ms: 0 } }),
  G({ name: "spaces and unknown keys", headers: { "X-Qualifi-Signature": " v0=abc , t=" + T + " , v1=" + gv(T, gBody, "test_secret") + " ,x=y" }, want: { mode: "raw", secret_index: 0, timestamp: String(T), timestamp_unit: "s", skew_ms: 0 } }),
  G({ name: "milliseconds", headers: gh(T * 1000 + 250, gv(T * 1000 + 250, gBody, "test_secret")), now: "2024-01-01T00:00:01Z", want: { mode: "raw", secret_index: 0, timestamp: String(T * 1000 + 250), timestamp_unit: "ms", skew_ms: 750 } }),
  G({ name: "rfc3339 t", headers: gh("2023-12-31T23:59:30Z", gv("2023-12-31T23:59:30Z", gBody, "test_secret")), want: { mode: "raw", secret_index: 0, timestamp: "2023-12-31T23:59:30Z", timestamp_unit: "rfc3339", skew_ms: 30000 } }),
  G({ name: "html and line separator raw", body: gOdd, headers: gh(T, gv(T, gOdd, "test_secret")), want: { mode: "raw", secret_index: 0, timestamp: String(T), timestamp_unit: "s", skew_ms: 0 } }),
  G({ name: "pretty body canonical", canonical: true, body: gPretty, headers: gh(T, gv(T, gPretty, "test_secret")), want: { mode: "canonical", secret_index: 0, timestamp: String(T), timestamp_unit: "s", skew_ms: 0 } }),
  G({ name: "reencoded odd body canonical", canonical: true, body: gOddPretty, headers: gh(T, gv(T, gOddPretty, "test_secret")), want: { mode: "canonical", secret_index: 0, timestamp: String(T), timestamp_unit: "s", skew_ms: 0 } }),
  G({ name: "pretty body without fallback", body: gPretty, headers: gh(T, gv(T, gPretty, "test_secret")), want_error: "bad_signature" }),
  G({ name: "stale", tolerance: "5m", now: "2024-01-01T00:05:01Z", headers: gh(T, gv(T, gBody, "test_secret")), want_error: "stale_timestamp" }),
  G({ name: "future", tolerance: "5m", now: "2023-12-31T23:54:59Z", headers: gh(T, gv(T, gBody, "test_secret")), want_error: "stale_timestamp" }),
  G({ name: "default tolerance edge", now: "2024-01-01T00:15:00Z", headers: gh(T, gv(T, gBody, "test_secret")), want: { mode: "raw", secret_index: 0, timestamp: String(T), timestamp_unit: "s", skew_ms: 900000 } }),
  G({ name: "stale and wrong secret is stale: t is checked first", secrets: ["other"], now: "2025-01-01T00:00:00Z", headers: gh(T, gv(T, gBody, "test_secret")), want_error: "stale_timestamp" }),
  G({ name: "unreadable t and wrong secret is malformed", secrets: ["other"], headers: gh("soon", gv(T, gBody, "test_secret")), want_error: "malformed_signature" }),
  G({ name: "wrong secret", secrets: ["other"], headers: gh(T, gv(T, gBody, "test_secret")), want_error: "bad_signature" }),
  G({ name: "t not signed value", headers: gh(T + 1, gv(T, gBody, "test_secret")), want_error: "bad_signature" }),
  G({ name: "missing header", headers: {}, want_error: "missing_signature" }),
  G({ name: "missing t", headers: { "X-Qualifi-Signature": "v1=" + gv(T, gBody, "test_secret") }, want_error: "malformed_signature" }),
  G({ name: "missing v1", headers: { "X-Qualifi-Signature": "t=" + T }, want_error: "malformed_signature" }),
  G({ name: "bad hex", headers: gh(T, "xyz"), want_error: "malformed_signature" }),
  G({ name: "short v1", headers: gh(T, gv(T, gBody, "test_secret").slice(0, 62)), want_error: "malformed_signature" }),
  G({ name: "part without equals", headers: { "X-Qualifi-Signature": "t=" + T + ",junk,v1=" + gv(T, gBody, "test_secret") }, want_error: "malformed_signature" }),
  G({ name: "duplicate t", headers: { "X-Qualifi-Signature": "t=" + T + ",t=" + T + ",v1=" + gv(T, gBody, "test_secret") }, want_error: "malformed_signature" }),
  G({ name: "signed but unreadable t", headers: gh("yesterday", gv("yesterday", gBody, "test_secret")), want_error: "malformed_signature" }),
];
fs.writeFileSync("koji/cases.json", JSON.stringify(koji, null, 1) + "\n");
fs.writeFileSync("gather/cases.json", JSON.stringify(gather, null, 1) + "\n");
