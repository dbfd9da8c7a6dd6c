// Self-test of verify.mjs that needs nothing from the C++ side: it writes small
// MCAP files with @mcap/core's McapWriter (uncompressed, zstd, lz4), each with
// two protobuf schemas:
//   /sample     selftest.Sample, a FileDescriptorSet that protobufjs builds
//               from a .proto text below;
//   /all_types  ringcast_test.AllTypes, fixtures/all_types.fds as protoc 3.21
//               writes it with --include_imports (google/protobuf/descriptor.proto
//               and ringcast/options.proto, whose custom file options the
//               file uses), with messages that C++ serialized and printed as
//               JSON (fixtures/all_types_cpp.jsonl, see fixtures/README.md);
// then checks that the verifier passes what matches and fails, naming the
// topic, index and field path, what does not.
//
//   node selftest.mjs        (exit 0 when every check passes; VERBOSE=1 shows
//                            what the verifier said in each case)
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import zstd from "@foxglove/wasm-zstd";
import { McapIndexedReader, McapWriter, TempBuffer } from "@mcap/core";
import lz4 from "lz4js";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";

import { loadSchemaType, verify } from "./verify.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

const SAMPLE_PROTO = `
syntax = "proto3";
package selftest;

enum Mode {
  MODE_UNSPECIFIED = 0;
  MODE_FAST = 1;
  MODE_SLOW = 2;
}

message Point {
  double x = 1;
  double y = 2;
}

message Sample {
  int64 i64 = 1;
  uint64 u64 = 2;
  float fl = 3;
  double db = 4;
  bytes data = 5;
  string name = 6;
  bool ok = 7;
  Mode mode = 8;
  Point where = 9;
  repeated int32 ri32 = 10;
  repeated double rdb = 11;
  repeated Point points = 12;
  repeated string tags = 13;
  sint64 s64 = 14;
  fixed64 f64 = 15;
  repeated uint64 ru64 = 16;
  repeated Mode rmode = 17;
  oneof choice {
    int32 choice_int = 20;
    string choice_str = 21;
  }
  map<string, int32> counts = 23;
}
`;

// ---------------------------------------------------------------------------
// Inputs

function sampleDescriptorSet() {
  const root = protobuf.parse(SAMPLE_PROTO, { keepCase: true }).root;
  const set = root.toDescriptor("proto3");
  return descriptor.FileDescriptorSet.encode(set).finish();
}

// Sample messages as C++ would print them (proto3 JSON, field names kept).
// Some print every primitive field (always_print_primitive_fields), some only
// what is set.
const SAMPLES = [
  {
    i64: "-9223372036854775808", u64: "18446744073709551615", fl: 0.1, db: 0.1, data: "AAEC/w==",
    name: "first", ok: true, mode: "MODE_SLOW", where: { x: 1.5, y: -2 }, ri32: [1, -2, 2147483647],
    rdb: ["NaN", "Infinity", "-Infinity", -0], points: [{ x: 1, y: 2 }, { x: 0, y: 0 }], tags: ["a", ""],
    s64: "-9007199254740993", f64: "9007199254740993", ru64: ["0", "12345678901234567890"],
    rmode: ["MODE_FAST", "MODE_UNSPECIFIED"], choice_int: 0, counts: { one: 1, zero: 0 },
  },
  {
    i64: "0", u64: "0", fl: 0, db: 0, data: "", name: "", ok: false, mode: "MODE_UNSPECIFIED", ri32: [],
    rdb: [], points: [], tags: [], s64: "0", f64: "0", ru64: [], rmode: [], counts: {},
  },
  { name: "sparse", where: {}, choice_str: "s" },
  { fl: 3.4028234663852886e38, db: 5e-324, i64: "9007199254740993", points: [{ y: 7 }] },
];

// JSON.stringify, except that -0 stays -0, as C++ prints it.
function toJson(value) {
  return JSON.stringify(value, (_, v) => (Object.is(v, -0) ? "__minus_zero__" : v)).replaceAll('"__minus_zero__"', "-0");
}

function sampleWire(type, json) {
  return type.encode(type.fromObject(json)).finish();
}

function loadCppFixture() {
  return fs
    .readFileSync(path.join(here, "fixtures/all_types_cpp.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l))
    .map(({ hex, message }) => ({ data: Buffer.from(hex, "hex"), message }));
}

const COMPRESSIONS = {
  none: undefined,
  zstd: (chunk) => ({ compression: "zstd", compressedData: new Uint8Array(zstd.compress(chunk, 3)) }),
  lz4: (chunk) => ({ compression: "lz4", compressedData: new Uint8Array(lz4.compress(chunk)) }),
};

/**
 * Writes an MCAP file; returns {bytes, expected} where expected is the JSONL
 * lines in publish order (topics interleaved).
 */
async function writeFile({ compression = "none", chunkSize = 512, schemaEncoding = "protobuf", useChunks = true } = {}) {
  const sampleFds = sampleDescriptorSet();
  const sampleType = loadSchemaType(sampleFds, "selftest.Sample").type;
  const allTypesFds = fs.readFileSync(path.join(here, "fixtures/all_types.fds"));
  const cpp = loadCppFixture();

  const buffer = new TempBuffer();
  const writer = new McapWriter({ writable: buffer, chunkSize, useChunks, compressChunk: COMPRESSIONS[compression] });
  await writer.start({ profile: "", library: "ringcast selftest" });
  const sampleSchema = await writer.registerSchema({ name: "selftest.Sample", encoding: schemaEncoding, data: sampleFds });
  const allSchema = await writer.registerSchema({ name: "ringcast_test.AllTypes", encoding: "protobuf", data: allTypesFds });
  const sampleChannel = await writer.registerChannel({ topic: "/sample", schemaId: sampleSchema, messageEncoding: "protobuf", metadata: new Map() });
  const allChannel = await writer.registerChannel({ topic: "/all_types", schemaId: allSchema, messageEncoding: "protobuf", metadata: new Map() });

  const expected = [];
  let t = 1_000_000_000n;
  const add = async (channelId, topic, seq, data, message) => {
    t += 1000n;
    await writer.addMessage({ channelId, sequence: seq, logTime: t, publishTime: t, data });
    expected.push(toJson({ topic, message }));
  };
  // Enough messages for several chunks, the two topics interleaved.
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < SAMPLES.length; i++) {
      await add(sampleChannel, "/sample", round * 10 + i, sampleWire(sampleType, SAMPLES[i]), SAMPLES[i]);
      const c = cpp[(round + i) % cpp.length];
      await add(allChannel, "/all_types", round * 10 + i, c.data, c.message);
    }
  }
  await writer.end();
  return { bytes: buffer.get(), expected };
}

// ---------------------------------------------------------------------------
// Checks

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
    if (process.env.VERBOSE && detail) console.log(`     ${detail.split("\n").join("\n     ")}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? `\n     ${detail.split("\n").join("\n     ")}` : ""}`);
  }
}
const describe = (r) => [r.summary, ...r.errors, ...r.mismatches.slice(0, 10)].join("\n");

function editLine(lines, topic, index, edit) {
  let n = -1;
  return lines.map((l) => {
    const o = JSON.parse(l);
    if (o.topic !== topic || ++n !== index) return l;
    edit(o.message);
    return toJson(o);
  });
}

async function main() {
  await zstd.isLoaded;

  // (a) Matching expectations pass, with each compression.
  for (const compression of Object.keys(COMPRESSIONS)) {
    const { bytes, expected } = await writeFile({ compression });
    const r = await verify(bytes, expected);
    check(`${compression}: matching expectations pass`, r.ok, describe(r));
    check(
      `${compression}: summary line`,
      r.summary === `verified 40 messages on 2 channels (schemas: ringcast_test.AllTypes, selftest.Sample), compression: ${compression}`,
      r.summary,
    );
  }

  const { bytes, expected } = await writeFile({ compression: "zstd" });
  const fails = async (name, lines, want, opts) => {
    const r = await verify(bytes, lines, opts);
    const all = [...r.errors, ...r.mismatches];
    const hit = want.every((w) => all.some((m) => m.startsWith(w) || m === w));
    check(name, !r.ok && hit, `wanted ${JSON.stringify(want)}\ngot:\n${describe(r)}`);
    return r;
  };

  // (b) A changed value fails, naming topic, index and field path.
  await fails(
    "changed nested double",
    editLine(expected, "/sample", 4, (m) => (m.where.y = -2.5)),
    ["/sample #4 where.y: expected -2.5, got -2"],
  );
  await fails(
    "changed int64 by one past 2^53",
    editLine(expected, "/sample", 3, (m) => (m.i64 = "9007199254740992")),
    ["/sample #3 i64: expected 9007199254740992, got 9007199254740993"],
  );
  await fails(
    "changed uint64 in a repeated field",
    editLine(expected, "/sample", 0, (m) => (m.ru64[1] = "12345678901234567891")),
    ["/sample #0 ru64[1]: expected 12345678901234567891, got 12345678901234567890"],
  );
  await fails(
    "changed field of a message in a repeated field (C++ fixture)",
    editLine(expected, "/all_types", 1, (m) => (m.rinner[0].where.z = 5)),
    ["/all_types #1 rinner[0].where.z: expected 5, got 4"],
  );
  await fails(
    "changed enum",
    editLine(expected, "/sample", 0, (m) => (m.mode = "MODE_FAST")),
    ["/sample #0 mode: expected MODE_FAST, got MODE_SLOW"],
  );
  await fails(
    "changed bytes",
    editLine(expected, "/all_types", 1, (m) => (m.data = "AP8QIGJpbA==")),
    ['/all_types #1 data: expected "AP8QIGJpbA==", got "AP8QIGJpbg=="'],
  );
  await fails(
    "-0 is not 0 for a double",
    editLine(expected, "/all_types", 1, (m) => (m.db = 0)),
    ["/all_types #1 db: expected 0, got -0"],
  );
  await fails(
    "a float that differs after rounding to float",
    editLine(expected, "/sample", 0, (m) => (m.fl = 0.1000001)),
    ["/sample #0 fl: expected 0.1000001, got 0.10000000149011612"],
  );
  await fails(
    "NaN expected, a number decoded",
    editLine(expected, "/sample", 0, (m) => (m.rdb[3] = "NaN")),
    ["/sample #0 rdb[3]: expected NaN, got -0"],
  );
  await fails(
    "an element missing from a repeated field",
    editLine(expected, "/sample", 0, (m) => m.tags.pop()),
    ["/sample #0 tags: expected 1 element(s), got 2 element(s)"],
  );
  await fails(
    "a field the type does not have",
    editLine(expected, "/sample", 1, (m) => (m.nosuch = 1)),
    ["/sample #1 nosuch: expected 1, got no field"],
  );
  await fails(
    "a default that was not published (absent in EXPECTED, set in the file)",
    editLine(expected, "/sample", 2, (m) => delete m.name),
    ['/sample #2 name: expected "", got "sparse"'],
  );
  await fails(
    "another oneof member set",
    editLine(expected, "/sample", 0, (m) => {
      delete m.choice_int;
      m.choice_str = "";
    }),
    ["/sample #0 choice_str: expected set (oneof choice), got choice_int set instead"],
  );
  await fails(
    "map value",
    editLine(expected, "/sample", 0, (m) => (m.counts.one = 2)),
    ['/sample #0 counts["one"]: expected 2, got 1'],
  );
  await fails(
    "messages of a topic out of order",
    (() => {
      const a = expected.findIndex((l) => JSON.parse(l).topic === "/sample");
      const b = expected.findIndex((l, i) => i > a && JSON.parse(l).topic === "/sample");
      const out = [...expected];
      [out[a], out[b]] = [out[b], out[a]];
      return out;
    })(),
    ["/sample #0 i64:", "/sample #1 i64:"],
  );

  // (c) A missing message, an extra one, a missing topic, an extra topic.
  {
    const lastSample = expected.map((l) => JSON.parse(l).topic).lastIndexOf("/sample");
    await fails("a missing message", expected.filter((_, i) => i !== lastSample), [
      "topic /sample: expected 19 messages, the file has 20",
    ]);
    await fails("an extra message", [...expected, expected[lastSample]], [
      "topic /sample: expected 21 messages, the file has 20",
    ]);
    await fails("a topic that was not recorded", [...expected, JSON.stringify({ topic: "/ghost", message: {} })], [
      "topic /ghost: expected 1 messages, the file has 0 (no channel)",
    ]);
    const onlyAll = expected.filter((l) => JSON.parse(l).topic === "/all_types");
    await fails("a recorded topic EXPECTED does not have", onlyAll, [
      "topic /sample: the file has 20 messages, EXPECTED has none",
    ]);
    const r = await verify(bytes, onlyAll, { allowExtraTopics: true });
    check("... allowed with allowExtraTopics", r.ok, describe(r));
  }

  // The file itself.
  {
    const bad = await writeFile({ schemaEncoding: "jsonschema" });
    const r = await verify(bad.bytes, bad.expected);
    check(
      "a schema encoding other than protobuf fails",
      !r.ok && r.errors.some((e) => e.includes('encoding "jsonschema", not "protobuf"')),
      describe(r),
    );
  }
  {
    const plain = await writeFile({ useChunks: false });
    const r = await verify(plain.bytes, plain.expected);
    check("an unchunked file (nothing the indexed reader can read) fails", !r.ok, describe(r));
  }
  for (const compression of ["none", "zstd"]) {
    // One byte changed inside the first chunk's records: its CRC no longer matches.
    const f = await writeFile({ compression });
    const reader = await McapIndexedReader.Initialize({ readable: new TempBuffer(f.bytes) });
    const chunk = reader.chunkIndexes[0];
    const corrupt = new Uint8Array(f.bytes);
    corrupt[Number(chunk.chunkStartOffset + chunk.chunkLength) - 20] ^= 0x55;
    let r;
    try {
      r = await verify(corrupt, f.expected);
    } catch (e) {
      r = { ok: false, summary: `threw ${e.message}`, errors: [], mismatches: [] };
    }
    check(`${compression}: a corrupted byte in a chunk fails`, !r.ok, describe(r));
  }
  {
    const corrupt = new Uint8Array(bytes);
    corrupt[corrupt.byteLength - 40] ^= 0x55; // in the summary section
    const r = await verify(corrupt, expected);
    check("a corrupted byte in the summary fails", !r.ok, describe(r));
  }

  // Options stripped: the fallback loads the same type.
  {
    const fds = fs.readFileSync(path.join(here, "fixtures/all_types.fds"));
    const normal = loadSchemaType(fds, "ringcast_test.AllTypes");
    const stripped = loadSchemaType(fds, "ringcast_test.AllTypes", { forceStrip: true });
    const cpp = loadCppFixture();
    const same = cpp.every(({ data }) => {
      const a = normal.type.toObject(normal.type.decode(data), { longs: String, bytes: String, defaults: true });
      const b = stripped.type.toObject(stripped.type.decode(data), { longs: String, bytes: String, defaults: true });
      return JSON.stringify(a) === JSON.stringify(b);
    });
    check("the descriptor set loads as it is, with its custom options", !normal.stripped);
    check("... and without options, decoding the same", stripped.stripped && same);
  }

  // The command line.
  {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ringcast-verify-"));
    try {
      const file = path.join(dir, "f.mcap");
      const good = path.join(dir, "good.jsonl");
      const bad = path.join(dir, "bad.jsonl");
      fs.writeFileSync(file, bytes);
      fs.writeFileSync(good, `${expected.join("\n")}\n`);
      fs.writeFileSync(bad, `${editLine(expected, "/sample", 4, (m) => (m.where.y = -2.5)).join("\n")}\n`);
      const run = (...args) => spawnSync(process.execPath, [path.join(here, "verify.mjs"), ...args], { encoding: "utf8" });
      let p = run(file, good);
      check(
        "CLI: exit 0 and one summary line",
        p.status === 0 && /^verified 40 messages on 2 channels \(schemas: .*\), compression: zstd\n$/.test(p.stdout),
        `${p.status} ${p.stdout} ${p.stderr}`,
      );
      p = run(file, bad);
      check(
        "CLI: exit 1 naming the mismatch",
        p.status === 1 && p.stderr.includes("/sample #4 where.y: expected -2.5, got -2"),
        `${p.status} ${p.stdout} ${p.stderr}`,
      );
      p = run(path.join(dir, "missing.mcap"), good);
      check("CLI: exit 1 for a missing file", p.status === 1 && p.stderr.includes("missing.mcap"), `${p.status} ${p.stderr}`);
      p = run(file);
      check("CLI: exit 2 for a usage error", p.status === 2 && p.stderr.startsWith("usage:"), `${p.status} ${p.stderr}`);
      // Run from another directory, as the C++ tests will.
      const out = execFileSync(process.execPath, [path.join(here, "verify.mjs"), file, good], { cwd: "/", encoding: "utf8" });
      check("CLI: works from another working directory", out.startsWith("verified 40 messages"), out);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  console.log(`selftest: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exitCode = 1;
  },
);
