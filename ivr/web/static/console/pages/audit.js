// The audit log: who changed which setting, list or user, when, with before -> after.

import { el, field, replace } from "../dom.js";
import { get, showErrors } from "../api.js";
import { dateTime, has, t } from "../i18n.js";

const B = "audit";
const ENTITIES = ["campaign", "campaign_window", "creditor", "spoken_form", "debtor", "plan", "dnc", "user"];
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
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// "to" is a whole day in the form and an exclusive instant in the API: the day after, at 00:00.
function nextDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function changes(entry) {
  const fields = Object.entries(entry.changes || {});
  if (!fields.length) return el("span", { class: "muted" }, t("audit.no_values"));
  return el("ul", { class: "changes" }, fields.map(([name, [before, after]]) =>
    el("li", {}, el("strong", {}, label("field", name)), ": ",
      el("span", { class: "before" }, shown(before)), " → ", el("span", { class: "after" }, shown(after)))));
}

export default {
  id: "audit",
  titleKey: "audit.title",
  async render(root, ctx) {
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
      for (const [k, v] of new FormData(form)) if (v) params.set(k, k === "to" ? nextDay(v) : v);
      params.set("limit", String(PAGE));
      params.set("offset", String(offset));
      let data;
      try { data = await get(`/api/v1/audit?${params}`); } catch (error) { showErrors(form, error, B); return; }
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
    root.append(form, el("div", { class: "card" }, el("table", {},
      el("thead", {}, el("tr", {}, ["at", "who", "what", "action", "changes"].map((k) => el("th", { scope: "col" }, t(`audit.col.${k}`))))),
      body)), pager);
    await load();
  },
};
