// The openai npm package, default options, streaming one Chat Completion from
// BASE_URL; prints what it got as JSON: text, tool calls, usage.
// OPENAI_MODULE: the package's entry point (tests/helpers/node/node_modules).
const { default: OpenAI } = await import(process.env.OPENAI_MODULE);

const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: "sk-node-test-0123456789" });
const stream = await client.chat.completions.create({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "What is 1231 times 2331?" }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
const calls = {};
let usage = null;
for await (const chunk of stream) {
  for (const choice of chunk.choices) {
    text += choice.delta.content ?? "";
    for (const call of choice.delta.tool_calls ?? []) {
      const entry = (calls[call.index] ??= { id: call.id, name: call.function?.name, arguments: "" });
      entry.arguments += call.function?.arguments ?? "";
    }
  }
  if (chunk.usage) usage = chunk.usage;
}
console.log(JSON.stringify({ text, calls: Object.values(calls), usage }));
