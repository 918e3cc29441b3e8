// What a supervisor may do about one person, each behind a confirmation dialog:
// opt out of / back into calls or SMS (at the person's request), mark a number
// wrong, schedule a callback (inside the person's call windows: the API's
// refusal is shown beside the field), and the LGPD requests: export the data
// as JSON, anonymise (typed confirmation of the reference).

import { el, field } from "../dom.js";
import { ApiError, post } from "../api.js";
import { dateTime, money, date, t } from "../i18n.js";
import { ask, say, sayError } from "../kit.js";
import { word } from "./debtor_timeline.js";

const B = "debtors";
const path = (ref) => `/api/v1/debtors/${encodeURIComponent(ref)}`;

function note() {
  return field(t("debtors.act.note"), el("textarea", { name: "note", rows: 2, maxlength: 500 }), t("debtors.act.note_hint"));
}

function channelButton(d, channel, env) {
  const out = channel === "call" ? d.opted_out_at : d.sms_opted_out_at;
  const verb = out ? "opt_in" : "opt_out";
  return el("button", { type: "button", dataset: { act: `${verb}-${channel}` }, onClick: async () => {
    const done = await ask({
      title: t(`debtors.act.${verb}_${channel}`),
      text: t(`debtors.act.${verb}_confirm`, { name: d.name, channel: word("debtors.channel_word", channel) }),
      fields: [note()],
      confirmLabel: t(`debtors.act.${verb}_${channel}`),
      danger: verb === "opt_out",
      bundle: B,
      submit: (form) => post(`${path(env.ref)}/${verb.replace("_", "-")}`, {
        channel, note: form.elements.note.value.trim() || null }),
    });
    if (done) await finish(env, t(`debtors.act.${verb}_done`, { channel: word("debtors.channel_word", channel) }));
  } }, t(`debtors.act.${verb}_${channel}`));
}

function wrongNumberButton(d, env) {
  const candidates = d.phones.filter((p) => !p.wrong_number_at);
  return el("button", { type: "button", disabled: !candidates.length, dataset: { act: "wrong-number" }, onClick: async () => {
    const select = el("select", { name: "number" }, candidates.map((p) => el("option", { value: p.e164 }, p.e164)));
    const done = await ask({
      title: t("debtors.act.wrong_number"),
      text: t("debtors.act.wrong_number_confirm"),
      fields: [field(t("debtors.act.number"), select)],
      confirmLabel: t("debtors.act.wrong_number"),
      danger: true,
      bundle: B,
      submit: (form) => post(`${path(env.ref)}/wrong-number`, { number: form.elements.number.value }),
    });
    if (done) await finish(env, t("debtors.act.wrong_number_done"));
  } }, t("debtors.act.wrong_number"));
}

/** The API's refusal of a callback time in the user's words (it quotes ISO instants). */
function callbackWords(reason) {
  if (/outside the call windows/.test(reason)) {
    const m = /next open at (\S+)/.exec(reason);
    return m ? t("debtors.callback_form.outside_next", { when: dateTime(m[1]) }) : t("debtors.callback_form.outside");
  }
  if (/future/.test(reason)) return t("debtors.callback_form.past");
  if (/60 days/.test(reason)) return t("debtors.callback_form.too_far");
  if (/offset/.test(reason)) return t("debtors.callback_form.missing");
  return reason;
}

function localInput(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function callbackButton(d, env) {
  return el("button", { type: "button", dataset: { act: "callback" }, onClick: async () => {
    const when = el("input", { name: "due_at", type: "datetime-local", min: localInput(new Date()), required: true });
    const debts = d.debts.filter((x) => x.status === "open");
    const fields = [field(t("debtors.callback_form.when"), when, t("debtors.callback_form.hint", { tz: d.timezone || "?" }))];
    if (debts.length > 1) {
      fields.push(field(t("debtors.callback_form.debt"), el("select", { name: "debt_id" },
        el("option", { value: "" }, t("debtors.callback_form.any_debt")),
        debts.map((x) => el("option", { value: String(x.id) }, `${x.creditor} · ${money(x.amount_cents, x.currency)} · ${date(x.due_date)}`)))));
    }
    const done = await ask({
      title: t("debtors.act.callback"),
      fields,
      confirmLabel: t("debtors.callback_form.submit"),
      bundle: B,
      submit: async (form) => {
        if (!when.value) {
          throw new ApiError(422, { errors: [{ field: "due_at", code: "missing", reason: "missing" }] });
        }
        const body = { due_at: new Date(when.value).toISOString() };
        const debt = form.elements.debt_id && form.elements.debt_id.value;
        if (debt) body.debt_id = Number(debt);
        try {
          return await post(`${path(env.ref)}/callbacks`, body);
        } catch (error) {
          for (const e of error.errors || []) if (e.field === "due_at" && !e.code) e.reason = callbackWords(e.reason);
          throw error;
        }
      },
    });
    if (done) await finish(env, t("debtors.act.callback_done", { when: dateTime(done.detail.due_at) }));
  } }, t("debtors.act.callback"));
}

async function exportData(env) {
  try {
    const response = await fetch(`${path(env.ref)}/lgpd-export`, { credentials: "same-origin" });
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch (_) { body = null; }
      throw new ApiError(response.status, body);
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `lgpd-${env.ref}.json`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    await finish(env, t("debtors.act.export_done"));
  } catch (error) { sayError(env.notices, error); }
}

function anonymiseButton(d, env) {
  return el("button", { type: "button", class: "danger", dataset: { act: "anonymise" }, onClick: async () => {
    const done = await ask({
      title: t("debtors.act.anonymise"),
      text: t("debtors.act.anonymise_confirm", { name: d.name }),
      fields: [field(t("debtors.act.type_ref", { ref: env.ref }), el("input", { name: "confirm", autocomplete: "off", spellcheck: "false" }))],
      confirmLabel: t("debtors.act.anonymise"),
      danger: true,
      bundle: B,
      ready: (form) => form.elements.confirm.value.trim() === env.ref,
      submit: (form) => post(`${path(env.ref)}/anonymise`, { confirm: form.elements.confirm.value.trim() }),
    });
    if (done) await finish(env, t("debtors.act.anonymise_done"));
  } }, t("debtors.act.anonymise"));
}

async function finish(env, text) {
  try { await env.reload(); } catch (error) { sayError(env.notices, error); return; }
  say(env.notices, text, "ok");
}

/** The actions card for debtor ``d``; env = { ref, notices, reload }. */
export function actionsCard(d, env) {
  return el("section", { class: "card debtor-actions", "aria-labelledby": "actions-title" },
    el("h2", { id: "actions-title" }, t("debtors.act.title")),
    el("div", { class: "action-groups" },
      el("div", { class: "action-group" }, el("h3", {}, t("debtors.act.contact")),
        channelButton(d, "call", env), channelButton(d, "sms", env), wrongNumberButton(d, env), callbackButton(d, env)),
      el("div", { class: "action-group" }, el("h3", {}, t("debtors.act.lgpd")),
        el("button", { type: "button", dataset: { act: "export" }, onClick: () => exportData(env) }, t("debtors.act.export")),
        anonymiseButton(d, env))));
}
