// Form fields generated from a JSON Schema (as pydantic writes them), for the playground.
//
// Each field is {node, read}: `node` goes into the page, `read()` answers the value to
// send, `undefined` to leave it out, or throws a FieldError saying what is wrong.
// Text only ever reaches the page through textContent and .value, never as HTML.

const MAX_REF_HOPS = 32;
const ROLES = ["human", "ai", "system"];

export class FieldError extends Error {}

/** An element with properties (`text` sets textContent) and children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else if (key === "hidden" || key === "checked" || key === "required") node[key] = Boolean(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function pointer(root, ref) {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return null;
  let node = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return null;
    node = node[key];
  }
  return node;
}

/** `schema` with its `$ref`s followed (siblings of a `$ref` win, as pydantic means them). */
export function resolve(schema, root) {
  let current = schema && typeof schema === "object" ? schema : {};
  for (let hop = 0; hop < MAX_REF_HOPS && typeof current.$ref === "string"; hop += 1) {
    const { $ref, ...siblings } = current;
    const target = pointer(root, $ref);
    current = { ...(target && typeof target === "object" ? target : {}), ...siblings };
  }
  return current;
}

function branches(schema, root) {
  const options = schema.anyOf || schema.oneOf;
  return Array.isArray(options) ? options.map((option) => resolve(option, root)) : null;
}

/** `Optional[X]` (anyOf X or null) read as X. */
function withoutNull(schema, root) {
  const options = branches(schema, root);
  if (!options) return schema;
  const others = options.filter((option) => option.type !== "null");
  if (others.length !== 1 || others.length === options.length) return schema;
  const { anyOf, oneOf, ...rest } = schema;
  return { ...others[0], ...rest };
}

function messageRoles(items, root) {
  const item = resolve(items, root);
  const options = branches(item, root) || [item];
  const roles = new Set();
  for (const option of options) {
    const props = option.properties;
    if (!props || !props.content || !props.type) continue;
    const type = resolve(props.type, root);
    const role = type.const ?? type.default;
    if (ROLES.includes(role)) roles.add(role);
  }
  return ROLES.filter((role) => roles.has(role));
}

const SCALARS = new Set(["string", "number", "boolean"]);

/** Which widget a schema gets: a data table of kinds, JSON for anything else. */
function kindOf(schema, root) {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return schema.enum.every((value) => SCALARS.has(typeof value)) ? "enum" : "json";
  }
  const options = branches(schema, root);
  if (options) return options.some((option) => option.type === "string") ? "text" : "json";
  if (schema.type === "array" && messageRoles(schema.items, root).length > 0) return "messages";
  return { string: "text", integer: "integer", number: "number", boolean: "boolean" }[schema.type] || "json";
}

function textField(spec) {
  const input = el("textarea", { id: spec.id, name: spec.name, rows: 2, spellcheck: "false" });
  if (typeof spec.schema.default === "string") input.value = spec.schema.default;
  const read = () => (input.value === "" && !spec.required ? undefined : input.value);
  return { control: input, read };
}

function numberField(spec, integer) {
  const input = el("input", { id: spec.id, name: spec.name, type: "number", step: integer ? 1 : "any" });
  if (typeof spec.schema.default === "number") input.value = String(spec.schema.default);
  const read = () => {
    if (input.value.trim() === "") return undefined;
    const value = Number(input.value);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new FieldError(`${spec.label}: expected ${integer ? "a whole number" : "a number"}`);
    }
    return value;
  };
  return { control: input, read };
}

function booleanField(spec) {
  if (spec.required || typeof spec.schema.default === "boolean") {
    const box = el("input", { id: spec.id, name: spec.name, type: "checkbox" });
    box.checked = spec.schema.default === true;
    return { control: box, read: () => box.checked };
  }
  return choiceField(spec, [true, false]);
}

function choiceField(spec, values) {
  const select = el("select", { id: spec.id, name: spec.name });
  const unset = !spec.required || spec.schema.default !== undefined;
  if (unset) {
    const note = spec.schema.default !== undefined ? `default: ${String(spec.schema.default)}` : "not set";
    select.append(el("option", { value: "", text: `(${note})` }));
  }
  values.forEach((value, index) => {
    select.append(el("option", { value: String(index), text: String(value) }));
  });
  const read = () => (select.value === "" ? undefined : values[Number(select.value)]);
  return { control: select, read };
}

function jsonField(spec) {
  const area = el("textarea", {
    id: spec.id, name: spec.name, rows: 4, spellcheck: "false", className: "json",
    placeholder: "JSON",
  });
  if (spec.schema.default !== undefined) area.value = JSON.stringify(spec.schema.default, null, 2);
  const read = () => {
    if (area.value.trim() === "") return undefined;
    try {
      return JSON.parse(area.value);
    } catch (error) {
      throw new FieldError(`${spec.label}: not valid JSON (${error.message})`);
    }
  };
  return { control: area, read, hint: "JSON" };
}

function messagesField(spec, root) {
  const roles = messageRoles(spec.schema.items, root);
  const list = el("ol", {
    id: spec.id, className: "messages", "data-field": spec.name, "aria-label": spec.label,
  });
  const addRow = (role, content) => {
    const select = el("select", { "aria-label": "Role" });
    for (const option of roles) select.append(el("option", { value: option, text: option }));
    select.value = roles.includes(role) ? role : roles[0];
    const text = el("textarea", { rows: 2, "aria-label": "Message", spellcheck: "false" });
    text.value = content;
    const remove = el("button", { type: "button", text: "Remove", className: "secondary" });
    const row = el("li", { className: "message" }, select, text, remove);
    remove.addEventListener("click", () => row.remove());
    list.append(row);
  };
  for (const message of Array.isArray(spec.schema.default) ? spec.schema.default : []) {
    if (message && typeof message.content === "string") addRow(message.type, message.content);
  }
  const add = el("button", { type: "button", text: "Add message", className: "secondary" });
  add.addEventListener("click", () => addRow(list.children.length % 2 ? "ai" : "human", ""));
  const read = () => Array.from(list.children, (row) => ({
    type: row.querySelector("select").value,
    content: row.querySelector("textarea").value,
  }));
  return { control: el("div", { className: "chat" }, list, add), read, hint: "messages" };
}

const WIDGETS = {
  text: (spec) => textField(spec),
  number: (spec) => numberField(spec, false),
  integer: (spec) => numberField(spec, true),
  boolean: (spec) => booleanField(spec),
  enum: (spec) => choiceField(spec, spec.schema.enum),
  messages: (spec, root) => messagesField(spec, root),
  json: (spec) => jsonField(spec),
};

let fieldCount = 0;

/** One labelled field for `schema`, named `name` in the object sent. */
export function makeField(name, schema, root, required) {
  const resolved = withoutNull(resolve(schema, root), root);
  const kind = kindOf(resolved, root);
  fieldCount += 1;
  const spec = {
    id: `field-${fieldCount}`, name, required, schema: resolved,
    label: resolved.title || name,
  };
  const widget = WIDGETS[kind](spec, root);
  const label = el("label", { for: spec.id, text: spec.label });
  if (required) label.append(el("span", { className: "required", text: " *", "aria-hidden": "true" }));
  const help = resolved.description || (widget.hint === "JSON" ? "Any JSON value." : "");
  const row = el(
    "div", { className: `field field-${kind}`, "data-kind": kind },
    label, widget.control, help ? el("p", { className: "hint", text: help }) : null,
  );
  return { node: row, read: widget.read, name };
}

/** Fields for an input schema: one per property of an object, else one for the whole input. */
export function inputFields(schema, root) {
  const resolved = resolve(schema, root);
  const props = resolved.type === "object" && resolved.properties;
  if (props && Object.keys(props).length > 0) {
    const required = new Set(Array.isArray(resolved.required) ? resolved.required : []);
    return {
      fields: Object.entries(props).map(([key, prop]) => makeField(key, prop, root, required.has(key))),
      whole: false,
    };
  }
  return { fields: [makeField("input", { ...resolved, title: "Input" }, root, true)], whole: true };
}

/** Fields for the configurable values of a config schema (empty when none is allowed). */
export function configFields(schema) {
  const configurable = resolve(schema?.properties?.configurable, schema);
  const props = configurable.properties || {};
  return Object.entries(props).map(([key, prop]) => makeField(key, prop, schema, false));
}

/** The object the fields describe; `undefined` members are left out. */
export function readFields(fields) {
  const value = {};
  for (const field of fields) {
    const item = field.read();
    if (item !== undefined) value[field.name] = item;
  }
  return value;
}
