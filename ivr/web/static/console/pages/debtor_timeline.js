// The debtor page's timeline: one readable row per contact or event, newest first.
//
// Entries come from GET /api/v1/debtors/<ref>/timeline as {kind, at, id, detail};
// each kind has its own drawing below. A call opens (<details>) to its turns:
// what the service said, the words it recognised, the keys pressed; and its
// recording, playable while it is kept. Money and dates follow the user's locale.

import { el } from "../dom.js";
import { date, dateTime, has, money, percent, t, time } from "../i18n.js";

/** The translation of "<prefix>.<value>", else the value itself (a new code stays readable). */
export function word(prefix, value) {
  if (value === null || value === undefined || value === "") return "";
  const key = `${prefix}.${value}`;
  return has(key) ? t(key) : String(value);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.max(0, Math.round(Number(seconds)));
  const m = Math.floor(s / 60);
  return m ? t("debtors.duration.min_s", { m, s: s % 60 }) : t("debtors.duration.s", { s });
}

function badge(text, tone = "") {
  return text ? el("span", { class: `badge ${tone}`.trim() }, text) : null;
}

const GOOD = new Set(["kept", "completed", "delivered", "received", "done", "promise", "right_party", "connected"]);
const BAD = new Set(["broken", "failed", "undelivered", "cancelled", "canceled", "refused", "wrong_party", "opt_out", "error", "abandoned"]);

function tone(status) {
  return GOOD.has(status) ? "good" : BAD.has(status) ? "bad" : "";
}

// --- turns of a call ------------------------------------------------------------

function turn(x) {
  const at = el("span", { class: "turn-at muted" }, x.at ? time(x.at) : "");
  if (x.kind === "prompt") {
    return el("li", { class: "turn prompt" }, at, el("span", { class: "who" }, t("debtors.turn.said")),
      el("span", { class: "what" }, x.text || word("debtors.prompt", x.prompt_id)));
  }
  if (x.kind === "speech") {
    return el("li", { class: "turn speech" }, at, el("span", { class: "who" }, t("debtors.turn.heard")),
      el("span", { class: "what" }, el("span", { class: "words" }, x.text ? `“${x.text}”` : t("debtors.turn.nothing")), " ",
        x.intent ? badge(word("debtors.intent", x.intent)) : null,
        x.after_hangup ? el("span", { class: "muted" }, t("debtors.turn.after_hangup")) : null,
        x.confidence !== undefined ? el("span", { class: "muted" }, ` ${t("debtors.turn.confidence", { p: percent(x.confidence, 0) })}`) : null));
  }
  if (x.kind === "dtmf") {
    return el("li", { class: "turn dtmf" }, at, el("span", { class: "who" }, t("debtors.turn.keys")),
      el("span", { class: "what" }, el("kbd", {}, x.digits || "")));
  }
  if (x.kind === "silence") {
    return el("li", { class: "turn silence" }, at, el("span", { class: "who" }, t("debtors.turn.silence")), el("span", { class: "what muted" }, "…"));
  }
  return el("li", { class: "turn other" }, at, el("span", { class: "who" }, word("debtors.turn", x.kind)),
    el("span", { class: "what muted" }, x.text || x.state || ""));
}

function recording(r) {
  if (!r) return null;
  if (r.playable && r.url) {
    return el("div", { class: "recording" }, el("p", { class: "muted" }, t("debtors.call.recording", { d: duration(r.duration_s) })),
      el("audio", { controls: true, preload: "none", src: r.url }));
  }
  if (r.deleted_at) return el("p", { class: "muted" }, t("debtors.call.recording_deleted", { date: date(r.deleted_at) }));
  return el("p", { class: "muted" }, t("debtors.call.recording_status", { status: word("debtors.recording", r.status) }));
}

function call(d) {
  const inbound = d.direction === "inbound";
  const title = t(inbound ? "debtors.call.inbound" : "debtors.call.outbound", { number: d.number || "" });
  const facts = [
    badge(d.outcome ? word("debtors.outcome", d.outcome) : word("debtors.call_status", d.status), tone(d.outcome || d.status)),
    d.duration_s ? el("span", { class: "muted" }, duration(d.duration_s)) : null,
    d.answered_by && d.answered_by !== "human" ? el("span", { class: "muted" }, word("debtors.answered_by", d.answered_by)) : null,
  ];
  const turns = d.turns || [];
  const body = turns.length
    ? el("ol", { class: "turns" }, turns.map(turn))
    : el("p", { class: "muted" }, t("debtors.call.no_turns"));
  return [
    el("p", { class: "entry-title" }, title, " ", facts),
    el("details", { class: "call-turns" },
      el("summary", {}, t("debtors.call.turns", { n: turns.length })), body, recording(d.recording)),
  ];
}

// --- the other kinds ------------------------------------------------------------

function instalments(list, currency) {
  if (!list || !list.length) return null;
  return el("table", { class: "instalments" },
    el("thead", {}, el("tr", {}, ["n", "date", "amount", "status"].map((k) => el("th", { scope: "col", class: k === "amount" ? "num" : null }, t(`debtors.plan.col.${k}`))))),
    el("tbody", {}, list.map((p) => el("tr", {},
      el("td", {}, String(p.sequence ?? "")), el("td", {}, date(p.date)),
      el("td", { class: "num" }, money(p.amount_cents, currency)),
      el("td", {}, badge(word("debtors.promise_status", p.status), tone(p.status)))))));
}

const DRAW = {
  call,
  transfer: (d) => el("p", { class: "entry-title" },
    t("debtors.transfer.text", { agent: d.agent || t("debtors.transfer.no_agent") }), " ",
    badge(word("debtors.transfer_status", d.status), tone(d.status)),
    d.reason ? el("span", { class: "muted" }, ` ${word("debtors.transfer_reason", d.reason)}`) : null,
    d.queue_wait_s ? el("span", { class: "muted" }, ` · ${t("debtors.transfer.waited", { d: duration(d.queue_wait_s) })}`) : null),
  note: (d) => [
    el("p", { class: "entry-title" }, t("debtors.note.text", { agent: d.agent || t("debtors.transfer.no_agent") }), " ",
      d.outcome ? badge(word("debtors.outcome", d.outcome), tone(d.outcome)) : null),
    d.notes ? el("blockquote", {}, d.notes) : null,
  ],
  promise: (d, ctx) => el("p", { class: "entry-title" },
    t("debtors.promise.text", { amount: money(d.amount_cents, ctx.currency), date: date(d.date) }), " ",
    badge(word("debtors.promise_status", d.status), tone(d.status)),
    d.source ? el("span", { class: "muted" }, ` ${word("debtors.source", d.source)}`) : null),
  plan: (d, ctx) => {
    const total = (d.instalments || []).reduce((sum, p) => sum + (p.amount_cents || 0), 0);
    return [
      el("p", { class: "entry-title" },
        t("debtors.plan.text", { n: (d.instalments || []).length, amount: money(total, ctx.currency) }), " ",
        badge(word("debtors.plan_status", d.status), tone(d.status))),
      instalments(d.instalments, ctx.currency),
    ];
  },
  payment: (d) => el("p", { class: "entry-title" },
    t("debtors.payment.text", { amount: money(d.amount_cents, d.currency || "BRL"), date: date(d.paid_on) }),
    d.external_ref ? el("span", { class: "muted" }, ` · ${d.external_ref}`) : null),
  callback: (d) => el("p", { class: "entry-title" },
    t("debtors.callback.text", { when: dateTime(d.due_at) }), " ",
    badge(word("debtors.callback_status", d.status), tone(d.status)),
    d.reason ? el("span", { class: "muted" }, ` ${word("debtors.source", d.reason)}`) : null),
  opt_out: (d) => el("p", { class: "entry-title" },
    t("debtors.opt_out.text", { channel: word("debtors.channel_word", d.channel) }),
    d.source ? el("span", { class: "muted" }, ` ${word("debtors.source", d.source)}`) : null),
  sms: (d) => {
    const inbound = d.direction === "inbound";
    return [
      el("p", { class: "entry-title" },
        t(inbound ? "debtors.sms.inbound" : "debtors.sms.outbound", { number: inbound ? d.from : d.to }), " ",
        badge(word("debtors.sms_status", d.status), tone(d.status)),
        el("span", { class: "muted" }, ` ${word("debtors.sms_purpose", d.purpose)}`),
        d.error_code ? el("span", { class: "muted" }, ` · ${t("debtors.sms.error", { code: d.error_code })}`) : null),
      d.body ? el("blockquote", { class: inbound ? "sms-in" : "sms-out" }, d.body) : null,
    ];
  },
  review: (d) => el("p", { class: "entry-title" },
    t("debtors.review.text", { kind: word("debtors.review_kind", d.review_kind), number: d.number || "" }), " ",
    badge(d.resolved_at ? t("debtors.review.resolved") : t("debtors.review.open"), d.resolved_at ? "good" : "warn")),
  action: (d) => el("p", { class: "entry-title" },
    t("debtors.action.text", { by: d.by || "" }), " ", el("strong", {}, actionWords(d))),
};

function actionWords(d) {
  if (d.action === "opt_out" || d.action === "opt_in") return t(`debtors.action.${d.action}`, { channel: word("debtors.channel_word", d.channel) });
  if (d.action === "wrong_number") return t("debtors.action.wrong_number", { number: d.number || "" });
  if (d.action === "callback") return t("debtors.action.callback", { when: dateTime(d.due_at) });
  return word("debtors.action", d.action);
}

/** The timeline as an ordered list (newest first, as the API gives it). */
export function timeline(items, ctx) {
  if (!items.length) return el("p", { class: "muted" }, t("debtors.timeline.empty"));
  return el("ol", { class: "timeline" }, items.map((entry) => {
    const draw = DRAW[entry.kind];
    return el("li", { class: `entry kind-${entry.kind}`, dataset: { kind: entry.kind, id: entry.id } },
      el("div", { class: "entry-head" },
        el("time", { datetime: entry.at }, dateTime(entry.at)),
        el("span", { class: `kind kind-${entry.kind}` }, word("debtors.kind", entry.kind))),
      el("div", { class: "entry-body" }, draw ? draw(entry.detail || {}, ctx) : el("code", {}, JSON.stringify(entry.detail))));
  }));
}
