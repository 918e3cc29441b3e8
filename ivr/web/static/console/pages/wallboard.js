// The live wallboard: calls in progress, the queue, agents with time in state,
// each campaign's day against its capacity and whether its dialer runs (and why not).
//
// The first snapshot comes from GET /api/v1/wallboard, the next ones from the
// Server-Sent Events of /api/v1/wallboard/stream (a new snapshot moments after
// every change). Times in state tick here, once a second, from each "since"
// and the server's clock (the snapshot's "at"), so they move between snapshots.

import { el, replace } from "../dom.js";
import { get } from "../api.js";
import { dateTime, has, number, percent, t, time } from "../i18n.js";

const STREAM = "/api/v1/wallboard/stream";
const RETRY_MS = 3000;
const SKEW_MS = 5000;
const STAGES = [
  ["dialing", ["claimed", "unknown", "queued", "initiated"]],
  ["ringing", ["ringing"]],
  ["talking", ["in-progress"]],
];

function label(key, fallback) { return has(key) ? t(key) : fallback; }

/** Seconds as "m:ss" or "h:mm:ss". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

// A cell whose text is the time since ``since`` (ISO), kept ticking by the page.
function ticking(since, extra = {}) {
  return el("span", { class: "ticking", dataset: { since }, ...extra }, "");
}

function when(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  const today = new Date();
  return d.toDateString() === today.toDateString() ? time(ts) : dateTime(ts);
}

function tile(id, title, value, ...detail) {
  return el("section", { class: "tile", dataset: { tile: id }, "aria-labelledby": `tile-${id}` },
    el("h2", { id: `tile-${id}` }, title),
    el("p", { class: "tile-value" }, value),
    detail.length ? el("p", { class: "tile-detail" }, ...detail) : null);
}

function tiles(snap) {
  const by = snap.calls.by_status;
  const stage = (names) => names.reduce((n, s) => n + (by[s] || 0), 0);
  const agents = snap.agents.agents.filter((a) => a.state !== "offline").length;
  const q = snap.queue;
  return el("div", { class: "tiles" },
    tile("calls", t("wallboard.tiles.calls"), number(snap.calls.total),
      STAGES.map(([id, names]) => el("span", { class: `stage stage-${id}` },
        `${t(`wallboard.stage.${id}`)} ${number(stage(names))}`))),
    tile("queue", t("wallboard.tiles.queue"), number(q.waiting),
      q.oldest_since ? [t("wallboard.tiles.longest_wait"), " ", ticking(q.oldest_since, { class: "ticking strong" })]
        : t("wallboard.tiles.no_wait")),
    tile("agents", t("wallboard.tiles.agents"), number(snap.agents.by_state.available || 0),
      t("wallboard.tiles.agents_of", { n: number(agents) })),
    tile("transfers", t("wallboard.tiles.transfers"), number(snap.today.transfers),
      t("wallboard.tiles.abandoned", {
        n: number(snap.today.abandoned),
        rate: snap.today.abandonment_rate === null ? "–" : percent(snap.today.abandonment_rate),
      })));
}

function dialerText(d) {
  const vars = { time: when(d.next_at), who: d.paused_by || t("wallboard.dialer.someone"), at: when(d.paused_at) };
  if (d.state === "paused") return t(d.paused_at ? "wallboard.dialer.paused_by" : "wallboard.dialer.paused_text", vars);
  if (d.state === "outside_window") {
    const why = t(`wallboard.reason.${d.reason || "outside_window"}`);
    return d.next_at ? t("wallboard.dialer.opens_at", { why, time: vars.time }) : why;
  }
  if (d.state === "no_one_callable") {
    if (d.reason === "no_open_debts") return t("wallboard.reason.no_open_debts");
    return d.next_at ? t("wallboard.dialer.next_look", vars) : t("wallboard.reason.waiting");
  }
  return t(`wallboard.dialer.${d.state}_text`);
}

function campaigns(snap) {
  if (!snap.campaigns.length) return el("p", { class: "muted" }, t("wallboard.campaigns.none"));
  const cols = ["campaign", "dialer", "placed", "left", "channels", "transfers"];
  return el("table", { class: "board-table" },
    el("thead", {}, el("tr", {}, cols.map((c) => el("th", { scope: "col", class: c === "campaign" || c === "dialer" ? "" : "num" }, t(`wallboard.campaigns.${c}`))))),
    el("tbody", {}, snap.campaigns.map((c) => el("tr", { dataset: { campaign: c.id, dialer: c.dialer.state } },
      el("th", { scope: "row" }, c.name),
      el("td", {},
        el("span", { class: `badge dialer-${c.dialer.state}` }, t(`wallboard.dialer.${c.dialer.state}`)), " ",
        el("span", { class: "dialer-why" }, dialerText(c.dialer))),
      el("td", { class: "num" }, t("wallboard.campaigns.placed_of", { n: number(c.placed_today), of: number(c.capacity_today) }),
        el("meter", { class: "bar", min: 0, max: Math.max(1, c.capacity_today), value: Math.min(c.placed_today, Math.max(1, c.capacity_today)), "aria-hidden": "true" })),
      el("td", { class: "num" }, number(c.capacity_left)),
      el("td", { class: "num" }, `${number(c.live)} / ${number(c.channels)}`),
      el("td", { class: "num" }, t("wallboard.campaigns.transfers_of", { n: number(c.transfers_today), a: number(c.abandoned_today) }))))));
}

function agents(snap) {
  const list = snap.agents.agents;
  if (!list.length) return el("p", { class: "muted" }, t("wallboard.agents.none"));
  return el("table", { class: "board-table" },
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, t("wallboard.agents.agent")),
      el("th", { scope: "col" }, t("wallboard.agents.state")),
      el("th", { scope: "col", class: "num" }, t("wallboard.agents.time")))),
    el("tbody", {}, list.map((a) => el("tr", { dataset: { agent: a.id, state: a.state } },
      el("th", { scope: "row" }, a.name),
      el("td", {}, el("span", { class: `badge agent-${a.state}` }, label(`wallboard.agent_state.${a.state}`, a.state))),
      el("td", { class: "num" }, ticking(a.since))))));
}

function calls(snap) {
  const list = snap.calls.calls;
  if (!list.length) return el("p", { class: "muted", dataset: { empty: "calls" } }, t("wallboard.calls.none"));
  return el("div", {},
    el("table", { class: "board-table" },
      el("thead", {}, el("tr", {}, ["person", "campaign", "stage", "time", "agent"].map((c) =>
        el("th", { scope: "col", class: c === "time" ? "num" : "" }, t(`wallboard.calls.${c}`))))),
      el("tbody", {}, list.map((c) => el("tr", { dataset: { attempt: c.attempt_id, status: c.status } },
        el("th", { scope: "row" }, c.debtor_ref
          ? el("a", { href: `#/debtors/${encodeURIComponent(c.debtor_ref)}` }, c.debtor_ref)
          : el("span", { class: "muted" }, t("wallboard.calls.unknown_person")),
          c.direction === "inbound" ? el("span", { class: "muted" }, ` · ${t("wallboard.calls.inbound")}`) : null),
        el("td", {}, c.campaign || el("span", { class: "muted" }, "–")),
        el("td", {}, el("span", { class: `badge call-${c.status}` }, label(`wallboard.status.${c.status}`, c.status)),
          c.transfer ? el("span", { class: "muted" }, ` · ${label(`wallboard.transfer.${c.transfer}`, c.transfer)}`) : null),
        el("td", { class: "num" }, ticking(c.since)),
        el("td", {}, c.agent || ""))))),
    snap.calls.more ? el("p", { class: "muted" }, t("wallboard.calls.more", { n: number(snap.calls.more) })) : null);
}

function section(id, title, body) {
  return el("section", { class: "card board-part", dataset: { part: id }, "aria-labelledby": `part-${id}` },
    el("h2", { id: `part-${id}` }, title), body);
}

export default {
  id: "wallboard",
  titleKey: "wallboard.title",
  async render(root, ctx) {
    root.append(el("link", { rel: "stylesheet", href: "/console/static/pages/wallboard.css" }));
    const status = el("p", { class: "live", role: "status", dataset: { live: "connecting" } }, t("wallboard.live.connecting"));
    ctx.actions.append(status);
    const board = el("div", { class: "wallboard" });
    root.append(board);
    const state = { skew: 0, source: null, retry: null, gone: false };

    const tick = () => {
      const now = Date.now() + state.skew;
      for (const node of board.querySelectorAll(".ticking")) {
        node.textContent = duration((now - Date.parse(node.dataset.since)) / 1000);
      }
    };
    const show = (snap) => {
      // Trust the browser's clock unless it is plainly wrong: "at" is when the
      // server began reading, so a small difference is only the snapshot's age.
      const skew = Date.parse(snap.at) - Date.now();
      state.skew = Math.abs(skew) > SKEW_MS ? skew : 0;
      replace(board,
        tiles(snap),
        el("div", { class: "board-grid" },
          section("calls", t("wallboard.calls.title"), calls(snap)),
          section("agents", t("wallboard.agents.title"), agents(snap))),
        section("campaigns", t("wallboard.campaigns.title"), campaigns(snap)));
      tick();
      replace(status, t("wallboard.live.updated", { time: time(snap.at) }));
    };
    const live = (mode) => {
      status.dataset.live = mode;
      if (mode !== "on") replace(status, t(`wallboard.live.${mode}`));
    };
    const connect = () => {
      if (state.gone) return;
      const source = new EventSource(STREAM);
      state.source = source;
      source.addEventListener("open", () => live("on"));
      source.addEventListener("snapshot", (event) => { live("on"); show(JSON.parse(event.data)); });
      source.addEventListener("end", (event) => {
        source.close();
        const why = JSON.parse(event.data || "{}").reason;
        if (why === "signed_out") window.dispatchEvent(new CustomEvent("ivr:signed-out"));
        else { live("reconnecting"); state.retry = setTimeout(connect, RETRY_MS); }
      });
      source.addEventListener("error", async () => {
        if (state.gone) return;
        live("reconnecting");
        if (source.readyState !== EventSource.CLOSED) return; // the browser retries by itself
        try { await get("/api/v1/auth/me"); } catch (_) { return; } // a 401 signs the page out
        state.retry = setTimeout(connect, RETRY_MS);
      });
    };

    show(await get("/api/v1/wallboard"));
    connect();
    const timer = setInterval(tick, 500);
    return () => {
      state.gone = true;
      clearInterval(timer);
      clearTimeout(state.retry);
      if (state.source) state.source.close();
    };
  },
};
