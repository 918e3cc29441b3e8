// el(tag, attrs, ...children): build DOM without ever parsing HTML.
//
// Children that are strings or numbers become text nodes, so text from the
// server or the user is always inserted as text. attrs: "class", "text",
// "dataset" (object), "on<Event>" (listener), booleans (hidden, disabled,
// checked...) and any other attribute set with setAttribute.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) node.setAttribute(name, "");
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside ``node`` with ``children`` (text stays text). */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

let fieldIds = 0;

/** A labelled form field: <div class="field"><label for>…</label><input id>…<p class="field-error"></p></div>. */
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++fieldIds}`;
  const help = hint ? el("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (help) control.setAttribute("aria-describedby", help.id);
  return el("div", { class: "field" }, el("label", { for: control.id }, label), control, help);
}
