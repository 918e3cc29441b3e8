// Upload a debtor portfolio into a campaign, or a payments file, from the
// browser: the bytes' progress as they leave (XMLHttpRequest upload events),
// then the import's report: the rows that landed and every bad row with its
// line and reason. The server runs the same importers as `ivr import`.

import { el, field, replace } from "../dom.js";
import { errorText, fieldMessage, get, upload } from "../api.js";
import { number, percent, t } from "../i18n.js";

const B = "upload";
const ENCODINGS = ["utf-8", "cp1252", "latin-1"];

function encodingSelect(id) {
  return el("select", { id, name: "encoding" }, ENCODINGS.map((e) => el("option", { value: e }, t(`upload.encoding.${e}`))));
}

function errorTable(report) {
  if (!report.errors.length) return el("p", { class: "ok-line" }, t("upload.no_bad_rows"));
  return el("div", {},
    el("h3", {}, t("upload.bad_rows", { count: number(report.errors_total) })),
    el("table", { class: "compact report-errors" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", class: "num" }, t("upload.col.line")),
        el("th", { scope: "col" }, t("upload.col.ref")),
        el("th", { scope: "col" }, t("upload.col.reason")))),
      el("tbody", {}, report.errors.map((e) => el("tr", { dataset: { line: e.line } },
        el("td", { class: "num" }, number(e.line)), el("td", {}, e.external_ref || "—"), el("td", {}, e.reason))))),
    report.errors_total > report.errors.length
      ? el("p", { class: "muted" }, t("upload.more_errors", { shown: number(report.errors.length) })) : null);
}

function debtorSummary(r) {
  return [
    [t("upload.sum.inserted"), r.inserted],
    [t("upload.sum.updated"), r.updated],
    [t("upload.sum.rejected"), r.errors_total],
  ];
}

function paymentSummary(r) {
  return [
    [t("upload.sum.imported"), r.imported],
    [t("upload.sum.duplicates"), r.duplicates],
    [t("upload.sum.debts_paid"), r.debts_paid],
    [t("upload.sum.rejected"), r.errors_total],
  ];
}

/** One upload card: the file, its encoding, the send button, the progress and the report. */
function uploadCard({ key, extra = [], url, summary }) {
  const file = el("input", { type: "file", id: `${key}-file`, name: "file", accept: ".csv,text/csv,text/plain", required: true });
  const encoding = encodingSelect(`${key}-encoding`);
  const bar = el("progress", { max: 1, value: 0, id: `${key}-progress` });
  const barText = el("span", { class: "progress-text" });
  const progress = el("div", { class: "progress", hidden: true }, el("label", { for: bar.id }, t("upload.progress")), bar, barText);
  const report = el("div", { class: "report", "aria-live": "polite", id: `${key}-report` });
  const send = el("button", { class: "primary", type: "submit" }, t("upload.send"));
  const form = el("form", { class: "card upload", id: `${key}-upload`, novalidate: true },
    el("h2", {}, t(`upload.${key}.title`)),
    el("p", { class: "hint" }, t(`upload.${key}.lead`)),
    el("div", { class: "upload-fields" }, ...extra, field(t("upload.field.file"), file), field(t("upload.field.encoding"), encoding)),
    el("div", { class: "form-actions" }, send, progress),
    report);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const node of form.querySelectorAll(".field-error")) node.remove();
    const chosen = file.files && file.files[0];
    if (!chosen) {
      file.closest(".field").append(el("p", { class: "field-error", role: "alert" }, t("upload.errors.no_file")));
      file.focus();
      return;
    }
    const target = url(form);
    if (!target) return;
    send.disabled = true;
    progress.hidden = false;
    bar.value = 0;
    barText.textContent = t("upload.sending", { percent: percent(0, 0) });
    replace(report);
    const query = encoding.value === "utf-8" ? "" : `?encoding=${encodeURIComponent(encoding.value)}`;
    try {
      const answer = await upload(target + query, chosen, {
        onProgress: (f) => {
          if (f === null) { bar.removeAttribute("value"); return; }
          bar.value = f;
          barText.textContent = t("upload.sending", { percent: percent(f, 0) });
        },
        onSent: () => { barText.textContent = t("upload.processing"); },
      });
      barText.textContent = t("upload.done");
      replace(report,
        el("h3", {}, t("upload.report_title", { file: chosen.name })),
        el("dl", { class: "summary" }, summary(answer).map(([label, value]) =>
          el("div", {}, el("dt", {}, label), el("dd", {}, number(value))))),
        errorTable(answer));
    } catch (error) {
      barText.textContent = t("upload.failed");
      const why = error.errors && error.errors.length
        ? error.errors.map((e) => fieldMessage(e, B))
        : [error.status === 413 ? t("upload.errors.too_large") : errorText(error)];
      replace(report, el("div", { class: "notice error", role: "alert" }, why.map((m) => el("p", {}, m))));
    } finally {
      send.disabled = false;
    }
  });
  return form;
}

export default {
  id: "upload",
  titleKey: "upload.title",
  async render(root, ctx) {
    const campaigns = (await get("/api/v1/campaigns")).items;
    const wanted = ctx.query.get("campaign");
    const select = el("select", { id: "portfolio-campaign", name: "campaign" },
      campaigns.map((c) => el("option", { value: c.id, selected: String(c.id) === wanted }, c.name)));
    const portfolio = campaigns.length
      ? uploadCard({
        key: "portfolio",
        extra: [field(t("upload.field.campaign"), select)],
        url: () => `/api/v1/campaigns/${encodeURIComponent(select.value)}/import`,
        summary: debtorSummary,
      })
      : el("div", { class: "card" }, el("h2", {}, t("upload.portfolio.title")),
        el("p", {}, t("upload.no_campaigns")), el("a", { class: "button", href: "#/campaigns/new" }, t("upload.new_campaign")));
    root.append(portfolio, uploadCard({ key: "payments", url: () => "/api/v1/payments/import", summary: paymentSummary }));
  },
};
