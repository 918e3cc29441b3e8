// The audit log: who changed which setting, list or user, when, with before -> after.

import { el, field, replace } from "../dom.js";
import { clearErrors, get, showErrors } from "../api.js";
import { dateTime, has, t } from "../i18n.js";
import { useStyle } from "../kit.js";

const B = "audit";
const ENTITIES = ["campaign", "campaign_window", "creditor", "spoken_form", "debtor", "debt", "plan", "payment", "dnc", "user"];
const PAGE = 50;

function label(kind, value) {
  const key = `audit.${kind}.${value}`;
  return has(key) ? t(key) : value;
}

function shown(value) {
  if (value === null || value === undefined) return t("audit.none");
  if (typeof value === "boolean") return t(value ? "audit.yes" : "audit.no");
  if (Array.isArray(value) && value.every((v) => v && typeof v === "object" && "weekday" in v)) {
    return value.map((w) => `${t(`audit.weekday.${w.weekday}`)} ${w.start}–${w.end}`).join("; ") || t("audit.none");
  }
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) {
    return value.length ? value.map((v) => label("value", String(v))).join(", ") : t("audit.none");
  }
  if (typeof value === "object") return JSON.stringify(value);
  return label("value", String(value));
}

// The form's days are the user's own days: "from" is its local midnight, and
// "to" (a whole day in the form, an exclusive instant in the API) the next one.
function dayStart(day, plus = 0) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plus).toISOString();
}

function changes(entry) {
  const fields = Object.entries(entry.changes || {});
  if (!fields.length) return el("span", { class: "muted" }, t("audit.no_values"));
  return el("ul", { class: "changes" }, fields.map(([name, [before, after]]) =>
    el("li", {}, el("strong", {}, label("field", name)), ": ",
      before === null || before === undefined ? null : [el("span", { class: "before" }, shown(before)), " → "],
      el("span", { class: "after" }, shown(after)))));
}

export default {
  id: "audit",
  titleKey: "audit.title",
  async render(root, ctx) {
    await useStyle("/console/static/kit.css");
    const q = ctx.query;
    const entity = el("select", { name: "entity" }, el("option", { value: "" }, t("audit.any")),
      ENTITIES.map((e) => el("option", { value: e, selected: q.get("entity") === e }, label("entity", e))));
    const form = el("form", { class: "card filters", novalidate: true },
      el("div", { class: "filter-row" },
        field(t("audit.filter.entity"), entity),
        field(t("audit.filter.entity_id"), el("input", { name: "entity_id", value: q.get("entity_id") || "" })),
        field(t("audit.filter.user"), el("input", { name: "user", value: q.get("user") || "" })),
        field(t("audit.filter.from"), el("input", { name: "from", type: "date", value: q.get("from") || "" })),
        field(t("audit.filter.to"), el("input", { name: "to", type: "date", value: q.get("to") || "" }))),
      el("button", { class: "primary", type: "submit" }, t("audit.filter.apply")));
    const body = el("tbody");
    const pager = el("p", { class: "pager" });
    let offset = Number(q.get("offset") || 0) || 0;
    const load = async () => {
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(form)) {
        if (!v) continue;
        params.set(k, k === "to" ? dayStart(v, 1) : k === "from" ? dayStart(v) : v);
      }
      params.set("limit", String(PAGE));
      params.set("offset", String(offset));
      let data;
      try { data = await get(`/api/v1/audit?${params}`); } catch (error) { showErrors(form, error, B); return; }
      clearErrors(form);
      replace(body, data.items.length ? data.items.map((e) => el("tr", { dataset: { entry: e.id } },
        el("td", {}, dateTime(e.at)),
        el("td", {}, e.username || t("audit.system")),
        el("td", {}, label("entity", e.entity), " ", el("span", { class: "muted" }, `#${e.entity_id}`)),
        el("td", {}, label("action", e.action)),
        el("td", {}, changes(e)))) : el("tr", {}, el("td", { colspan: 5, class: "muted" }, t("audit.empty"))));
      replace(pager,
        t("audit.showing", { from: data.total ? offset + 1 : 0, to: offset + data.items.length, total: data.total }), " ",
        el("button", { type: "button", disabled: offset === 0, onClick: () => { offset = Math.max(0, offset - PAGE); load(); } }, t("audit.prev")),
        " ",
        el("button", { type: "button", disabled: offset + PAGE >= data.total, onClick: () => { offset += PAGE; load(); } }, t("audit.next")));
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); offset = 0; load(); });
    root.append(form, el("div", { class: "card table-wrap" }, el("table", { id: "audit-table" },
      el("thead", {}, el("tr", {}, ["at", "who", "what", "action", "changes"].map((k) => el("th", { scope: "col" }, t(`audit.col.${k}`))))),
      body)), pager);
    await load();
  },
};
