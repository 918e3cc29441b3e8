// Agent desktop: log in, set presence, receive screen pops, write the wrap-up.
// An ES module with no build step; words come from /static/i18n/<locale>/desktop.json
// through the console's i18n.js, and every string goes in via textContent.

import { date, dateTime, localeFor, browserLocale, locale, money, setLocale, t, time, translate } from "/console/static/i18n.js";

const $ = (id) => document.getElementById(id);
const state = { socket: null, retry: 500, transferId: null, wrapupId: null, loggedIn: false, user: null, agent: null, pop: null, popKey: null };

async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    const error = new Error((data && data.error) || response.statusText);
    error.status = response.status;
    error.code = data && data.code;
    throw error;
  }
  return data;
}

function show(id, visible) { $(id).hidden = !visible; }

function errorText(error) {
  const key = { 401: "desktop.errors.wrong_login", 429: "desktop.errors.too_many" }[error.status];
  return key ? t(key) : error.message;
}

function renderPresence(agent) {
  state.agent = agent;
  const now = $("presence-now");
  now.textContent = t(`desktop.presence.${agent.presence}`);
  now.dataset.presence = agent.presence;
  for (const input of document.querySelectorAll("input[name=presence]")) {
    input.checked = input.value === agent.presence;
  }
  $("wrapup-until").textContent = agent.wrapup_until
    ? t("desktop.presence.wrapup_until", { time: time(agent.wrapup_until) }) : "";
}

function renderPop(pop, labelKey) {
  state.pop = pop;
  state.popKey = labelKey;
  if (!pop) { show("pop", false); state.transferId = null; return; }
  state.transferId = pop.transfer.id;
  $("pop").dataset.transfer = String(pop.transfer.id);
  $("call-state").textContent = t(labelKey);
  $("call-state").dataset.key = labelKey;
  // An inbound caller who has not said who they are: their number, and a
  // notice that their identity is not verified (no debtor, no debt).
  const caller = pop.caller || {};
  $("debtor-name").textContent = pop.debtor ? pop.debtor.name : caller.notice || "-";
  $("debtor-phones").textContent = pop.debtor
    ? pop.debtor.phones.join(", ") : caller.number || "-";
  const currency = pop.debt ? pop.debt.currency : "BRL";
  $("debt-creditor").textContent = pop.debt ? pop.debt.creditor : "-";
  $("debt-amount").textContent = pop.debt ? money(pop.debt.amount_cents, currency) : "-";
  $("debt-due").textContent = pop.debt ? date(pop.debt.due_date) : "-";
  $("transfer-reason").textContent = reasonText(pop);
  const attempts = pop.promise_attempts || [];
  $("promise-attempts").textContent = attempts.length
    ? attempts.map((p) => date(p.date) + " / " + money(p.amount_cents, currency)).join("; ")
    : t("desktop.call.none");
  const list = $("transcript");
  list.replaceChildren();
  for (const line of pop.transcript) {
    const item = document.createElement("li");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = t(`desktop.who.${["ivr", "debtor"].includes(line.who) ? line.who : "system"}`);
    item.append(who, document.createTextNode(lineText(line, pop, currency)));
    if (line.after_hangup) {
      const mark = document.createElement("span");
      mark.className = "after-hangup";
      mark.textContent = " " + t("desktop.call.after_hangup");
      item.append(mark);
    }
    list.append(item);
  }
  renderMessages(pop.messages || []);
  show("pop", true);
}

// The transfer's reason in the language the agent reads (the call's, failing that).
function reasonText(pop) {
  const words = pop.transfer.reason_texts || {};
  return words[locale()] || pop.transfer.reason_text || pop.transfer.reason;
}

// Keys and the system's own lines in the agent's language (``text`` is a fallback).
function lineText(line, pop, currency) {
  if (line.keys !== undefined) return t("desktop.line.keys", { keys: line.keys });
  if (line.event === "promise") {
    return t("desktop.line.promise", {
      date: line.date ? date(line.date) : "-",
      amount: line.amount_cents != null ? money(line.amount_cents, currency) : "-",
    });
  }
  if (line.event === "transfer") {
    const reason = line.reason === pop.transfer.reason ? reasonText(pop) : line.reason;
    return t("desktop.line.transfer", { reason: reason || "-" });
  }
  if (line.event === "callback") {
    return t("desktop.line.callback", { when: line.due_at ? dateTime(line.due_at) : "-" });
  }
  return line.text;
}

function renderMessages(messages) {
  const list = $("sms-list");
  list.replaceChildren();
  for (const m of messages) {
    const item = document.createElement("li");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = m.who === "debtor" ? t("desktop.who.sms_in") : t("desktop.who.sms_out");
    item.append(who, document.createTextNode(m.text));
    list.append(item);
  }
  list.classList.toggle("empty", messages.length === 0);
  if (!messages.length) {
    const none = document.createElement("li");
    none.textContent = t("desktop.call.no_sms");
    list.append(none);
  }
}

function openWrapup(pop) {
  if (!pop) { show("wrapup", false); state.wrapupId = null; return; }
  state.wrapupId = pop.transfer.id;
  $("wrapup-transfer").value = String(pop.transfer.id);
  $("wrapup-message").textContent = "";
  show("wrapup", true);
}

function setConnection(key) {
  $("connection").dataset.key = key;
  $("connection").textContent = t(key);
}

function onMessage(msg) {
  if (msg.type === "state") {
    renderPresence(msg.agent);
    if (msg.active) {
      renderPop(msg.active, msg.active.transfer.status === "connected" ? "desktop.state.on_call" : "desktop.state.ringing");
    } else if (msg.wrapup) {
      renderPop(msg.wrapup, "desktop.state.ended");
    } else {
      renderPop(null);
    }
    openWrapup(msg.wrapup);
    return;
  }
  if (msg.agent) renderPresence(msg.agent);
  if (msg.type === "offer") renderPop(msg.pop, "desktop.state.incoming");
  else if (msg.type === "connected") renderPop(msg.pop, "desktop.state.on_call");
  else if (msg.type === "ended") { renderPop(msg.pop, "desktop.state.ended"); openWrapup(msg.pop); }
  else if (msg.type === "sms" && msg.pop && state.transferId === msg.transfer_id) {
    renderMessages(msg.pop.messages || []);
  }
  else if (msg.type === "missed" && state.transferId === msg.transfer_id) {
    renderPop(null);
    setConnection("desktop.connection.missed");
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/api/v1/agents/me/events");
  state.socket = socket;
  socket.onopen = () => { state.retry = 500; setConnection("desktop.connection.connected"); };
  socket.onmessage = (event) => { onMessage(JSON.parse(event.data)); };
  socket.onclose = () => {
    if (!state.loggedIn) return;
    setConnection("desktop.connection.reconnecting");
    setTimeout(connect, state.retry);
    state.retry = Math.min(state.retry * 2, 10000);
  };
}

async function useLocale(loc) {
  await setLocale(loc, ["desktop"]);
  $("language").value = locale();
  translate();
  document.title = t("desktop.title");
  // Texts set from data (presence, call state) follow the switch too.
  if ($("connection").dataset.key) setConnection($("connection").dataset.key);
  if (state.agent) renderPresence(state.agent);
  if (state.pop) renderPop(state.pop, state.popKey);
}

function refuse(user) {
  // Not an agent: a kind word, and the console for supervisors.
  const supervisor = user && user.role === "supervisor";
  $("refused-text").textContent = t(supervisor ? "desktop.not_agent" : "desktop.no_agent_row");
  show("refused-console", supervisor);
  show("refused", true);
}

async function enterDesk() {
  const user = await api("GET", "/api/v1/auth/me");
  state.user = user;
  if (localeFor(user) !== locale()) await useLocale(localeFor(user));
  let me;
  try {
    me = await api("GET", "/api/v1/agents/me");
  } catch (error) {
    if (error.status === 404) { show("login-section", false); refuse(user); return; }
    throw error;
  }
  state.loggedIn = true;
  show("login-section", false);
  show("refused", false);
  show("desk", true);
  show("logout", true);
  show("whoami", true);
  $("whoami").textContent = me.agent.display_name;
  setConnection("desktop.connection.connecting");
  onMessage(me);
  connect();
}

async function start() {
  await useLocale(browserLocale());
  try {
    await enterDesk();
  } catch (error) {
    show("login-section", true);
    if (error.status !== 401) $("login-error").textContent = errorText(error);
  }
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  show("refused", false);
  try {
    await api("POST", "/desktop/login", { username: $("username").value, password: $("password").value });
    await enterDesk();
  } catch (error) {
    if (error.code === "not_agent") refuse({ role: "supervisor" });
    else $("login-error").textContent = errorText(error);
  }
});

$("logout").addEventListener("click", async () => {
  state.loggedIn = false;
  if (state.socket) state.socket.close();
  await api("POST", "/desktop/logout");
  location.reload();
});

$("language").addEventListener("change", async (event) => {
  const wanted = event.target.value;
  if (state.user) {
    try { state.user = await api("PATCH", "/api/v1/auth/me", { locale: wanted }); } catch (error) { console.error(error); }
  }
  await useLocale(wanted);
});

$("presence-switch").addEventListener("change", async (event) => {
  try {
    renderPresence(await api("PUT", "/api/v1/agents/me/presence", { presence: event.target.value }));
  } catch (error) {
    $("connection").textContent = error.message;
  }
});

// "1.234,50" (pt-BR) or "1,234.50" (en-US) -> "1234.50", the API's form.
function plainAmount(text) {
  const value = text.trim().replace(/\s/g, "");
  if (locale() === "pt-BR") return value.replace(/\./g, "").replace(",", ".");
  return value.replace(/,/g, "");
}

$("wrapup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = $("wrapup-transfer").value;
  const body = { outcome: $("outcome").value, notes: $("notes").value };
  if ($("promise-date").value) body.promise_date = $("promise-date").value;
  if ($("promise-amount").value) body.promise_amount = plainAmount($("promise-amount").value);
  try {
    await api("POST", "/api/v1/agents/me/transfers/" + id + "/wrapup", body);
    $("wrapup-form").reset();
    $("wrapup-message").textContent = t("desktop.wrapup.saved");
    show("wrapup", false);
    renderPop(null);
    setConnection("desktop.connection.wrapup_saved");
  } catch (error) {
    $("wrapup-message").textContent = error.message;
  }
});

start();
