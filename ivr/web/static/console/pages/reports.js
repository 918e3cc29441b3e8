// Reports: a campaign's collection KPIs day by day (charts, the numbers below
// them, a CSV download) and every campaign on one day.
//
// The numbers come from GET /api/v1/reports/... (daily roll-ups refreshed by
// the service every minute; "refreshed_at" says when). The charts are drawn
// by uPlot, vendored at a pinned version (static/vendor/uplot-1.6.32).

import uPlot from "/static/vendor/uplot-1.6.32/uPlot.esm.js";
import { el, field, replace } from "../dom.js";
import { get, showErrors } from "../api.js";
import { date, dateTime, money, number, percent, t } from "../i18n.js";

const B = "reports";
const STYLESHEETS = ["/static/vendor/uplot-1.6.32/uPlot.min.css", "/console/static/pages/reports.css"];
const DAY_MS = 86400000;
const COLORS = ["#1f4e79", "#0b6bcb", "#0f7b3f", "#b35c00", "#a4262c", "#6b4fa0"];

function iso(d) { return d.toISOString().slice(0, 10); }
function daysAgo(n) { return iso(new Date(Date.now() - n * DAY_MS)); }

function ensureStylesheets() {
  for (const href of STYLESHEETS) {
    if (!document.querySelector(`link[href="${href}"]`)) document.head.append(el("link", { rel: "stylesheet", href }));
  }
}

const seconds = (day) => Date.parse(`${day}T00:00:00Z`) / 1000;
const dayOf = (ts) => iso(new Date(ts * 1000));

// One uPlot chart: days on x (formatted in the user's locale), series of numbers.
// Counts and money start at zero; rates are fractions of one.
const fromZero = (u, min, max) => [0, max > 0 ? max * 1.1 : 1];
const fraction = () => [0, 1];

function chart(host, days, series, { title, format, rates = false }) {
  const data = [days.map(seconds), ...series.map((s) => s.values)];
  const width = Math.max(280, host.clientWidth - 8);
  const opts = {
    title,
    width,
    height: 240,
    scales: { x: { time: false }, y: { range: rates ? fraction : fromZero } },
    axes: [
      { values: (u, ticks) => ticks.map((v) => date(dayOf(v))), space: 90 },
      { values: (u, ticks) => ticks.map((v) => format(v)), size: 80 },
    ],
    series: [
      { label: t("reports.col.day"), value: (u, v) => (v == null ? "" : date(dayOf(v))) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        fill: s.fill ? `${COLORS[i % COLORS.length]}22` : undefined,
        points: { show: days.length <= 45 },
        spanGaps: false,
        value: (u, v) => (v == null ? "–" : format(v)),
      })),
    ],
  };
  const plot = new uPlot(opts, data, host);
  // Follow the card's width (a window resized, a tablet turned).
  const watch = new ResizeObserver(() => {
    const w = Math.max(280, host.clientWidth - 8);
    if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: 240 });
  });
  watch.observe(host);
  return { destroy() { watch.disconnect(); plot.destroy(); } };
}

const COUNT_COLUMNS = ["attempts", "contacts", "rpcs", "promises", "transfers", "abandoned"];
const RATE_COLUMNS = ["contact_rate", "rpc_rate", "promise_rate", "kept_rate", "abandonment_rate", "liquidation"];

function cells(row) {
  return [
    ...COUNT_COLUMNS.map((c) => el("td", { class: "num" }, number(row[c]))),
    ...RATE_COLUMNS.map((c) => el("td", { class: "num" }, row[c] == null ? "–" : percent(row[c]))),
    el("td", { class: "num" }, money(row.collected_cents)),
    el("td", { class: "num" }, row.aht_s == null ? "–" : t("reports.seconds", { n: number(Math.round(row.aht_s)) })),
  ];
}

function head(first) {
  const cols = [...COUNT_COLUMNS, ...RATE_COLUMNS, "collected", "aht"];
  return el("thead", {}, el("tr", {}, el("th", { scope: "col" }, first),
    cols.map((c) => el("th", { scope: "col", class: "num", title: t(`reports.help.${c}`) }, t(`reports.col.${c}`)))));
}

function csvLink(path, params, label) {
  const q = new URLSearchParams(params);
  q.set("format", "csv");
  return el("a", { class: "button", href: `${path}?${q}`, download: "" }, label);
}

export default {
  id: "reports",
  titleKey: "reports.title",
  async render(root, ctx) {
    ensureStylesheets();
    const plots = [];
    const q = ctx.query;
    const campaign = el("select", { name: "campaign", required: true });
    const from = el("input", { name: "from", type: "date", value: q.get("from") || daysAgo(29) });
    const to = el("input", { name: "to", type: "date", value: q.get("to") || daysAgo(0) });
    const form = el("form", { class: "card filters", novalidate: true },
      el("div", { class: "filter-row" },
        field(t("reports.campaign"), campaign),
        field(t("reports.from"), from),
        field(t("reports.to"), to)),
      el("button", { class: "primary", type: "submit" }, t("reports.show")));
    const status = el("p", { class: "muted", role: "status" });
    const charts = el("div", { class: "charts" });
    const table = el("div", { class: "table-wrap" });
    const download = el("p", {});
    const summaryDay = el("input", { name: "day", type: "date", value: q.get("day") || daysAgo(0) });
    const summaryForm = el("form", { class: "filter-row", novalidate: true },
      field(t("reports.summary.day"), summaryDay),
      el("button", { type: "submit" }, t("reports.show")));
    const summaryTable = el("div", { class: "table-wrap" });
    const summaryDownload = el("p", {});

    const destroy = () => { while (plots.length) plots.pop().destroy(); };

    const loadCampaign = async () => {
      if (!campaign.value) return;
      const params = { from: from.value, to: to.value };
      const path = `/api/v1/reports/campaigns/${encodeURIComponent(campaign.value)}`;
      let data;
      try { data = await get(`${path}?${new URLSearchParams(params)}`); } catch (error) { showErrors(form, error, B); return; }
      form.querySelectorAll(".field-error, .form-error").forEach((n) => n.remove());
      destroy();
      replace(status, data.refreshed_at ? t("reports.refreshed", { at: dateTime(data.refreshed_at) }) : t("reports.never"));
      const days = data.days.map((d) => d.day);
      const col = (name, scale = 1) => data.days.map((d) => (d[name] == null ? null : d[name] * scale));
      const boxes = [el("div", { class: "chart", dataset: { chart: "volume" } }),
        el("div", { class: "chart", dataset: { chart: "rates" } }),
        el("div", { class: "chart", dataset: { chart: "collected" } })];
      replace(charts, boxes);
      plots.push(chart(boxes[0], days, [
        { label: t("reports.col.attempts"), values: col("attempts"), fill: true },
        { label: t("reports.col.contacts"), values: col("contacts") },
        { label: t("reports.col.rpcs"), values: col("rpcs") },
      ], { title: t("reports.chart.volume"), format: (v) => number(v) }));
      plots.push(chart(boxes[1], days, [
        { label: t("reports.col.contact_rate"), values: col("contact_rate") },
        { label: t("reports.col.rpc_rate"), values: col("rpc_rate") },
        { label: t("reports.col.promise_rate"), values: col("promise_rate") },
        { label: t("reports.col.kept_rate"), values: col("kept_rate") },
        { label: t("reports.col.abandonment_rate"), values: col("abandonment_rate") },
      ], { title: t("reports.chart.rates"), format: (v) => percent(v), rates: true }));
      plots.push(chart(boxes[2], days, [
        { label: t("reports.col.collected"), values: col("collected_cents"), fill: true },
      ], { title: t("reports.chart.collected"), format: (v) => money(v) }));
      replace(table, el("table", { class: "report" },
        el("caption", {}, t("reports.table.caption", { name: data.campaign_name })),
        head(t("reports.col.day")),
        el("tbody", {}, data.days.map((d) => el("tr", {}, el("th", { scope: "row" }, date(d.day)), cells(d)))),
        el("tfoot", {}, el("tr", {}, el("th", { scope: "row" }, t("reports.total")), cells(data.totals)))));
      replace(download, csvLink(path, params, t("reports.csv")));
    };

    const loadSummary = async () => {
      const params = { day: summaryDay.value };
      let data;
      try { data = await get(`/api/v1/reports/summary?${new URLSearchParams(params)}`); } catch (error) { showErrors(summaryForm, error, B); return; }
      summaryForm.querySelectorAll(".field-error, .form-error").forEach((n) => n.remove());
      replace(summaryTable, el("table", { class: "report" },
        head(t("reports.col.campaign")),
        el("tbody", {}, data.campaigns.map((c) => el("tr", {}, el("th", { scope: "row" }, c.campaign_name), cells(c)))),
        el("tfoot", {}, el("tr", {}, el("th", { scope: "row" }, t("reports.total")), cells(data.totals)))));
      replace(summaryDownload, csvLink("/api/v1/reports/summary", params, t("reports.csv")));
    };

    form.addEventListener("submit", (event) => { event.preventDefault(); loadCampaign(); });
    summaryForm.addEventListener("submit", (event) => { event.preventDefault(); loadSummary(); });
    const page = el("div", { class: "reports-page" });
    root.append(page);
    page.append(
      el("p", { class: "lead" }, t("reports.lead")),
      form,
      el("section", { class: "card", "aria-labelledby": "reports-campaign" },
        el("h2", { id: "reports-campaign" }, t("reports.campaign_heading")), status, charts, table, download),
      el("section", { class: "card", "aria-labelledby": "reports-summary" },
        el("h2", { id: "reports-summary" }, t("reports.summary.heading")), summaryForm, summaryTable, summaryDownload),
      el("details", { class: "card" }, el("summary", {}, t("reports.definitions")),
        el("dl", {}, [...COUNT_COLUMNS, ...RATE_COLUMNS, "collected", "aht"].map((c) =>
          [el("dt", {}, t(`reports.col.${c}`)), el("dd", {}, t(`reports.help.${c}`))]))));

    let list;
    try { list = await get("/api/v1/campaigns"); } catch (error) { showErrors(form, error, B); return destroy; }
    const items = [...list.items].sort((a, b) => a.id - b.id);
    if (!items.length) {
      replace(status, t("reports.no_campaigns"));
    }
    replace(campaign, items.map((c) => el("option", { value: String(c.id) }, c.name)));
    if (q.get("campaign")) campaign.value = q.get("campaign");
    await Promise.all([loadCampaign(), loadSummary()]);
    return destroy;
  },
};
