// Streams through the openai npm package, as an app would, and prints what
// it received as JSON on stdout: one line per job.
//   node stream.mjs '[{"baseURL": "http://127.0.0.1:PORT/NAME/v1", "api": "chat"}, ...]'
// api: "chat" (chat.completions.create) or "responses" (responses.create).
// A job's line: {"chunks": [...every chunk or event, as parsed...],
//                "error": null | {"name", "status", "message"}}
import OpenAI from "openai";

const jobs = JSON.parse(process.argv[2]);
for (const job of jobs) {
  const client = new OpenAI({ baseURL: job.baseURL, apiKey: "sk-any" });
  const chunks = [];
  let error = null;
  try {
    const stream = job.api === "chat"
      ? await client.chat.completions.create({
          model: "m", messages: [{ role: "user", content: "hi" }], stream: true,
          stream_options: { include_usage: true } })
      : await client.responses.create({ model: "m", input: "hi", stream: true });
    for await (const chunk of stream) chunks.push(chunk);
  } catch (e) {
    error = { name: e.constructor.name, status: e.status ?? null, message: e.message };
  }
  process.stdout.write(JSON.stringify({ chunks, error }) + "\n");
}
