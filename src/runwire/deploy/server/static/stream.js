// Reading the server's /stream answer: server-sent events over fetch, and the chunks
// added up into the output as LangChain adds them (strings and lists concatenated,
// objects merged key by key).

// Keys whose string values name a chunk rather than carry its text: kept, not joined.
const NAME_KEYS = new Set(["type", "id", "name", "role", "tool_call_id", "index", "run_id"]);

/** A feeder of decoded text that calls `onEvent({event, data})` per complete event. */
export function sseParser(onEvent) {
  let buffer = "";
  let event = "";
  let data = [];
  const line = (text) => {
    if (text === "") {
      if (event || data.length) onEvent({ event: event || "message", data: data.join("\n") });
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  };
  return (piece, last = false) => {
    buffer += piece;
    // A trailing CR may be the first half of CRLF: keep it until the next piece.
    const cut = !last && buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
    const lines = buffer.slice(0, cut).split(/\r\n|\r|\n/);
    buffer = lines.pop() + buffer.slice(cut);
    for (const complete of lines) line(complete);
    if (last && buffer) {
      line(buffer);
      line("");
      buffer = "";
    }
  };
}

/** Reads `body` (a ReadableStream of bytes) to its end, feeding `onEvent`. */
export async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const feed = sseParser(onEvent);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    feed(decoder.decode(value, { stream: true }));
  }
  feed(decoder.decode(), true);
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** `chunk` added to `total` (the output so far; `undefined` before the first chunk). */
export function addChunk(total, chunk, key = "") {
  if (total === undefined) return chunk;
  if (typeof total === "string" && typeof chunk === "string") {
    return NAME_KEYS.has(key) ? chunk : total + chunk;
  }
  if (Array.isArray(total) && Array.isArray(chunk)) return total.concat(chunk);
  if (isObject(total) && isObject(chunk)) {
    const merged = { ...total };
    for (const [name, value] of Object.entries(chunk)) {
      merged[name] = Object.hasOwn(merged, name) && merged[name] !== null
        ? addChunk(merged[name], value, name)
        : value;
    }
    return merged;
  }
  return chunk;
}

/** What a person reads of an output: text as is, a message's text, else indented JSON. */
export function displayText(output) {
  if (output === undefined) return "";
  if (typeof output === "string") return output;
  if (isObject(output) && typeof output.content === "string") return output.content;
  return JSON.stringify(output, null, 2);
}
