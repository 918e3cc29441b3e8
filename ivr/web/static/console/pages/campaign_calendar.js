// Blocked dates (days this campaign never calls) and the coming holidays of
// the campaign's country and of the states its debtors live in (or the states
// the supervisor picks): the holidays come from the calendars the rule book
// reads, so they need no blocking.

import { el, field, replace } from "../dom.js";
import { errorText, get } from "../api.js";
import { date, locale, t } from "../i18n.js";

/** blockedDates(days) -> { node, read() } with read() the ISO days, sorted. */
export function blockedDates(days) {
  const chosen = new Set(days);
  const list = el("ul", { class: "chips", "aria-live": "polite" });
  const picker = el("input", { type: "date", name: "blocked_date_new" });
  const draw = () => replace(list, [...chosen].sort().map((d) => el("li", { dataset: { day: d } },
    date(d),
    el("button", { type: "button", class: "small", "aria-label": t("campaigns.blocked.remove", { day: date(d) }),
      onClick: () => { chosen.delete(d); draw(); } }, "×"))));
  const add = () => {
    if (picker.value) { chosen.add(picker.value); picker.value = ""; draw(); }
  };
  picker.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  draw();
  const node = el("div", { class: "field", dataset: { field: "blocked_dates" } },
    el("div", { class: "inline" },
      field(t("campaigns.blocked.add_label"), picker),
      el("button", { type: "button", onClick: add }, t("campaigns.blocked.add"))),
    list,
    el("p", { class: "hint" }, t("campaigns.blocked.hint")));
  return { node, read: () => [...chosen].sort() };
}

/** The coming holidays of a saved campaign, with a state picker. */
export function holidaysPanel(campaignId) {
  const table = el("div", { "aria-live": "polite" }, el("p", { class: "muted" }, t("common.loading")));
  const states = el("fieldset", { class: "states" });
  const node = el("div", { class: "holidays" },
    el("p", { class: "hint" }, t("campaigns.holidays.hint")), states, table);
  if (!campaignId) {
    replace(table, el("p", { class: "muted" }, t("campaigns.holidays.after_save")));
    return node;
  }
  const load = async (picked) => {
    const query = new URLSearchParams({ months: "6", lang: locale() });
    if (picked) query.set("states", picked.join(","));
    try {
      const data = await get(`/api/v1/campaigns/${campaignId}/holidays?${query}`);
      drawStates(data);
      replace(table, data.holidays.length ? el("table", { class: "compact" },
        el("thead", {}, el("tr", {},
          el("th", { scope: "col" }, t("campaigns.holidays.date")),
          el("th", { scope: "col" }, t("campaigns.holidays.name")),
          el("th", { scope: "col" }, t("campaigns.holidays.where")))),
        el("tbody", {}, data.holidays.map((h) => el("tr", {},
          el("td", {}, date(h.date)), el("td", {}, h.name),
          el("td", {}, h.states.length ? h.states.join(", ") : t("campaigns.holidays.national", { country: data.country }))))))
        : el("p", { class: "muted" }, t("campaigns.holidays.none")));
    } catch (error) {
      replace(table, el("p", { class: "notice error", role: "alert" }, errorText(error)));
    }
  };
  function drawStates(data) {
    const on = new Set(data.states);
    const boxes = data.known_states.map((code) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: "holiday_state", value: code, checked: on.has(code) }), ` ${code}`));
    replace(states,
      el("legend", {}, t("campaigns.holidays.states")),
      el("p", { class: "hint" }, data.debtor_states.length
        ? t("campaigns.holidays.debtor_states", { states: data.debtor_states.join(", ") })
        : t("campaigns.holidays.no_debtor_states")),
      el("details", {}, el("summary", {}, t("campaigns.holidays.pick")),
        el("div", { class: "state-grid" }, boxes),
        el("button", { type: "button", class: "small", onClick: () => load(
          Array.from(states.querySelectorAll("input[name=holiday_state]:checked")).map((i) => i.value)) },
        t("campaigns.holidays.show"))));
  }
  load(null);
  return node;
}
