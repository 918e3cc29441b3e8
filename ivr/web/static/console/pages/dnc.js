// Do-not-call lists: look a number up ("when and why is it blocked"), the lists
// with their sizes and newest numbers, add and remove one number, and import a
// registry's file (e.g. São Paulo's "Não Me Ligue") with upload progress and the
// report of bad lines. The rule book reads the lists: a listed number is never
// called nor written to.

import { el, field, replace } from "../dom.js";
import { ApiError, clearErrors, del, get, post, showErrors } from "../api.js";
import { dateTime, has, number, t } from "../i18n.js";
import { ask, say, sayError, useStyle } from "../kit.js";

const B = "dnc";
const API = "/api/v1/dnc";

function word(prefix, value) {
  const key = `${prefix}.${value}`;
  return has(key) ? t(key) : String(value ?? "");
}

// --- lookup -------------------------------------------------------------------

function blockLine(b) {
  const parts = [el("strong", {}, word("dnc.block", b.kind))];
  if (b.list_name) parts.push(" ", t("dnc.lookup.on_list", { list: b.list_name }));
  if (b.since) parts.push(" · ", t("dnc.lookup.since", { when: dateTime(b.since) }));
  if (b.by) parts.push(" · ", t("dnc.lookup.by", { by: b.by }));
  if (b.source) parts.push(" · ", word("dnc.source", b.source));
  if (b.reason) parts.push(el("div", { class: "muted" }, t("dnc.lookup.reason", { reason: b.reason })));
  if (b.debtor_ref) {
    parts.push(el("div", {}, el("a", { href: `#/debtors/${encodeURIComponent(b.debtor_ref)}` }, t("dnc.lookup.debtor", { ref: b.debtor_ref }))));
  }
  return el("li", { dataset: { kind: b.kind } }, parts);
}

function lookupCard() {
  const answer = el("div", { id: "lookup-answer", "aria-live": "polite" });
  const form = el("form", { class: "inline-form", novalidate: true },
    field(t("dnc.field.number"), el("input", { name: "number", type: "tel", autocomplete: "off" }), t("dnc.hint.number")),
    el("button", { class: "primary", type: "submit" }, t("dnc.lookup.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(answer);
    try {
      const out = await get(`${API}/lookup?${new URLSearchParams({ number: form.elements.number.value.trim() })}`);
      clearErrors(form);
      replace(answer,
        el("p", { class: `verdict ${out.blocked ? "no" : "yes"}` },
          t(out.blocked ? "dnc.lookup.blocked" : "dnc.lookup.not_blocked", { number: out.e164 })),
        out.blocks.length ? el("ul", { class: "blocks" }, out.blocks.map(blockLine)) : el("p", { class: "muted" }, t("dnc.lookup.nothing")));
    } catch (error) { showErrors(form, error, B); }
  });
  return el("section", { class: "card", "aria-labelledby": "lookup-title" },
    el("h2", { id: "lookup-title" }, t("dnc.lookup.title")), form, answer);
}

// --- lists ----------------------------------------------------------------------

function listsCard(state) {
  const body = el("tbody");
  const box = el("section", { class: "card", "aria-labelledby": "lists-title" },
    el("h2", { id: "lists-title" }, t("dnc.lists.title")),
    el("div", { class: "table-wrap" }, el("table", { id: "dnc-lists" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, t("dnc.lists.col.name")),
        el("th", { scope: "col", class: "num" }, t("dnc.lists.col.numbers")),
        el("th", { scope: "col" }, t("dnc.lists.col.last")),
        el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, t("dnc.lists.col.actions"))))),
      body)));
  state.drawLists = (items) => {
    replace(body, items.length ? items.flatMap((l) => {
      const detail = el("td", { colspan: 4 });
      const detailRow = el("tr", { class: "entries-row", hidden: true }, detail);
      const toggle = el("button", { type: "button", "aria-expanded": "false", onClick: async () => {
        const open = detailRow.hidden;
        detailRow.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        if (open) await drawEntries(detail, l.name, state);
      } }, t("dnc.lists.show"));
      return [el("tr", { dataset: { list: l.name } },
        el("td", {}, l.name),
        el("td", { class: "num" }, number(l.numbers)),
        el("td", {}, dateTime(l.last_added_at)),
        el("td", { class: "actions" }, toggle)), detailRow];
    }) : el("tr", {}, el("td", { colspan: 4, class: "muted" }, t("dnc.lists.empty"))));
  };
  return box;
}

async function drawEntries(cell, list, state) {
  replace(cell, el("p", { class: "muted" }, t("common.loading")));
  let page;
  try { page = await get(`${API}/entries?${new URLSearchParams({ list_name: list, limit: "50" })}`); } catch (error) { sayError(cell, error); return; }
  replace(cell,
    el("p", { class: "muted" }, t("dnc.entries.count", { shown: page.items.length, total: number(page.total) })),
    el("table", { class: "entries" }, el("tbody", {}, page.items.map((e) => el("tr", { dataset: { number: e.e164 } },
      el("td", {}, e.e164),
      el("td", {}, dateTime(e.added_at)),
      el("td", { class: "muted" }, [word("dnc.source", e.source), e.added_by ? ` · ${e.added_by}` : "", e.reason ? ` · ${e.reason}` : ""].join("")),
      el("td", { class: "actions" }, el("button", { type: "button", onClick: () => removeNumber(list, e.e164, state) }, t("dnc.remove"))))))));
}

async function removeNumber(list, e164, state) {
  const done = await ask({
    title: t("dnc.remove_title"),
    text: t("dnc.remove_confirm", { number: e164, list }),
    confirmLabel: t("dnc.remove"),
    danger: true,
    bundle: B,
    submit: () => del(`${API}/numbers?${new URLSearchParams({ list_name: list, number: e164 })}`),
  });
  if (done) {
    await state.reload();
    say(state.notices, t("dnc.removed", { number: e164, list }), "ok");
  }
}

// --- add one number ---------------------------------------------------------------

function listInput(name = "list_name") {
  return el("input", { name, list: "dnc-list-names", autocomplete: "off", required: true });
}

function addCard(state) {
  const form = el("form", { novalidate: true },
    field(t("dnc.field.list"), listInput(), t("dnc.hint.list")),
    field(t("dnc.field.number"), el("input", { name: "number", type: "tel", autocomplete: "off", required: true }), t("dnc.hint.number")),
    field(t("dnc.field.reason"), el("input", { name: "reason", autocomplete: "off" })),
    el("button", { class: "primary", type: "submit" }, t("dnc.add.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { list_name: String(data.get("list_name") || ""), number: String(data.get("number") || "") };
    if (data.get("reason")) body.reason = String(data.get("reason"));
    try {
      const entry = await post(`${API}/numbers`, body);
      clearErrors(form);
      form.elements.number.value = "";
      await state.reload();
      say(state.notices, t("dnc.added", { number: entry.e164, list: entry.list_name }), "ok");
    } catch (error) { showErrors(form, error, B); }
  });
  return el("section", { class: "card", "aria-labelledby": "add-title" }, el("h2", { id: "add-title" }, t("dnc.add.title")), form);
}

// --- import a file ----------------------------------------------------------------

/** POST the file as the body, reporting upload progress (fetch cannot). */
function upload(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", "text/csv");
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (_) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
      if (xhr.status === 401) window.dispatchEvent(new CustomEvent("ivr:signed-out"));
      reject(new ApiError(xhr.status, data));
    });
    xhr.addEventListener("error", () => reject(new Error(t("dnc.import.network"))));
    xhr.send(file);
  });
}

/** A bad line's reason in the user's words (the API's is English), else as given. */
function lineReason(reason) {
  const m = /^'(.*)' is not a valid phone number$/.exec(reason);
  if (m) return t("dnc.import.bad_number", { text: m[1] });
  if (/^longer than/.test(reason)) return t("dnc.import.too_long");
  if (/column is missing/.test(reason)) return t("dnc.import.no_column");
  return reason;
}

function report(out) {
  return el("div", { class: "import-report", id: "import-report" },
    el("p", { class: "notice ok", role: "status" }, t("dnc.import.done", {
      list: out.list_name, read: number(out.read), added: number(out.added), already: number(out.already), bad: number(out.errors_total) })),
    out.errors.length ? el("div", { class: "table-wrap" },
      el("h3", {}, t("dnc.import.bad_lines", { n: number(out.errors_total) })),
      el("table", { class: "bad-lines" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", class: "num" }, t("dnc.import.col.line")), el("th", { scope: "col" }, t("dnc.import.col.reason")))),
        el("tbody", {}, out.errors.map((e) => el("tr", {}, el("td", { class: "num" }, String(e.line)), el("td", {}, lineReason(e.reason)))))),
      out.errors_total > out.errors.length ? el("p", { class: "muted" }, t("dnc.import.more", { n: number(out.errors_total - out.errors.length) })) : null) : null);
}

function importCard(state) {
  const file = el("input", { name: "file", type: "file", accept: ".csv,.txt,text/csv,text/plain", dataset: { field: "body" }, required: true });
  const progress = el("progress", { max: 1, value: 0, hidden: true, "aria-label": t("dnc.import.progress") });
  const result = el("div", { "aria-live": "polite" });
  const form = el("form", { novalidate: true },
    el("div", { class: "grid-2" },
      field(t("dnc.field.list"), listInput(), t("dnc.hint.import_list")),
      field(t("dnc.field.reason"), el("input", { name: "reason", autocomplete: "off" }), t("dnc.hint.reason"))),
    field(t("dnc.field.file"), file, t("dnc.hint.file")),
    el("div", { class: "inline-form" }, el("button", { class: "primary", type: "submit" }, t("dnc.import.submit")), progress));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(result);
    const list = form.elements.list_name.value.trim();
    if (!list || !file.files.length) {
      const missing = [];
      if (!list) missing.push({ field: "list_name", code: "missing", reason: "missing" });
      if (!file.files.length) missing.push({ field: "body", code: "missing", reason: "missing" });
      showErrors(form, new ApiError(422, { errors: missing }), B);
      return;
    }
    const params = new URLSearchParams({ list_name: list });
    if (form.elements.reason.value.trim()) params.set("reason", form.elements.reason.value.trim());
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    try {
      const out = await upload(`${API}/import?${params}`, file.files[0], (p) => { progress.value = p; });
      progress.value = 1;
      clearErrors(form);
      replace(result, report(out));
      await state.reload();
    } catch (error) {
      showErrors(form, error, B);
    } finally {
      button.disabled = false;
      progress.hidden = true;
    }
  });
  return el("section", { class: "card", "aria-labelledby": "import-title" },
    el("h2", { id: "import-title" }, t("dnc.import.title")), el("p", { class: "muted" }, t("dnc.import.lead")), form, result);
}

export default {
  id: "dnc",
  titleKey: "dnc.title",
  async render(root) {
    await useStyle("/console/static/kit.css");
    const notices = el("div", { id: "dnc-notices", "aria-live": "polite" });
    const names = el("datalist", { id: "dnc-list-names" });
    const state = { notices, drawLists: () => {} };
    state.reload = async () => {
      const lists = await get(`${API}/lists`);
      replace(names, lists.items.map((l) => el("option", { value: l.name })));
      state.drawLists(lists.items);
    };
    root.append(notices, names,
      el("div", { class: "grid-2" }, lookupCard(), addCard(state)),
      listsCard(state),
      importCard(state));
    await state.reload();
  },
};
