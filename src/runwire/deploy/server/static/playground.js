// The runwire playground: the page of /<name>/playground/.
//
// Loads ../input_schema and ../config_schema, builds the forms, and on Run posts to
// ../stream and shows each `data` event as it arrives, then the final output, or the
// `error` event. When the server asks for an API key (401), a key field appears; the key
// stays in this page's memory and goes out as the X-API-Key header.
// Nothing is ever inserted as HTML: text goes through textContent and .value only.

import { FieldError, configFields, inputFields, readFields } from "./forms.js";
import { addChunk, displayText, readEvents } from "./stream.js";

const MAX_ERROR_CHARS = 4000;
const $ = (id) => document.getElementById(id);

const page = {
  apiKey: "",
  input: null, // {fields, whole}
  config: [],
  controller: null,
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// -- requests ----------------------------------------------------------------------------
const routeUrl = (route) => new URL(`../${route}`, window.location.href).toString();

function pipelineName() {
  const parts = window.location.pathname.split("/").filter(Boolean);
  try {
    return decodeURIComponent(parts[parts.length - 2] || "");
  } catch {
    return parts[parts.length - 2] || "";
  }
}

function headers(extra) {
  return page.apiKey ? { ...extra, "X-API-Key": page.apiKey } : { ...extra };
}

function clip(text) {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}… (cut)` : text;
}

/** The message of an error answer: FastAPI's `detail` (text, problems or an object). */
function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((problem) => {
      const where = Array.isArray(problem?.loc) ? problem.loc.join(".") : "";
      const what = problem?.msg ?? JSON.stringify(problem);
      return where ? `${where}: ${what}` : what;
    }).join("\n");
  }
  return JSON.stringify(detail);
}

async function httpError(response) {
  let message = response.statusText || "request failed";
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      message = body && body.detail !== undefined ? detailText(body.detail) : text;
    } catch {
      if (text) message = text;
    }
  } catch {
    // the body could not be read: the status says enough
  }
  return new HttpError(response.status, clip(`HTTP ${response.status}: ${message}`));
}

async function getJson(route) {
  const response = await fetch(routeUrl(route), {
    headers: headers({ Accept: "application/json" }),
    cache: "no-store",
    credentials: "same-origin",
  });
  if (!response.ok) throw await httpError(response);
  return response.json();
}

// -- page state --------------------------------------------------------------------------
function setStatus(text, kind = "") {
  const status = $("status");
  status.textContent = text;
  status.className = kind;
  status.hidden = !text;
}

function askForKey(message) {
  setStatus(message, "error");
  $("auth").hidden = false;
  $("api-key").focus();
}

function showError(text) {
  const box = $("error");
  box.textContent = clip(text);
  box.hidden = false;
  $("result").hidden = false;
}

function setRunState(text) {
  $("run-state").textContent = text;
  $("result").dataset.state = text;
}

function setRunning(running) {
  $("run").disabled = running;
  $("stop").disabled = !running;
}

function resetResult() {
  $("result").hidden = false;
  $("error").hidden = true;
  $("error").textContent = "";
  $("run-id").textContent = "";
  $("stream-output").textContent = "";
  $("stream-output").dataset.chunks = "0";
  $("final").hidden = true;
  $("final-output").textContent = "";
}

// -- loading -----------------------------------------------------------------------------
function buildForms(inputSchema, configSchema) {
  page.input = inputFields(inputSchema, inputSchema);
  $("input-fields").replaceChildren(...page.input.fields.map((field) => field.node));
  page.config = configFields(configSchema);
  $("config-fields").replaceChildren(...page.config.map((field) => field.node));
  $("config-section").hidden = page.config.length === 0;
  $("run-form").hidden = false;
}

async function load() {
  setStatus("Loading the pipeline's schemas…");
  let schemas;
  try {
    schemas = await Promise.all([getJson("input_schema"), getJson("config_schema")]);
  } catch (error) {
    if (error.status === 401) {
      askForKey(page.apiKey ? "That API key was refused: try another." : "This server needs an API key.");
    } else if (error.status === 404) {
      setStatus(`No pipeline named “${pipelineName()}” is served here.`, "error");
    } else {
      setStatus(`Could not load the pipeline's schemas: ${error.message}`, "error");
    }
    return;
  }
  $("auth").hidden = true;
  buildForms(...schemas);
  setStatus("");
}

function useKey(event) {
  event.preventDefault();
  page.apiKey = $("api-key").value.trim();
  if (page.input) {
    $("auth").hidden = true;
    setStatus("API key updated: press Run again.");
  } else {
    load();
  }
}

// -- running -----------------------------------------------------------------------------
function requestBody() {
  const values = readFields(page.input.fields);
  const body = { input: page.input.whole ? values.input : values };
  const configurable = readFields(page.config);
  if (Object.keys(configurable).length > 0) body.config = { configurable };
  return body;
}

function onEvent(run, { event, data }) {
  if (event === "metadata") {
    const metadata = JSON.parse(data);
    $("run-id").textContent = metadata?.run_id ? `run id ${metadata.run_id}` : "";
  } else if (event === "data") {
    run.output = addChunk(run.output, JSON.parse(data));
    run.chunks += 1;
    const view = $("stream-output");
    view.textContent = displayText(run.output);
    view.dataset.chunks = String(run.chunks);
  } else if (event === "error") {
    let problem;
    try {
      problem = JSON.parse(data);
    } catch {
      problem = { message: data };
    }
    const status = problem?.status_code ? `Error ${problem.status_code}` : "Error";
    showError(`${status}: ${problem?.message ?? "the run failed"}`);
    run.failed = true;
  } else if (event === "end") {
    run.ended = true;
  }
}

function finish(run) {
  if (run.failed) {
    setRunState("failed");
  } else if (run.ended) {
    const final = run.output;
    $("final-output").textContent = typeof final === "string" ? final : JSON.stringify(final, null, 2);
    $("final").hidden = false;
    setRunState("done");
  } else {
    showError("The stream ended before the run did.");
    setRunState("failed");
  }
}

async function run(event) {
  event.preventDefault();
  if (page.controller) return;
  resetResult();
  let body;
  try {
    body = JSON.stringify(requestBody());
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    showError(error.message);
    setRunState("invalid input");
    return;
  }
  const controller = new AbortController();
  page.controller = controller;
  setRunning(true);
  setRunState("running");
  const current = { output: undefined, chunks: 0, failed: false, ended: false };
  try {
    const response = await fetch(routeUrl("stream"), {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body,
      cache: "no-store",
      credentials: "same-origin",
      signal: controller.signal,
    });
    if (!response.ok) {
      const error = await httpError(response);
      showError(error.message);
      setRunState("failed");
      if (response.status === 401) askForKey("This server needs a valid API key.");
      return;
    }
    await readEvents(response.body, (message) => onEvent(current, message));
    finish(current);
  } catch (error) {
    if (error.name === "AbortError") {
      setRunState("stopped");
    } else {
      showError(`The request failed: ${error.message}`);
      setRunState("failed");
    }
  } finally {
    page.controller = null;
    setRunning(false);
  }
}

function stop() {
  if (page.controller) page.controller.abort();
}

$("pipeline-name").textContent = pipelineName();
document.title = `${pipelineName()} · runwire playground`;
$("auth").addEventListener("submit", useKey);
$("run-form").addEventListener("submit", run);
$("stop").addEventListener("click", stop);
load();
