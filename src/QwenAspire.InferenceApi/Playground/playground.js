// QwenAspire playground: a chat page over this server's own /v1/models and /v1/chat/completions (SSE).
// No dependencies; every text from the server is set with textContent, never parsed as HTML.
"use strict";

const KEY_STORAGE = "qwenaspire.playground.apiKey";
const $ = id => document.getElementById(id);
const conversation = [];          // the conversation sent with each request: {role, content}
let running = null;          // AbortController of the answer being streamed

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

// An OpenAI error envelope's message, or the status line.
async function errorText(response) {
  const body = await response.text();
  try { return `${response.status}: ${JSON.parse(body).error.message}`; } catch { return `${response.status}: ${body || response.statusText}`; }
}

async function loadModels() {
  const select = $("model");
  const previous = select.value;
  setStatus("Loading models…");
  try {
    const response = await fetch("/v1/models", { headers: headers() });
    if (!response.ok) { setStatus(await errorText(response), true); return; }
    const models = (await response.json()).data;
    select.replaceChildren(...models.map(m => {
      const option = document.createElement("option");
      option.value = m.id;
      option.textContent = m.parent ? `${m.id} (adapter on ${m.parent})` : m.id;
      return option;
    }));
    if (models.some(m => m.id === previous)) select.value = previous;
    setStatus(`${models.length} model(s) served.`);
  } catch (e) {
    setStatus("Cannot reach the server: " + e.message, true);
  }
}

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function addMessage(role, text) {
  const li = element("li", "message " + role);
  li.append(element("div", "who", role === "user" ? "You" : "Assistant"));
  const content = element("div", "content", text);
  li.append(content);
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

// The view of one streamed answer: thinking (collapsed), content, tool calls, stats.
function answerView() {
  const li = addMessage("assistant", "");
  li.dataset.state = "streaming";
  const thinking = element("details", "thinking");
  thinking.hidden = true;
  thinking.append(element("summary", null, "Thinking"), element("div", "reasoning"));
  li.querySelector(".content").before(thinking);
  const tools = element("div", "tool-calls");
  const stats = element("div", "stats");
  li.append(tools, stats);
  return { li, thinking, reasoning: thinking.querySelector(".reasoning"), content: li.querySelector(".content"), tools, stats };
}

function renderToolCalls(view, calls) {
  view.tools.replaceChildren(...calls.filter(Boolean).map(c => {
    let args = c.arguments;
    try { args = JSON.stringify(JSON.parse(args), null, 2); } catch { /* still streaming, or not JSON: show as sent */ }
    const box = element("div", "tool-call", `${c.name}(${args})`);
    box.setAttribute("aria-label", "Tool call " + c.name);
    return box;
  }));
}

function requestBody() {
  const body = { model: $("model").value, stream: true, stream_options: { include_usage: true }, messages: [] };
  const system = $("system-prompt").value.trim();
  if (system) body.messages.push({ role: "system", content: system });
  body.messages.push(...conversation);
  const temperature = $("temperature").value;
  if (temperature !== "") body.temperature = Number(temperature);
  const maxTokens = $("max-tokens").value;
  if (maxTokens !== "") body.max_tokens = Number(maxTokens);
  if (!$("thinking").checked) body.chat_template_kwargs = { enable_thinking: false };
  const tools = $("tools").value.trim();
  if (tools) body.tools = JSON.parse(tools);
  return body;
}

// Reads "data: {...}" events until [DONE]; calls onEvent with each parsed chunk.
async function readSse(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").filter(l => l.startsWith("data:")).map(l => l.slice(5).trimStart()).join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      onEvent(JSON.parse(data));
    }
  }
}

async function send(text) {
  let body;
  try {
    conversation.push({ role: "user", content: text });
    body = requestBody();
  } catch (e) {
    conversation.pop();
    setStatus("Tools: " + e.message, true);
    return;
  }
  addMessage("user", text);
  const view = answerView();
  running = new AbortController();
  $("send").disabled = true;
  $("stop").disabled = false;

  const started = performance.now();
  let firstToken = null, usage = null, finish = null, pieces = 0;
  const calls = [];
  let content = "";
  try {
    const response = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body), signal: running.signal });
    if (!response.ok) throw new Error(await errorText(response));
    await readSse(response, chunk => {
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices && chunk.choices[0];
      if (!choice) return;
      const delta = choice.delta || {};
      if (delta.reasoning_content || delta.content || delta.tool_calls) { firstToken ??= performance.now(); pieces++; }
      if (delta.reasoning_content) { view.thinking.hidden = false; view.reasoning.textContent += delta.reasoning_content; }
      if (delta.content) { content += delta.content; view.content.textContent = content; }
      for (const t of delta.tool_calls || []) {
        const call = calls[t.index] ??= { id: t.id, name: "", arguments: "" };
        if (t.function?.name) call.name += t.function.name;
        if (t.function?.arguments) call.arguments += t.function.arguments;
        renderToolCalls(view, calls);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    });
    const assistant = { role: "assistant", content: content || null };
    if (calls.length) assistant.tool_calls = calls.map(c => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
    conversation.push(assistant);
    view.li.dataset.state = "done";
  } catch (e) {
    conversation.pop(); // the question goes unanswered: leave it out of the next request
    view.li.append(element("div", "error", e.name === "AbortError" ? "Stopped." : e.message));
    view.li.dataset.state = e.name === "AbortError" ? "stopped" : "error";
  } finally {
    const ended = performance.now();
    const tokens = usage ? usage.completion_tokens : pieces;
    const parts = [];
    if (firstToken !== null) parts.push(`TTFT ${Math.round(firstToken - started)} ms`);
    if (firstToken !== null && ended > firstToken && tokens > 1) parts.push(`${((tokens - 1) / ((ended - firstToken) / 1000)).toFixed(1)} tok/s`);
    parts.push(`${tokens} tokens`);
    if (finish) parts.push(`finish: ${finish}`);
    view.stats.textContent = parts.join(" · ");
    running = null;
    $("send").disabled = false;
    $("stop").disabled = true;
  }
}

function init() {
  const key = $("api-key");
  key.value = localStorage.getItem(KEY_STORAGE) ?? "";
  key.addEventListener("change", () => { localStorage.setItem(KEY_STORAGE, key.value.trim()); loadModels(); });
  $("refresh-models").addEventListener("click", loadModels);
  $("clear").addEventListener("click", () => { running?.abort(); conversation.length = 0; $("messages").replaceChildren(); });
  $("stop").addEventListener("click", () => running?.abort());
  $("settings").addEventListener("submit", e => e.preventDefault());
  const prompt = $("prompt");
  prompt.addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("composer").addEventListener("submit", e => {
    e.preventDefault();
    const text = prompt.value.trim();
    if (!text || running) return;
    if (!$("model").value) { setStatus("No model selected: set the API key, then Reload.", true); return; }
    prompt.value = "";
    send(text);
  });
  loadModels();
}

init();
