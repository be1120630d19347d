// The official `openai` npm client against `matrix serve` on the tiny fixture model (CTest: test_serve_openai_node).
// Starts the server itself on a free port (--port 0, the port read from its "listening on" line), with an API key and
// the fixture folder as image root, and stops it at the end (SIGTERM, exit 0). Checks: the model list, a chat
// completion whose greedy text equals `matrix generate` on the same prompt, case 1 of the HF fixture (two images as
// data URLs) whose token ids equal HF's greedy reference and whose text equals `matrix generate`, a streamed answer
// equal to the plain one (with usage), n=3 (greedy: three equal answers; sampled with a seed: reproducible), a stop
// string (plain and streamed), an image by file:// under the root, and errors (404 unknown model, 401 wrong key,
// 400 bad parameter) as the client's typed exceptions.
// Usage: node serve_openai.test.mjs <matrix binary> <fixture folder (qwen2vl-tiny)>
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [matrixBin, fixture] = process.argv.slice(2);
if (!matrixBin || !fixture) {
  console.error('usage: node serve_openai.test.mjs <matrix binary> <fixture folder>');
  process.exit(2);
}
let OpenAI;
try {
  ({ default: OpenAI } = await import('openai'));
} catch (e) {
  console.error('FAIL: the openai npm package is not installed next to this test (tests/node/node_modules).\n' +
                'Install it with `packaging/setup.sh test` or `cd tests/node && npm ci`. (' + e.message + ')');
  process.exit(1);
}

const model = `${fixture}/tiny-qwen2vl`;
const key = 'node-test-key-' + process.pid;

// ---- the server ----
function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(matrixBin, ['serve', '--model', model, '--port', '0', '--api-key-env', 'MATRIX_NODE_TEST_KEY',
                                   '--image-root', fixture, '--max-batch', '8'],
                       { env: { ...process.env, MATRIX_NODE_TEST_KEY: key }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 60 s: ' + err)), 60000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1] });
      }
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => reject(new Error(`server exited early (${code}): ${err}`)));
  });
}

// HF's greedy reference tokens of case 1, read from the fixture's safetensors file.
function referenceTokens(name) {
  const buf = readFileSync(`${fixture}/reference.safetensors`);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const t = header[name];
  assert.equal(t.dtype, 'I64');
  const base = 8 + n + t.data_offsets[0];
  const ids = [];
  for (let i = 0; i < (t.data_offsets[1] - t.data_offsets[0]) / 8; ++i) ids.push(Number(buf.readBigInt64LE(base + 8 * i)));
  return ids;
}

function generate(args) {
  return execFileSync(matrixBin, ['generate', '--model', model, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const dataUrl = (file) => 'data:image/png;base64,' + readFileSync(file).toString('base64');

const results = [];
async function check(name, fn) {
  try {
    await fn();
    results.push([name, true]);
    console.log(`PASS ${name}`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

const { proc, url } = await startServer();
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 120000 });
const prompt = 'Hello, who are you?';
const greedy = { model: 'tiny-qwen2vl', temperature: 0, max_tokens: 24 };
let plainText = '';

await check('models.list', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['tiny-qwen2vl']);
});

await check('chat completion equals matrix generate', async () => {
  const r = await client.chat.completions.create({ ...greedy, messages: [{ role: 'user', content: prompt }] });
  plainText = r.choices[0].message.content;
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 24);
  assert.equal(r.usage.prompt_tokens, 34);
  assert.equal(r.usage.total_tokens, 58);
  const cli = generate(['--prompt', prompt, '--max-new-tokens', '24', '--stop', '@@no-stop@@']);
  assert.equal(plainText + '\n', cli);
});

await check('images (data URLs): token ids equal HF reference, text equals matrix generate', async () => {
  const task = 'Task: How many objects are in the two pictures?\nAttachment: img_a.png; img_b.png';
  const r = await client.chat.completions.create({
    ...greedy,
    return_token_ids: true,
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: [
        { type: 'image_url', image_url: { url: dataUrl(`${fixture}/img_a.png`) } },
        { type: 'image_url', image_url: { url: dataUrl(`${fixture}/img_b.png`) } },
        { type: 'text', text: task } ] } ] });
  assert.deepEqual(r.choices[0].token_ids, referenceTokens('case1.generated'));
  assert.equal(r.usage.prompt_tokens, 90);
  const cli = generate(['--image', `${fixture}/img_a.png`, '--image', `${fixture}/img_b.png`, '--system',
                        'You are a helpful assistant.', '--prompt', task, '--max-new-tokens', '24']);
  assert.equal(r.choices[0].message.content + '\n', cli);
});

await check('image by file:// under --image-root', async () => {
  const r = await client.chat.completions.create({ ...greedy, max_tokens: 4, messages: [{ role: 'user', content: [
    { type: 'image_url', image_url: { url: `file://${fixture}/img_a.png` } }, { type: 'text', text: 'What is this?' }] }] });
  assert.equal(r.usage.completion_tokens, 4);
  assert.ok(r.usage.prompt_tokens > 30);
});

await check('streamed completion equals the plain one', async () => {
  const stream = await client.chat.completions.create({ ...greedy, stream: true, stream_options: { include_usage: true },
                                                        messages: [{ role: 'user', content: prompt }] });
  let text = '', finish = null, usage = null, chunks = 0, role = null;
  for await (const chunk of stream) {
    ++chunks;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(role, 'assistant');
  assert.equal(text, plainText);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 24);
  assert.ok(chunks > 10);
});

await check('n=3', async () => {
  const g = await client.chat.completions.create({ ...greedy, n: 3, messages: [{ role: 'user', content: prompt }] });
  assert.equal(g.choices.length, 3);
  assert.deepEqual(g.choices.map((c) => c.index), [0, 1, 2]);
  for (const c of g.choices) assert.equal(c.message.content, plainText);
  assert.equal(g.usage.completion_tokens, 72);
  const sampled = { model: 'tiny-qwen2vl', temperature: 1.0, top_p: 0.9, max_tokens: 16, n: 3, seed: 7,
                    messages: [{ role: 'user', content: prompt }] };
  const a = await client.chat.completions.create(sampled);
  const b = await client.chat.completions.create(sampled);
  assert.equal(a.choices.length, 3);
  assert.deepEqual(a.choices.map((c) => c.message.content), b.choices.map((c) => c.message.content));
  assert.ok(new Set(a.choices.map((c) => c.message.content)).size > 1, 'three samples, all equal');
});

await check('stop string (plain and streamed)', async () => {
  const stop = 'important';
  const at = plainText.indexOf(stop);
  assert.ok(at > 0, 'the greedy answer contains the stop string');
  const r = await client.chat.completions.create({ ...greedy, stop: [stop], messages: [{ role: 'user', content: prompt }] });
  assert.equal(r.choices[0].message.content, plainText.slice(0, at));
  assert.equal(r.choices[0].finish_reason, 'stop');
  const stream = await client.chat.completions.create({ ...greedy, stop, stream: true, messages: [{ role: 'user', content: prompt }] });
  let text = '', finish = null;
  for await (const chunk of stream)
    for (const c of chunk.choices) {
      if (c.delta.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  assert.equal(text, plainText.slice(0, at));
  assert.equal(finish, 'stop');
});

await check('errors: 404 unknown model, 401 wrong key, 400 bad parameter', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'x' }] }),
                       (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found');
  const wrong = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrong.chat.completions.create({ ...greedy, messages: [{ role: 'user', content: 'x' }] }),
                       (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  await assert.rejects(client.chat.completions.create({ ...greedy, temperature: 7, messages: [{ role: 'user', content: 'x' }] }),
                       (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'temperature');
  // Still serving.
  const r = await client.chat.completions.create({ ...greedy, max_tokens: 2, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.usage.completion_tokens, 2);
});

proc.removeAllListeners('exit');
const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
proc.kill('SIGTERM');
const code = await exited;
await check('server stops cleanly on SIGTERM', async () => assert.equal(code, 0));

const failed = results.filter(([, ok]) => !ok).map(([n]) => n);
console.log(`${results.length - failed.length}/${results.length} passed` + (failed.length ? `; failed: ${failed.join(', ')}` : ''));
process.exit(failed.length ? 1 : 0);
