// The console's shell: login, navigation, language switch and the hash router.
//
// Routes are "#/<page>/<param>/...?<query>"; <page> must be one of PAGES and
// is loaded from ./pages/<page>.js, whose default export is
//   { id, titleKey, render(root, ctx) }
// render may be async and may return a function the shell calls when the
// user leaves the page (close a live channel, stop a timer). Before render
// the shell loads the page's words (/static/i18n/<locale>/<page>.json, if
// any). ctx = { user, locale, params, query, navigate(hash), setTitle(text),
// actions } where actions is an element beside the title for page buttons.
// On a language switch the current page is rendered again.

import { $, el, replace } from "./dom.js";
import * as api from "./api.js";
import { browserLocale, load, locale, localeFor, setLocale, t, translate } from "./i18n.js";

export const PAGES = ["wallboard", "campaigns", "upload", "debtors", "dnc", "reports", "users", "audit"];
const HOME = "wallboard";
const shell = { user: null, leave: null, token: 0, moved: false };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch (_) { return p; } });
  return { page: parts[0] || HOME, params: parts.slice(1), query: new URLSearchParams(query) };
}

export function navigate(hash) { location.hash = hash.startsWith("#") ? hash : `#${hash}`; }

function buildNav(current) {
  const items = PAGES.map((id) => el("li", {},
    el("a", { href: `#/${id}`, "aria-current": id === current ? "page" : null, dataset: { page: id } }, t(`common.nav.${id}`))));
  replace($("#nav-list"), items);
}

function leavePage() {
  if (!shell.leave) return;
  try { shell.leave(); } catch (error) { console.error(error); }
  shell.leave = null;
}

async function route() {
  if (!shell.user) return;
  const { page, params, query } = parseHash();
  if (!PAGES.includes(page)) { location.replace(`#/${HOME}`); return; }
  const token = ++shell.token;
  leavePage();
  buildNav(page);
  const title = el("h1", { id: "page-title", tabindex: "-1" });
  const actions = el("div", { class: "page-actions" });
  const body = el("div", { class: "page-body" }, el("p", { class: "muted" }, t("common.loading")));
  replace($("#page"), el("header", { class: "page-head" }, title, actions), body);
  try {
    const [module] = await Promise.all([import(`./pages/${page}.js`), load(page)]);
    if (token !== shell.token) return;
    const view = module.default;
    const setTitle = (text) => { title.textContent = text; document.title = `${text} · ${t("common.app_name")}`; };
    setTitle(t(view.titleKey));
    replace(body);
    const ctx = { user: shell.user, locale: locale(), params, query, navigate, setTitle, actions };
    const cleanup = await view.render(body, ctx);
    if (typeof cleanup === "function") {
      if (token === shell.token) shell.leave = cleanup; else cleanup();
    }
  } catch (error) {
    if (token !== shell.token) return;
    console.error(error);
    replace(body, el("div", { class: "notice error", role: "alert" },
      el("p", {}, t("common.page_failed")), el("p", { class: "muted" }, api.errorText(error))));
  }
  if (shell.moved) title.focus();
  shell.moved = true;
}

function showLogin(visible) {
  $("#login").hidden = !visible;
  $("#page").hidden = visible;
  $("#nav").hidden = visible;
  $("#whoami").hidden = visible;
  $("#logout").hidden = visible;
}

function refuse(code) {
  // A kind word and the right page for people who are not supervisors.
  $("#login-refused-text").textContent = t(code === "not_supervisor" ? "common.login.not_supervisor" : "common.login.refused");
  $("#login-refused").hidden = false;
}

async function enter(user) {
  shell.user = user;
  if (localeFor(user) !== locale()) await setLocale(localeFor(user));
  $("#language").value = locale();
  translate();
  $("#whoami").textContent = t("common.signed_in_as", { name: user.username });
  $("#login-refused").hidden = true;
  showLogin(false);
  shell.moved = false;
  await route();
}

function signedOut() {
  leavePage();
  shell.user = null;
  shell.token++;
  replace($("#page"));
  showLogin(true);
}

async function start() {
  await setLocale(browserLocale(), ["common"]);
  $("#language").value = locale();
  translate();
  try {
    const me = await api.get("/api/v1/auth/me");
    if (me.role === "supervisor") { await enter(me); return; }
    showLogin(true);
    refuse("not_supervisor");
  } catch (_) {
    showLogin(true);
  }
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  api.clearErrors(form);
  $("#login-refused").hidden = true;
  try {
    const answer = await api.post("/console/login", { username: $("#username").value, password: $("#password").value });
    form.reset();
    await enter(answer.user);
  } catch (error) {
    if (error.status === 403 && error.code) refuse(error.code);
    else api.showErrors(form, error);
  }
});

$("#logout").addEventListener("click", async () => {
  try { await api.post("/console/logout"); } finally { signedOut(); }
});

$("#language").addEventListener("change", async (event) => {
  const wanted = event.target.value;
  if (shell.user) {
    try {
      shell.user = await api.patch("/api/v1/auth/me", { locale: wanted });
    } catch (error) {
      console.error(error);
    }
  }
  await setLocale(wanted);
  translate();
  if (shell.user) {
    $("#whoami").textContent = t("common.signed_in_as", { name: shell.user.username });
    shell.moved = false;
    await route();
  }
});

window.addEventListener("hashchange", route);
window.addEventListener("ivr:signed-out", signedOut);
start();
