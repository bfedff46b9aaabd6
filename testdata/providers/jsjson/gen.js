// Generates random JSON texts (with odd whitespace, index-like and duplicate
// keys, awkward numbers and strings) and Node's JSON.stringify(JSON.parse(x)).
let seed = 42;
function rnd() { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; }
function pick(a) { return a[Math.floor(rnd() * a.length)]; }
const ws = ["", "", " ", "\n", "\t", "  \r\n "];
const nums = ["0", "-0", "1.0", "1.50", "1E2", "1e400", "-1e400", "1e21", "1e-7", "0.000001", "9007199254740993",
  "123456789012345678901234567890", "1e-400", "0.1", "-2.5e-8", "4.2", "1530", "5e-324", "1.7976931348623157e308", "100e-2", "0.0000010"];
const strs = ['"<b>&</b>"', '"\\u2028\\u2029"', '"\u2028"', '"\\u0001\\b\\f\\n\\r\\t"', '"\\/"', '"é😀"', '"\\u007f"', '"a\\"b\\\\c"',
  '"\\ud83d\\ude00"', '""', '"x"', '"\\u0000"', '"\\u001f"'];
const keys = ['"0"', '"2"', '"10"', '"01"', '"4294967294"', '"4294967295"', '"-1"', '"a"', '"b"', '"<k>"', '"1.5"', '"event"', '"data"', '" 3"'];
function val(d) {
  const r = rnd();
  if (d > 4 || r < 0.3) return pick([pick(nums), pick(strs), "true", "false", "null"]);
  if (r < 0.6) { let n = Math.floor(rnd() * 4), a = []; for (let i = 0; i < n; i++) a.push(w() + val(d + 1) + w()); return "[" + a.join(",") + "]"; }
  let n = Math.floor(rnd() * 6), a = []; for (let i = 0; i < n; i++) a.push(w() + pick(keys) + w() + ":" + w() + val(d + 1) + w());
  return "{" + a.join(",") + "}";
}
function w() { return pick(ws); }
const out = [];
for (let i = 0; i < 2000; i++) { const input = w() + val(0) + w(); out.push({ input, want: JSON.stringify(JSON.parse(input)) }); }
const fixed = ['{"b":1,"a":2,"b":3}', '{"10":1,"2":2,"0":3,"x":4}', '[-0,1e400]', '"\u2028"', '{"a":{"b":[{"c":"<>&"}]}}',
  '{\n  "event": "candidate_interview.completed",\n  "data": {"takenAt": "2024-01-01T00:00:00Z"}\n}'];
for (const input of fixed) out.push({ input, want: JSON.stringify(JSON.parse(input)) });
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
