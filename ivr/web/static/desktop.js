// Agent desktop: log in, set presence, receive screen pops, write the wrap-up.
// Plain JavaScript on purpose: no build step, every string goes in via textContent.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = { socket: null, retry: 500, transferId: null, wrapupId: null, loggedIn: false };

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
      throw error;
    }
    return data;
  }

  function show(id, visible) { $(id).hidden = !visible; }

  function money(debt) {
    if (!debt) return "";
    return debt.amount_display || (debt.amount_cents / 100).toFixed(2) + " " + debt.currency;
  }

  function renderPresence(agent) {
    const now = $("presence-now");
    now.textContent = agent.presence;
    now.dataset.presence = agent.presence;
    for (const input of document.querySelectorAll("input[name=presence]")) {
      input.checked = input.value === agent.presence;
    }
    $("wrapup-until").textContent = agent.wrapup_until
      ? "(wrap-up until " + new Date(agent.wrapup_until).toLocaleTimeString() + ")" : "";
  }

  function renderPop(pop, label) {
    if (!pop) { show("pop", false); state.transferId = null; return; }
    state.transferId = pop.transfer.id;
    $("pop").dataset.transfer = String(pop.transfer.id);
    $("call-state").textContent = label;
    // An inbound caller who has not said who they are: their number, and a
    // notice that their identity is not verified (no debtor, no debt).
    const caller = pop.caller || {};
    $("debtor-name").textContent = pop.debtor ? pop.debtor.name : caller.notice || "-";
    $("debtor-phones").textContent = pop.debtor
      ? pop.debtor.phones.join(", ") : caller.number || "-";
    $("debt-creditor").textContent = pop.debt ? pop.debt.creditor : "-";
    $("debt-amount").textContent = money(pop.debt) || "-";
    $("debt-due").textContent = pop.debt ? pop.debt.due_date : "-";
    $("transfer-reason").textContent = pop.transfer.reason_text || pop.transfer.reason;
    const attempts = pop.promise_attempts || [];
    $("promise-attempts").textContent = attempts.length
      ? attempts.map((p) => p.date + " / " + (p.amount_cents / 100).toFixed(2)).join("; ")
      : "none";
    const list = $("transcript");
    list.replaceChildren();
    for (const line of pop.transcript) {
      const item = document.createElement("li");
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = line.who === "ivr" ? "IVR:" : line.who === "debtor" ? "Debtor:" : "-";
      item.append(who, document.createTextNode(line.text));
      list.append(item);
    }
    renderMessages(pop.messages || []);
    show("pop", true);
  }

  function renderMessages(messages) {
    const list = $("sms-list");
    list.replaceChildren();
    for (const m of messages) {
      const item = document.createElement("li");
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = m.who === "debtor" ? "Debtor (SMS):" : "Sent (SMS):";
      item.append(who, document.createTextNode(m.text));
      list.append(item);
    }
  }

  function openWrapup(pop) {
    if (!pop) { show("wrapup", false); state.wrapupId = null; return; }
    state.wrapupId = pop.transfer.id;
    $("wrapup-transfer").value = String(pop.transfer.id);
    $("wrapup-message").textContent = "";
    show("wrapup", true);
  }

  function onMessage(msg) {
    if (msg.type === "state") {
      renderPresence(msg.agent);
      if (msg.active) {
        renderPop(msg.active, msg.active.transfer.status === "connected" ? "On the call" : "Ringing");
      } else if (msg.wrapup) {
        renderPop(msg.wrapup, "Call ended: please wrap up");
      } else {
        renderPop(null);
      }
      openWrapup(msg.wrapup);
      return;
    }
    if (msg.agent) renderPresence(msg.agent);
    if (msg.type === "offer") renderPop(msg.pop, "Incoming call: pick up your phone");
    else if (msg.type === "connected") renderPop(msg.pop, "On the call");
    else if (msg.type === "ended") { renderPop(msg.pop, "Call ended: please wrap up"); openWrapup(msg.pop); }
    else if (msg.type === "sms" && msg.pop && state.transferId === msg.transfer_id) {
      renderMessages(msg.pop.messages || []);
    }
    else if (msg.type === "missed" && state.transferId === msg.transfer_id) {
      renderPop(null);
      $("connection").textContent = "Missed a call.";
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/api/v1/agents/me/events");
    state.socket = socket;
    socket.onopen = () => { state.retry = 500; $("connection").textContent = "Connected."; };
    socket.onmessage = (event) => { onMessage(JSON.parse(event.data)); };
    socket.onclose = () => {
      if (!state.loggedIn) return;
      $("connection").textContent = "Reconnecting...";
      setTimeout(connect, state.retry);
      state.retry = Math.min(state.retry * 2, 10000);
    };
  }

  async function enterDesk(me) {
    state.loggedIn = true;
    show("login-section", false);
    show("desk", true);
    show("logout", true);
    show("whoami", true);
    $("whoami").textContent = me.agent.display_name;
    onMessage(me);
    connect();
  }

  async function start() {
    try {
      await enterDesk(await api("GET", "/api/v1/agents/me"));
    } catch (error) {
      show("login-section", true);
      if (error.status !== 401) $("login-error").textContent = error.message;
    }
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      await api("POST", "/desktop/login", { username: $("username").value, password: $("password").value });
      await enterDesk(await api("GET", "/api/v1/agents/me"));
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  });

  $("logout").addEventListener("click", async () => {
    state.loggedIn = false;
    if (state.socket) state.socket.close();
    await api("POST", "/desktop/logout");
    location.reload();
  });

  $("presence-switch").addEventListener("change", async (event) => {
    try {
      renderPresence(await api("PUT", "/api/v1/agents/me/presence", { presence: event.target.value }));
    } catch (error) {
      $("connection").textContent = error.message;
    }
  });

  $("wrapup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = $("wrapup-transfer").value;
    const body = { outcome: $("outcome").value, notes: $("notes").value };
    if ($("promise-date").value) body.promise_date = $("promise-date").value;
    if ($("promise-amount").value) body.promise_amount = $("promise-amount").value;
    try {
      await api("POST", "/api/v1/agents/me/transfers/" + id + "/wrapup", body);
      $("wrapup-form").reset();
      $("wrapup-message").textContent = "Saved.";
      show("wrapup", false);
      renderPop(null);
      $("connection").textContent = "Wrap-up saved.";
    } catch (error) {
      $("wrapup-message").textContent = error.message;
    }
  });

  start();
})();
