// The campaign form: every setting a supervisor may change, in sections.
//
// campaignForm(campaign, { accountCps, onSaved }) -> <form>. campaign null is
// a new one (POST with everything); an existing one sends only what changed
// (PATCH the settings, PUT the windows, PUT the blocked dates). The API's
// errors are shown beside their fields in the user's language (api.showErrors
// with this page's words; list fields like retry_delays_minutes[2] are shown
// beside the list's own control).

import { el, field, replace } from "../dom.js";
import { patch, post, put, showErrors } from "../api.js";
import { t } from "../i18n.js";
import { windowGrid } from "./campaign_windows.js";
import { blockedDates, holidaysPanel } from "./campaign_calendar.js";

const B = "campaigns";
const DEFAULTS = {
  name: "", locale: "pt-BR", country: "BR", company_name: "Central de Atendimento", callback_number: "",
  daily_cap: 2, weekly_cap: 7, min_gap_minutes: 240, quiet_days_after_rpc: 0, paid_pause_business_days: 2,
  max_concurrent_calls: 5, retry_delays_minutes: [], verification_policy: "name",
  inbound_verification_policy: "name_and_factor", record_calls: true, inbound_suppresses_today: true,
  sms_daily_cap: 1, reminder_days_before: 1, max_promise_days: 30, max_instalments: 6, max_plan_days: 180,
  followup_after_broken_days: 2, promise_on_closed_day: "next_business_day", blocked_dates: [],
  windows: [0, 1, 2, 3, 4].map((weekday) => ({ weekday, start: "08:00", end: "20:00" }))
    .concat([{ weekday: 5, start: "08:00", end: "14:00" }]),
};
const NUMBERS = {
  daily_cap: [1, 20], weekly_cap: [1, 100], min_gap_minutes: [0, 10080], quiet_days_after_rpc: [0, 90],
  paid_pause_business_days: [0, 30], max_concurrent_calls: [1, 1000], sms_daily_cap: [0, 10],
  reminder_days_before: [0, 30], max_promise_days: [1, 365], max_instalments: [1, 60], max_plan_days: [0, 1830],
  followup_after_broken_days: [0, 30],
};
const CHOICES = {
  locale: ["pt-BR", "en-US"],
  country: ["BR", "US"],
  verification_policy: ["name", "name_and_factor"],
  inbound_verification_policy: ["name", "name_and_factor"],
  promise_on_closed_day: ["next_business_day", "accept"],
};
const TEXTS = { name: 120, company_name: 120, callback_number: 20 };
const CHECKS = ["record_calls", "inbound_suppresses_today"];
const SETTINGS = [...Object.keys(TEXTS), ...Object.keys(CHOICES), ...Object.keys(NUMBERS), ...CHECKS, "retry_delays_minutes"];

function control(name, value) {
  const id = `c-${name}`;
  if (name in NUMBERS) {
    const [min, max] = NUMBERS[name];
    return el("input", { id, name, type: "number", inputmode: "numeric", min, max, step: 1, value: String(value) });
  }
  if (name in CHOICES) {
    return el("select", { id, name }, CHOICES[name].map((v) =>
      el("option", { value: v, selected: v === value }, t(`campaigns.choice.${name}.${v}`))));
  }
  if (CHECKS.includes(name)) return el("input", { id, name, type: "checkbox", checked: Boolean(value) });
  if (name === "retry_delays_minutes") {
    return el("input", { id, name, value: value.join(", "), inputmode: "numeric", autocomplete: "off" });
  }
  return el("input", { id, name, value, maxlength: TEXTS[name], type: name === "callback_number" ? "tel" : "text",
    autocomplete: "off", required: name === "name" });
}

function row(name, value) {
  const input = control(name, value);
  const hintKey = `campaigns.hint.${name}`;
  const hint = t(hintKey) !== hintKey ? t(hintKey) : null;
  if (CHECKS.includes(name)) {
    const help = hint ? el("p", { class: "hint", id: `${input.id}-hint` }, hint) : null;
    if (help) input.setAttribute("aria-describedby", help.id);
    return el("div", { class: "field check-field" },
      el("label", { for: input.id, class: "check" }, input, ` ${t(`campaigns.field.${name}`)}`), help);
  }
  return field(t(`campaigns.field.${name}`), input, hint);
}

function section(key, ...children) {
  return el("fieldset", { class: "card section", dataset: { section: key } },
    el("legend", {}, t(`campaigns.section.${key}`)), ...children);
}

/** What a control holds, as the API wants it; text the API will refuse by name stays text. */
function valueOf(form, name) {
  const node = form.elements.namedItem(name);
  if (CHECKS.includes(name)) return node.checked;
  const raw = node.value.trim();
  if (name in NUMBERS) return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (name === "retry_delays_minutes") {
    if (!raw) return [];
    return raw.split(/[,;\s]+/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  }
  return raw;
}

// Errors on a list's item (retry_delays_minutes[1], dates[0]) go beside the list's control.
const LIST_FIELDS = { retry_delays_minutes: "retry_delays_minutes", blocked_dates: "blocked_dates", dates: "blocked_dates" };
function placed(error) {
  if (!Array.isArray(error.errors) || !error.errors.length) return error;
  const errors = (error.errors || []).map((e) => {
    const m = /^(\w+)\[(\d+)\]$/.exec(e.field || "");
    if (m && m[1] in LIST_FIELDS) return { ...e, field: LIST_FIELDS[m[1]], params: { ...(e.params || {}), step: Number(m[2]) + 1 } };
    if ((e.field || "") in LIST_FIELDS) return { ...e, field: LIST_FIELDS[e.field] };
    return e;
  });
  const copy = new error.constructor(error.status, error.body);
  copy.errors = errors;
  return copy;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export function campaignForm(campaign, { accountCps, onSaved }) {
  const c = campaign || DEFAULTS;
  const windows = windowGrid(c.windows);
  const blocked = blockedDates(c.blocked_dates);
  const outside = el("input", { type: "checkbox", id: "c-allow_outside_defaults", name: "allow_outside_defaults" });
  const warnings = new Map((c.warnings || []).map((w) => [w.field, w]));
  const general = section("general", ["name", "company_name", "callback_number", "locale", "country"].map((n) => row(n, c[n])));
  for (const [name, w] of warnings) {
    const box = general.querySelector(`[name="${name}"]`)?.closest(".field");
    if (box) box.append(el("p", { class: "field-warning", role: "status" }, t(`campaigns.warning.${name}`, { detail: w.message })));
  }
  const submit = el("button", { class: "primary", type: "submit" }, t(campaign ? "campaigns.save" : "campaigns.create"));
  const status = el("span", { class: "save-status", role: "status", "aria-live": "polite" });
  const form = el("form", { id: "campaign-form", class: "campaign-form", novalidate: true },
    general,
    section("windows",
      el("p", { class: "hint" }, t("campaigns.windows.hint")),
      windows.node,
      el("div", { class: "field check-field" },
        el("label", { for: outside.id, class: "check" }, outside, ` ${t("campaigns.field.allow_outside_defaults")}`),
        el("p", { class: "hint" }, t("campaigns.hint.allow_outside_defaults")))),
    section("calendar", blocked.node, el("h3", {}, t("campaigns.holidays.title")), holidaysPanel(campaign && campaign.id)),
    el("div", { class: "columns" },
      section("caps", ["daily_cap", "weekly_cap", "min_gap_minutes", "quiet_days_after_rpc", "paid_pause_business_days"].map((n) => row(n, c[n]))),
      section("pacing", row("max_concurrent_calls", c.max_concurrent_calls),
        el("div", { class: "field" }, el("span", { class: "label" }, t("campaigns.field.account_cps")),
          el("p", { class: "readonly", id: "account-cps" }, String(accountCps ?? "—")),
          el("p", { class: "hint" }, t("campaigns.hint.account_cps"))),
        row("retry_delays_minutes", c.retry_delays_minutes)),
      section("verification", ["verification_policy", "inbound_verification_policy", "record_calls", "inbound_suppresses_today"].map((n) => row(n, c[n]))),
      section("sms", ["sms_daily_cap", "reminder_days_before"].map((n) => row(n, c[n]))),
      section("plans", ["max_promise_days", "max_instalments", "max_plan_days", "followup_after_broken_days", "promise_on_closed_day"].map((n) => row(n, c[n])))),
    el("div", { class: "form-actions" }, submit, status));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(status);
    submit.disabled = true;
    const settings = Object.fromEntries(SETTINGS.map((n) => [n, valueOf(form, n)]));
    const wins = windows.read();
    const days = blocked.read();
    try {
      let saved;
      if (!campaign) {
        saved = await post("/api/v1/campaigns", { ...settings, windows: wins, blocked_dates: days, allow_outside_defaults: outside.checked });
      } else {
        const base = `/api/v1/campaigns/${campaign.id}`;
        const changed = Object.fromEntries(Object.entries(settings).filter(([k, v]) => !same(v, campaign[k])));
        saved = campaign;
        if (Object.keys(changed).length) saved = await patch(base, changed);
        if (!same(wins, campaign.windows.map(({ weekday, start, end }) => ({ weekday, start, end: end === "24:00" ? "00:00" : end })))) {
          saved = await put(`${base}/windows`, { windows: wins, allow_outside_defaults: outside.checked });
        }
        if (!same(days, [...campaign.blocked_dates].sort())) saved = await put(`${base}/blocked-dates`, { dates: days });
      }
      await onSaved(saved);
    } catch (error) {
      showErrors(form, placed(error), B);
      status.textContent = t("campaigns.not_saved");
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
