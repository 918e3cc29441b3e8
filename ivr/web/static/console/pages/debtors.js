// Debtors: find a person by name, reference or phone (#/debtors?q=...), and
// one person's page (#/debtors/<ref>): who they are and how they may be
// reached, why they cannot be called now and when they next may be (the rule
// book's own answer, from /explain, SMS included), every contact newest first
// (debtor_timeline.js), and what a supervisor may do (debtor_actions.js).

import { el, field, replace } from "../dom.js";
import { get, showErrors } from "../api.js";
import { date, dateTime, has, money, t } from "../i18n.js";
import { useStyle } from "../kit.js";
import { timeline, word } from "./debtor_timeline.js";
import { actionsCard } from "./debtor_actions.js";

const B = "debtors";
const path = (ref) => `/api/v1/debtors/${encodeURIComponent(ref)}`;

// Reasons that only wait for the call window to open again.
const WINDOW_CODES = new Set(["outside_window", "holiday", "blocked_date"]);

// --- search ---------------------------------------------------------------------

async function searchPage(root, ctx) {
  const q = ctx.query.get("q") || "";
  const input = el("input", { name: "q", type: "search", value: q, autocomplete: "off", required: true });
  const form = el("form", { class: "card inline-form", role: "search", novalidate: true },
    field(t("debtors.search.label"), input, t("debtors.search.hint")),
    el("button", { class: "primary", type: "submit" }, t("debtors.search.submit")));
  const results = el("div", { "aria-live": "polite" });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text) ctx.navigate(`#/debtors?q=${encodeURIComponent(text)}`);
  });
  root.append(form, results);
  if (!q) { input.focus(); return; }
  let found;
  try { found = await get(`/api/v1/debtor-search?${new URLSearchParams({ q, limit: "50" })}`); } catch (error) {
    showErrors(form, error, B);
    return;
  }
  if (!found.items.length) {
    replace(results, el("p", { class: "card muted" }, t("debtors.search.none", { q })));
    return;
  }
  replace(results, el("div", { class: "card table-wrap" },
    el("p", { class: "muted" }, t("debtors.search.count", { n: found.total })),
    el("table", { id: "search-results" },
      el("thead", {}, el("tr", {}, ["name", "ref", "phones", "status", "matched"].map((k) => el("th", { scope: "col" }, t(`debtors.search.col.${k}`))))),
      el("tbody", {}, found.items.map((d) => el("tr", { dataset: { ref: d.external_ref } },
        el("td", {}, el("a", { href: `#/debtors/${encodeURIComponent(d.external_ref)}` }, d.name)),
        el("td", {}, el("code", {}, d.external_ref)),
        el("td", {}, d.phones.join(", ")),
        el("td", {}, word("debtors.status", d.status)),
        el("td", { class: "muted" }, word("debtors.matched", d.matched))))))));
}

// --- the person -------------------------------------------------------------------

function since(text, at) { return at ? `${text} (${t("debtors.since", { date: date(at) })})` : text; }

function channelLine(label, allowed, optedOutAt, byChoiceKey) {
  let state;
  let cls = "good";
  if (optedOutAt) { state = since(t("debtors.channel_state.opted_out"), optedOutAt); cls = "bad"; }
  else if (!allowed) { state = t(byChoiceKey); cls = "bad"; }
  else state = t("debtors.channel_state.allowed");
  return el("li", {}, el("strong", {}, label), ": ", el("span", { class: `badge ${cls}` }, state));
}

function personCard(d, ch) {
  const smsBlocked = new Set((ch && ch.sms_blocked_numbers) || []);
  const phones = el("ul", { class: "phones" }, d.phones.map((p) => el("li", { dataset: { phone: p.e164 } },
    el("span", { class: p.wrong_number_at ? "wrong" : null }, p.e164), " ",
    p.wrong_number_at ? el("span", { class: "badge bad" }, since(t("debtors.phone.wrong"), p.wrong_number_at)) : null, " ",
    p.opted_out_at ? el("span", { class: "badge bad" }, since(t("debtors.phone.opted_out"), p.opted_out_at)) : null, " ",
    smsBlocked.has(p.e164) ? el("span", { class: "badge warn" }, t("debtors.phone.sms_stop")) : null)));
  const currency = (d.debts[0] && d.debts[0].currency) || "BRL";
  return el("section", { class: "card person", "aria-labelledby": "person-title" },
    el("h2", { id: "person-title" }, t("debtors.person.title")),
    el("dl", { class: "facts" },
      el("dt", {}, t("debtors.person.ref")), el("dd", {}, el("code", {}, d.external_ref)),
      el("dt", {}, t("debtors.person.status")), el("dd", {}, el("span", { class: `badge ${d.status === "active" ? "" : "warn"}` }, word("debtors.status", d.status))),
      el("dt", {}, t("debtors.person.where")), el("dd", {}, [d.region, d.country].filter(Boolean).join(" · "), d.timezone ? el("span", { class: "muted" }, ` (${d.timezone})`) : null),
      el("dt", {}, t("debtors.person.phones")), el("dd", {}, d.phones.length ? phones : t("debtors.person.no_phones")),
      el("dt", {}, t("debtors.person.channels")), el("dd", {}, el("ul", { class: "channels" },
        channelLine(t("debtors.channel.call"), d.calls_allowed, d.opted_out_at, "debtors.channel_state.not_allowed"),
        channelLine(t("debtors.channel.sms"), d.sms_allowed, d.sms_opted_out_at, "debtors.channel_state.not_allowed"),
        d.preferred_channel ? el("li", { class: "muted" }, t("debtors.person.prefers", { channel: word("debtors.channel_word", d.preferred_channel) })) : null)),
      el("dt", {}, t("debtors.person.debts")), el("dd", {}, d.debts.length ? el("ul", { class: "debts" }, d.debts.map((x) => el("li", {},
        t("debtors.debt.line", { creditor: x.creditor, amount: money(x.amount_cents, x.currency || currency), due: date(x.due_date) }), " ",
        el("span", { class: `badge ${x.status === "open" ? "" : x.status === "paid" ? "good" : "warn"}` }, word("debtors.debt_status", x.status)),
        x.paid_cents ? el("span", { class: "muted" }, ` ${t("debtors.debt.paid", { amount: money(x.paid_cents, x.currency || currency) })}`) : null))) : t("debtors.person.no_debts"))));
}

/** A reason in plain words: "debtors.reason.<code>" with its detail and time, else the API's message. */
function reasonText(r) {
  const key = `debtors.reason.${r.code}`;
  const vars = { ...(r.detail || {}), until: r.until ? dateTime(r.until) : "" };
  const text = has(key) ? t(key, vars) : r.message;
  return r.until && !WINDOW_CODES.has(r.code) ? `${text} ${t("debtors.reason.until", { when: dateTime(r.until) })}` : text;
}

function reasonList(reasons) {
  return el("ul", { class: "reasons" }, reasons.map((r) => el("li", { dataset: { code: r.code } }, reasonText(r))));
}

function callableCard(x) {
  const out = [el("h2", { id: "callable-title" }, t("debtors.callable.title"))];
  if (x.callable) {
    out.push(el("p", { class: "verdict yes" }, t("debtors.callable.yes", { number: x.to_number || "" })));
  } else {
    const lasting = x.reasons.filter((r) => !r.until && !WINDOW_CODES.has(r.code));
    out.push(el("p", { class: "verdict no" }, t("debtors.callable.no")), reasonList(x.reasons));
    out.push(el("p", { class: "next" }, lasting.length || !x.next_check_at
      ? t("debtors.callable.not_by_itself")
      : t("debtors.callable.next", { when: dateTime(x.next_check_at) })));
  }
  const s = x.sms;
  if (s) {
    out.push(el("h3", {}, t("debtors.sms_verdict.title")));
    if (s.allowed) out.push(el("p", { class: "verdict yes" }, t("debtors.sms_verdict.yes", { number: s.to_number || "" })));
    else {
      out.push(el("p", { class: "verdict no" }, t("debtors.sms_verdict.no")), reasonList(s.reasons));
      out.push(el("p", { class: "next" }, s.next_at ? t("debtors.callable.next", { when: dateTime(s.next_at) }) : t("debtors.callable.not_by_itself")));
    }
    out.push(el("p", { class: "muted" }, t("debtors.sms_verdict.today", { n: s.sent_today, cap: s.daily_cap })));
  }
  return el("section", { class: "card callable", id: "callable", "aria-labelledby": "callable-title" }, out);
}

async function debtorPage(root, ctx, ref) {
  const notices = el("div", { "aria-live": "polite", id: "debtor-notices" });
  const top = el("div", { class: "grid-2 debtor-top" });
  const actions = el("div");
  const events = el("section", { class: "card", "aria-labelledby": "timeline-title" });
  root.append(el("p", { class: "back" }, el("a", { href: "#/debtors" }, t("debtors.back"))), notices, top, actions, events);

  const reload = async () => {
    const [d, x, tl, ch] = await Promise.all([
      get(path(ref)), get(`${path(ref)}/explain`), get(`${path(ref)}/timeline`), get(`${path(ref)}/channels`)]);
    ctx.setTitle(d.name);
    replace(top, personCard(d, ch), callableCard(x));
    replace(actions, actionsCard(d, { ref, notices, reload }));
    const currency = (d.debts[0] && d.debts[0].currency) || "BRL";
    replace(events, el("h2", { id: "timeline-title" }, t("debtors.timeline.title")), timeline(tl.items, { currency }));
  };
  try {
    await reload();
  } catch (error) {
    if (error.status !== 404) throw error;
    replace(root, el("div", { class: "card notice error", role: "alert" }, t("debtors.not_found", { ref })),
      el("p", {}, el("a", { href: "#/debtors" }, t("debtors.back"))));
  }
}

export default {
  id: "debtors",
  titleKey: "debtors.title",
  async render(root, ctx) {
    await Promise.all([useStyle("/console/static/kit.css"), useStyle("/console/static/pages/debtors.css")]);
    if (ctx.params[0]) return debtorPage(root, ctx, ctx.params[0]);
    return searchPage(root, ctx);
  },
};
