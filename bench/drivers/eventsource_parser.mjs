// npm's eventsource-parser under node: SSE on stdin to NDJSON records on
// stdout, the same job as `sseq parse`.  Each event becomes
// {"event":...,"id":...,"data":...}; JSON objects and arrays are parsed
// (JSON.parse) and written back with JSON.stringify, other data stays a
// string.  Output is written once per input chunk.
//
// usage: node eventsource_parser.mjs DIR   (DIR holds node_modules/eventsource-parser)
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const require = createRequire(join(resolve(process.argv[2]), "package.json"));
const { createParser } = require("eventsource-parser");

let lines = [];
const parser = createParser({
  onEvent(event) {
    let data = event.data;
    const first = data.charCodeAt(0);
    if (first === 123 || first === 91) {
      try {
        data = JSON.parse(data);
      } catch {}
    }
    const record = { event: event.event || "message" };
    if (event.id) record.id = event.id;
    record.data = data;
    lines.push(JSON.stringify(record));
  },
});

function write(text) {
  return new Promise((done) => {
    if (process.stdout.write(text)) done();
    else process.stdout.once("drain", done);
  });
}

const decoder = new TextDecoder("utf-8");
for await (const chunk of process.stdin) {
  parser.feed(decoder.decode(chunk, { stream: true }));
  if (lines.length) {
    const text = lines.join("\n") + "\n";
    lines = [];
    await write(text);
  }
}
parser.feed(decoder.decode());
if (lines.length) await write(lines.join("\n") + "\n");
