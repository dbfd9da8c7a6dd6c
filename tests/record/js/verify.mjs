// Independent check of a file `ringcast record` wrote: read it with the
// official TypeScript MCAP readers (indexed and streaming), decode every
// message with protobufjs from the file's own schema (a serialized
// google.protobuf.FileDescriptorSet), and compare it field by field with what
// the C++ test says it published.
//
//   node verify.mjs [--allow-extra-topics] FILE.mcap EXPECTED.jsonl
//
// EXPECTED.jsonl: one {"topic": "/imu", "message": {...}} per line, in publish
// order per topic; "message" is the proto3 JSON of
// google::protobuf::util::MessageToJsonString with preserve_proto_field_names
// and always_print_primitive_fields (64-bit integers as decimal strings, bytes
// as base64, enums by name, "NaN"/"Infinity"/"-Infinity").
//
// Prints one line starting "verified " and exits 0 when everything matches;
// exits 1 on a mismatch or an error (the first 20 mismatches are printed as
// "topic #index field.path: expected X, got Y"), 2 on a usage error.
import fs from "node:fs";
import { pathToFileURL } from "node:url";

import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { loadDecompressHandlers } from "@mcap/support";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";

const MAX_PRINTED_MISMATCHES = 20;

// Well-known types whose proto3 JSON is not the plain object mapping.
const SPECIAL_JSON_TYPES = new Set(
  [
    "Any", "Timestamp", "Duration", "FieldMask", "Struct", "Value", "ListValue", "NullValue",
    "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value",
    "BoolValue", "StringValue", "BytesValue",
  ].map((n) => `google.protobuf.${n}`),
);

const INT64_TYPES = new Set(["int64", "sint64", "sfixed64", "uint64", "fixed64"]);
const UNSIGNED_64 = new Set(["uint64", "fixed64"]);
const INT32_TYPES = new Set(["int32", "sint32", "sfixed32", "uint32", "fixed32"]);

// ---------------------------------------------------------------------------
// Readables

class FileReadable {
  constructor(handle, size) {
    this.handle = handle;
    this.fileSize = size;
  }
  async size() {
    return BigInt(this.fileSize);
  }
  async read(offset, length) {
    const len = Number(length);
    const start = Number(offset);
    if (start + len > this.fileSize) {
      throw new Error(`read of ${len} bytes at ${start} is past the end of the file (${this.fileSize} bytes)`);
    }
    const buf = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const { bytesRead } = await this.handle.read(buf, done, len - done, start + done);
      if (bytesRead === 0) throw new Error(`unexpected end of file at ${start + done}`);
      done += bytesRead;
    }
    return buf;
  }
}

class BytesReadable {
  constructor(bytes) {
    this.bytes = bytes;
  }
  async size() {
    return BigInt(this.bytes.byteLength);
  }
  async read(offset, length) {
    const start = Number(offset);
    const end = start + Number(length);
    if (end > this.bytes.byteLength) throw new Error(`read past the end of the data (${end} > ${this.bytes.byteLength})`);
    return this.bytes.subarray(start, end);
  }
}

// ---------------------------------------------------------------------------
// Schemas

// Keeps only the options that change how a message decodes (map entries,
// packed encoding), dropping custom options and their extension declarations.
function stripOptions(set) {
  const keep = (opts, names) => {
    if (!opts) return null;
    const out = {};
    for (const n of names) if (opts[n] != null) out[n] = opts[n];
    return Object.keys(out).length ? out : null;
  };
  const message = (m) => ({
    ...m,
    options: keep(m.options, ["mapEntry"]),
    field: (m.field || []).map((f) => ({ ...f, options: keep(f.options, ["packed"]) })),
    nestedType: (m.nestedType || []).map(message),
    enumType: (m.enumType || []).map(enumType),
    oneofDecl: (m.oneofDecl || []).map((o) => ({ ...o, options: null })),
    extension: [],
  });
  const enumType = (e) => ({
    ...e,
    options: null,
    value: (e.value || []).map((v) => ({ ...v, options: null })),
  });
  return {
    file: set.file.map((f) => ({
      ...f,
      options: null,
      messageType: (f.messageType || []).map(message),
      enumType: (f.enumType || []).map(enumType),
      service: [],
      extension: [],
    })),
  };
}

/**
 * Builds the protobufjs Type of `typeName` from the bytes of a serialized
 * FileDescriptorSet. Fields keep their .proto names. If the set as it is
 * cannot be loaded (custom options protobufjs cannot apply, say), it is
 * loaded again without options other than map_entry and packed, which are
 * the only ones that matter to decoding. Returns {type, stripped}.
 */
export function loadSchemaType(schemaData, typeName, { forceStrip = false } = {}) {
  const set = descriptor.FileDescriptorSet.decode(schemaData);
  if (!set.file || set.file.length === 0) throw new Error("the FileDescriptorSet has no files");
  const build = (s) => {
    const root = protobuf.Root.fromDescriptor(s, { keepCase: true });
    root.resolveAll();
    const type = root.lookupType(typeName.replace(/^\./, ""));
    return type;
  };
  if (!forceStrip) {
    try {
      return { type: build(set), stripped: false };
    } catch (firstError) {
      try {
        return { type: build(descriptor.FileDescriptorSet.fromObject(stripOptions(descriptor.FileDescriptorSet.toObject(set)))), stripped: true };
      } catch {
        throw firstError;
      }
    }
  }
  const plain = descriptor.FileDescriptorSet.toObject(set);
  return { type: build(descriptor.FileDescriptorSet.fromObject(stripOptions(plain))), stripped: true };
}

// ---------------------------------------------------------------------------
// Comparison

function jsonName(protoName) {
  return protoName.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function show(v) {
  if (v === undefined) return "(absent)";
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return `${JSON.stringify(Buffer.from(v).toString("base64"))} (base64)`;
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function longToBigInt(v, unsigned) {
  if (v == null) return 0n;
  let x;
  if (typeof v === "number" || typeof v === "string" || typeof v === "bigint") x = BigInt(v);
  else if (typeof v === "object" && "low" in v && "high" in v) {
    x = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  } else throw new Error(`not a 64-bit integer: ${show(v)}`);
  return unsigned ? BigInt.asUintN(64, x) : BigInt.asIntN(64, x);
}

function parseJsonFloat(v) {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function sameNumber(a, b) {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

function bytesToBase64(v) {
  if (v == null) return "";
  if (typeof v === "string") return Buffer.from(v, "base64").toString("base64");
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
  return Buffer.from(v).toString("base64"); // protobufjs' default for bytes is a plain array
}

class Comparer {
  constructor(report) {
    this.report = report; // (path, expected, got) => void
  }

  message(type, exp, got, path) {
    if (exp === undefined || exp === null) exp = {};
    if (typeof exp !== "object" || Array.isArray(exp)) {
      this.report(path, show(exp), `a ${type.fullName.replace(/^\./, "")} message`);
      return;
    }
    const known = new Set();
    for (const field of type.fieldsArray) {
      let key;
      if (Object.prototype.hasOwnProperty.call(exp, field.name)) key = field.name;
      else if (Object.prototype.hasOwnProperty.call(exp, jsonName(field.name))) key = jsonName(field.name);
      if (key !== undefined) known.add(key);
      const ev = key === undefined ? undefined : exp[key];
      const gv = got == null ? undefined : got[field.name];
      this.field(field, ev, gv, path ? `${path}.${field.name}` : field.name);
    }
    for (const key of Object.keys(exp)) {
      if (!known.has(key)) {
        this.report(path ? `${path}.${key}` : key, show(exp[key]), `no field "${key}" in ${type.fullName.replace(/^\./, "")}`);
      }
    }
    // A oneof member (or proto3 optional field) that EXPECTED prints was set:
    // the decoded message must have that member set too.
    for (const oneof of type.oneofsArray) {
      for (const member of oneof.fieldsArray) {
        const present =
          (Object.prototype.hasOwnProperty.call(exp, member.name) && exp[member.name] !== null) ||
          (Object.prototype.hasOwnProperty.call(exp, jsonName(member.name)) && exp[jsonName(member.name)] !== null);
        if (!present) continue;
        const setCase = got == null ? undefined : got[oneof.name];
        if (setCase !== member.name) {
          this.report(
            path ? `${path}.${member.name}` : member.name,
            `set (oneof ${oneof.name})`,
            setCase ? `${setCase} set instead` : "not set",
          );
        }
      }
    }
    if (got != null && Array.isArray(got.$unknowns) && got.$unknowns.length > 0) {
      const numbers = got.$unknowns.map((u) => {
        const r = protobuf.Reader.create(u);
        return r.uint32() >>> 3;
      });
      this.report(path || "(message)", "no unknown fields", `unknown field number(s) ${numbers.join(", ")}`);
    }
  }

  field(field, ev, gv, path) {
    if (field.map) {
      this.map(field, ev, gv, path);
      return;
    }
    if (field.repeated) {
      if (ev != null && !Array.isArray(ev)) {
        this.report(path, show(ev), "a repeated field (expected value is not an array)");
        return;
      }
      const ea = ev ?? [];
      const ga = gv ?? [];
      if (ea.length !== ga.length) this.report(path, `${ea.length} element(s)`, `${ga.length} element(s)`);
      const n = Math.min(ea.length, ga.length);
      for (let i = 0; i < n; i++) this.single(field, ea[i], ga[i], `${path}[${i}]`);
      return;
    }
    this.single(field, ev, gv, path);
  }

  map(field, ev, gv, path) {
    if (ev != null && (typeof ev !== "object" || Array.isArray(ev))) {
      this.report(path, show(ev), "a map (expected value is not an object)");
      return;
    }
    const keyOf = (k) => {
      if (INT64_TYPES.has(field.keyType)) {
        const bits = protobuf.util.LongBits.fromHash(k);
        return longToBigInt(bits.toLong(UNSIGNED_64.has(field.keyType)), UNSIGNED_64.has(field.keyType)).toString();
      }
      return String(k);
    };
    const got = new Map(Object.entries(gv ?? {}).map(([k, v]) => [keyOf(k), v]));
    const exp = new Map(Object.entries(ev ?? {}));
    for (const [k, v] of exp) {
      if (!got.has(k)) this.report(`${path}[${JSON.stringify(k)}]`, show(v), "(absent)");
      else this.single(field, v, got.get(k), `${path}[${JSON.stringify(k)}]`);
    }
    for (const [k, v] of got) {
      if (!exp.has(k)) this.report(`${path}[${JSON.stringify(k)}]`, "(absent)", "present");
    }
  }

  single(field, ev, gv, path) {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) {
      const full = rt.fullName.replace(/^\./, "");
      if (SPECIAL_JSON_TYPES.has(full)) {
        this.report(path, show(ev), `a ${full}, whose JSON form this verifier does not compare`);
        return;
      }
      this.message(rt, ev, gv, path);
      return;
    }
    if (rt instanceof protobuf.Enum) {
      let en;
      if (ev === undefined || ev === null) en = 0;
      else if (typeof ev === "number" && Number.isInteger(ev)) en = ev;
      else if (typeof ev === "string" && Object.prototype.hasOwnProperty.call(rt.values, ev)) en = rt.values[ev];
      else {
        this.report(path, show(ev), `a value of enum ${rt.name} (no such name)`);
        return;
      }
      const gn = gv ?? 0;
      if (en !== gn) {
        const name = (n) => (rt.valuesById[n] !== undefined ? rt.valuesById[n] : String(n));
        this.report(path, name(en), name(gn));
      }
      return;
    }
    const t = field.type;
    if (t === "double" || t === "float") {
      const en = parseJsonFloat(ev);
      if (en === undefined) {
        this.report(path, show(ev), `a ${t}`);
        return;
      }
      const gn = gv ?? 0;
      const ok = t === "float" ? sameNumber(Math.fround(en), Math.fround(gn)) : sameNumber(en, gn);
      if (!ok) this.report(path, show(en), show(gn));
      return;
    }
    if (INT64_TYPES.has(t)) {
      let eb;
      try {
        eb = ev == null ? 0n : BigInt(typeof ev === "number" ? ev : String(ev).trim());
      } catch {
        this.report(path, show(ev), `a ${t}`);
        return;
      }
      const gb = longToBigInt(gv, UNSIGNED_64.has(t));
      if (eb !== gb) this.report(path, eb.toString(), gb.toString());
      return;
    }
    if (INT32_TYPES.has(t)) {
      const en = ev == null ? 0 : Number(ev);
      if (!Number.isInteger(en)) {
        this.report(path, show(ev), `a ${t}`);
        return;
      }
      const gn = gv ?? 0;
      if (en !== gn) this.report(path, show(en), show(gn));
      return;
    }
    if (t === "bool") {
      if (ev != null && typeof ev !== "boolean") {
        this.report(path, show(ev), "a bool");
        return;
      }
      const eb = ev ?? false;
      const gb = gv ?? false;
      if (eb !== gb) this.report(path, show(eb), show(gb));
      return;
    }
    if (t === "string") {
      if (ev != null && typeof ev !== "string") {
        this.report(path, show(ev), "a string");
        return;
      }
      const es = ev ?? "";
      const gs = gv ?? "";
      if (es !== gs) this.report(path, show(es), show(gs));
      return;
    }
    if (t === "bytes") {
      if (ev != null && typeof ev !== "string") {
        this.report(path, show(ev), "bytes as a base64 string");
        return;
      }
      const eb = bytesToBase64(ev);
      const gb = bytesToBase64(gv);
      if (eb !== gb) this.report(path, JSON.stringify(eb), JSON.stringify(gb));
      return;
    }
    this.report(path, show(ev), `a field of type ${t}, which this verifier does not know`);
  }
}

// ---------------------------------------------------------------------------
// Expected messages

function parseExpected(expected) {
  let lines;
  if (typeof expected === "string") lines = expected.split("\n");
  else if (Array.isArray(expected)) lines = expected;
  else throw new Error("expected messages must be JSONL text or an array of lines or objects");
  const byTopic = new Map();
  lines.forEach((line, i) => {
    let obj = line;
    if (typeof line === "string") {
      if (line.trim() === "") return;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new Error(`EXPECTED line ${i + 1}: not JSON (${e.message})`);
      }
    }
    if (obj === null || typeof obj !== "object" || typeof obj.topic !== "string" || obj.message === null ||
        typeof obj.message !== "object" || Array.isArray(obj.message)) {
      throw new Error(`EXPECTED line ${i + 1}: not {"topic": string, "message": object}`);
    }
    if (!byTopic.has(obj.topic)) byTopic.set(obj.topic, []);
    byTopic.get(obj.topic).push(obj.message);
  });
  return byTopic;
}

// ---------------------------------------------------------------------------
// The check

function sameBytes(a, b) {
  return a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/**
 * Verifies an MCAP file against the expected messages.
 *
 * @param file a path (string) or the file's bytes (Uint8Array)
 * @param expected JSONL text, or an array of JSONL lines or of {topic, message} objects
 * @param options.allowExtraTopics recorded topics absent from `expected` are not an error
 * @returns {{ok: boolean, errors: string[], mismatches: string[], summary: string,
 *            messageCount: number, channelCount: number, schemas: string[], compression: string[]}}
 *   `errors` are structural problems (counts, readers, schemas), `mismatches`
 *   field differences ("topic #index field.path: expected X, got Y").
 */
export async function verify(file, expected, { allowExtraTopics = false } = {}) {
  const errors = [];
  const mismatches = [];
  const result = { ok: false, errors, mismatches, summary: "", messageCount: 0, channelCount: 0, schemas: [], compression: [] };

  const expectedByTopic = parseExpected(expected);
  const decompressHandlers = await loadDecompressHandlers();

  let handle;
  let bytes;
  let readable;
  if (typeof file === "string") {
    handle = await fs.promises.open(file, "r");
    const { size } = await handle.stat();
    readable = new FileReadable(handle, size);
  } else if (file instanceof Uint8Array) {
    bytes = file;
    readable = new BytesReadable(bytes);
  } else {
    throw new Error("file must be a path or a Uint8Array");
  }

  try {
    // --- Indexed reader: summary, then every message in log time order.
    const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers });

    for (const schema of reader.schemasById.values()) {
      if (schema.encoding !== "protobuf") {
        errors.push(`schema ${schema.id} (${schema.name}): encoding ${JSON.stringify(schema.encoding)}, not "protobuf"`);
      }
    }
    for (const channel of reader.channelsById.values()) {
      if (channel.messageEncoding !== "protobuf") {
        errors.push(`channel ${channel.id} (${channel.topic}): message encoding ${JSON.stringify(channel.messageEncoding)}, not "protobuf"`);
      }
      if (!reader.schemasById.has(channel.schemaId)) {
        errors.push(`channel ${channel.id} (${channel.topic}): schema ${channel.schemaId} is not in the summary`);
      }
    }
    result.compression = [...new Set(reader.chunkIndexes.map((c) => c.compression || "none"))].sort();

    const indexed = new Map(); // channelId -> [{logTime, data}]
    const byTopic = new Map(); // topic -> [{channel, data}]; a topic's channels merged in log time order
    for await (const m of reader.readMessages({ validateCrcs: true })) {
      if (!indexed.has(m.channelId)) indexed.set(m.channelId, []);
      indexed.get(m.channelId).push({ logTime: m.logTime, data: m.data });
      result.messageCount++;
      const channel = reader.channelsById.get(m.channelId);
      if (!channel) {
        errors.push(`a message on channel ${m.channelId}, which the summary does not have`);
        continue;
      }
      if (!byTopic.has(channel.topic)) byTopic.set(channel.topic, []);
      byTopic.get(channel.topic).push({ channel, data: m.data });
    }
    result.channelCount = indexed.size;

    if (reader.statistics) {
      const st = reader.statistics;
      if (st.messageCount !== BigInt(result.messageCount)) {
        errors.push(`statistics say ${st.messageCount} messages, the indexed reader read ${result.messageCount}`);
      }
      for (const [id, count] of st.channelMessageCounts) {
        const read = indexed.get(id)?.length ?? 0;
        if (count !== BigInt(read)) errors.push(`statistics say ${count} messages on channel ${id}, the indexed reader read ${read}`);
      }
    }

    // --- Streaming reader over the whole file, fed in pieces.
    if (bytes === undefined) bytes = new Uint8Array(await fs.promises.readFile(file));
    const stream = new McapStreamReader({ decompressHandlers, validateCrcs: true });
    const streamed = new Map();
    const streamChannels = new Map();
    let streamCount = 0;
    try {
      const piece = 64 * 1024;
      for (let off = 0; off < bytes.byteLength; off += piece) {
        stream.append(bytes.subarray(off, Math.min(off + piece, bytes.byteLength)));
        for (let rec; (rec = stream.nextRecord()); ) {
          if (rec.type === "Message") {
            if (!streamed.has(rec.channelId)) streamed.set(rec.channelId, []);
            streamed.get(rec.channelId).push({ logTime: rec.logTime, data: rec.data });
            streamCount++;
          } else if (rec.type === "Channel") {
            streamChannels.set(rec.id, rec);
          }
        }
      }
      if (!stream.done()) errors.push(`the stream reader did not reach the end of the file (${stream.bytesRemaining()} bytes left unparsed)`);
    } catch (e) {
      errors.push(`stream reader: ${e.message}`);
    }
    if (reader.chunkIndexes.length === 0 && streamCount > 0) {
      errors.push(`the summary indexes no chunk, so an indexed reader finds none of the ${streamCount} messages (unchunked file?)`);
    }
    if (streamCount !== result.messageCount) {
      errors.push(`the stream reader read ${streamCount} messages, the indexed reader ${result.messageCount}`);
    }
    for (const [id, ch] of reader.channelsById) {
      const s = streamChannels.get(id);
      if (!s) {
        // A channel without messages may be in the summary only.
        if (indexed.has(id)) errors.push(`channel ${id} (${ch.topic}) of the summary is not in the data section`);
      } else if (s.topic !== ch.topic || s.schemaId !== ch.schemaId || s.messageEncoding !== ch.messageEncoding) {
        errors.push(`channel ${id} differs between the data section and the summary`);
      }
    }
    for (const [id, list] of streamed) {
      // Same order as the indexed reader: by log time, ties in file order.
      const sorted = [...list].sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
      const other = indexed.get(id) ?? [];
      if (other.length !== sorted.length) continue; // counted above
      for (let i = 0; i < sorted.length; i++) {
        if (sorted[i].logTime !== other[i].logTime || !sameBytes(sorted[i].data, other[i].data)) {
          errors.push(`channel ${id}: message ${i} differs between the stream and the indexed reader`);
          break;
        }
      }
    }

    // --- Schemas.
    const types = new Map(); // schemaId -> Type | null
    const schemaNames = new Set();
    const typeOf = (schemaId) => {
      if (types.has(schemaId)) return types.get(schemaId);
      const schema = reader.schemasById.get(schemaId);
      let type = null;
      if (schema) {
        try {
          const loaded = loadSchemaType(schema.data, schema.name);
          type = loaded.type;
          schemaNames.add(schema.name + (loaded.stripped ? " (options stripped)" : ""));
        } catch (e) {
          errors.push(`schema ${schema.id} (${schema.name}): cannot load its FileDescriptorSet: ${e.message}`);
        }
      }
      types.set(schemaId, type);
      return type;
    };

    for (const id of indexed.keys()) {
      const channel = reader.channelsById.get(id);
      if (channel) typeOf(channel.schemaId);
    }

    // --- Topics and counts.
    for (const [topic, exp] of expectedByTopic) {
      const got = byTopic.get(topic) ?? [];
      if (got.length !== exp.length) {
        const known = [...reader.channelsById.values()].some((c) => c.topic === topic);
        errors.push(`topic ${topic}: expected ${exp.length} messages, the file has ${got.length}${known ? "" : " (no channel)"}`);
      }
    }
    if (!allowExtraTopics) {
      for (const [topic, got] of byTopic) {
        if (!expectedByTopic.has(topic)) errors.push(`topic ${topic}: the file has ${got.length} messages, EXPECTED has none`);
      }
    }

    // --- Messages, field by field.
    for (const [topic, exp] of expectedByTopic) {
      const got = byTopic.get(topic) ?? [];
      const n = Math.min(exp.length, got.length);
      for (let i = 0; i < n; i++) {
        const { channel, data } = got[i];
        const type = typeOf(channel.schemaId);
        if (!type) break;
        let decoded;
        try {
          decoded = type.decode(data);
        } catch (e) {
          mismatches.push(`${topic} #${i}: cannot decode as ${type.fullName.replace(/^\./, "")}: ${e.message}`);
          continue;
        }
        const cmp = new Comparer((path, e, g) => mismatches.push(`${topic} #${i} ${path}: expected ${e}, got ${g}`));
        try {
          cmp.message(type, exp[i], decoded, "");
        } catch (e) {
          mismatches.push(`${topic} #${i}: cannot compare: ${e && e.message ? e.message : e}`);
        }
      }
    }
    result.schemas = [...schemaNames].sort();
  } catch (e) {
    errors.push(e && e.message ? e.message : String(e));
  } finally {
    if (handle) await handle.close();
  }

  result.ok = errors.length === 0 && mismatches.length === 0;
  const compression = result.compression.length ? result.compression.join(",") : "none (no chunks)";
  result.summary = result.ok
    ? `verified ${result.messageCount} messages on ${result.channelCount} channels (schemas: ${result.schemas.join(", ")}), compression: ${compression}`
    : `FAILED: ${errors.length} error(s), ${mismatches.length} mismatch(es) in ${result.messageCount} messages`;
  return result;
}

// ---------------------------------------------------------------------------
// Command line

async function main(argv) {
  const args = argv.slice(2);
  let allowExtraTopics = false;
  const files = [];
  for (const a of args) {
    if (a === "--allow-extra-topics") allowExtraTopics = true;
    else if (a === "-h" || a === "--help" || a.startsWith("-")) files.length = 99;
    else files.push(a);
  }
  if (files.length !== 2) {
    process.stderr.write("usage: node verify.mjs [--allow-extra-topics] FILE.mcap EXPECTED.jsonl\n");
    return 2;
  }
  const [mcapPath, expectedPath] = files;
  let result;
  try {
    const text = await fs.promises.readFile(expectedPath, "utf8");
    result = await verify(mcapPath, text, { allowExtraTopics });
  } catch (e) {
    process.stderr.write(`verify: ${e && e.message ? e.message : e}\n`);
    return 1;
  }
  if (result.ok) {
    process.stdout.write(`${result.summary}\n`);
    return 0;
  }
  for (const e of result.errors) process.stderr.write(`error: ${e}\n`);
  for (const m of result.mismatches.slice(0, MAX_PRINTED_MISMATCHES)) process.stderr.write(`${m}\n`);
  if (result.mismatches.length > MAX_PRINTED_MISMATCHES) {
    process.stderr.write(`... and ${result.mismatches.length - MAX_PRINTED_MISMATCHES} more mismatch(es)\n`);
  }
  process.stderr.write(`${result.summary}\n`);
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`verify: ${e && e.stack ? e.stack : e}\n`);
      process.exitCode = 1;
    },
  );
}
