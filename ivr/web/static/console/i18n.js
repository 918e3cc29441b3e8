// Words and formats in the user's language, for the console and the agent desktop.
//
// Translations live in /static/i18n/<locale>/<bundle>.json (flat objects,
// keys prefixed by the bundle: "common.", "desktop.", "campaigns." ...).
// t(key, vars) fills "{name}" placeholders; a missing key shows itself, so a
// gap is visible rather than silent. money/date/dateTime use Intl in the
// current locale: R$ 1.050,00 and 30/09/2026 in pt-BR.

export const LOCALES = ["pt-BR", "en-US"];
export const DEFAULT_LOCALE = "pt-BR";

const state = { locale: DEFAULT_LOCALE, words: {}, loaded: new Set(), listeners: new Set() };

/** The supported locale closest to what the browser asks for (navigator.languages). */
export function browserLocale() {
  const asked = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of asked) {
    const lower = String(tag || "").toLowerCase();
    const exact = LOCALES.find((l) => l.toLowerCase() === lower);
    if (exact) return exact;
    const sameLanguage = LOCALES.find((l) => l.slice(0, 2).toLowerCase() === lower.slice(0, 2));
    if (sameLanguage) return sameLanguage;
  }
  return DEFAULT_LOCALE;
}

/** A user's own setting if they have one, else the browser's. */
export function localeFor(user) {
  return user && LOCALES.includes(user.locale) ? user.locale : browserLocale();
}

export function locale() { return state.locale; }

async function fetchBundle(loc, bundle) {
  const response = await fetch(`/static/i18n/${loc}/${bundle}.json`, { credentials: "same-origin" });
  if (response.status === 404) return {};
  if (!response.ok) throw new Error(`${bundle}.json: ${response.status}`);
  return response.json();
}

/** Load one more bundle (a page's) in the current locale; a bundle that does not exist is empty. */
export async function load(bundle) {
  if (state.loaded.has(bundle)) return;
  Object.assign(state.words, await fetchBundle(state.locale, bundle));
  state.loaded.add(bundle);
}

/** Switch to ``loc``: the bundles loaded so far are loaded again in it, then listeners run. */
export async function setLocale(loc, bundles = []) {
  const next = LOCALES.includes(loc) ? loc : DEFAULT_LOCALE;
  const wanted = new Set([...state.loaded, ...bundles]);
  const words = {};
  for (const bundle of wanted) Object.assign(words, await fetchBundle(next, bundle));
  state.locale = next;
  state.words = words;
  state.loaded = wanted;
  document.documentElement.lang = next;
  for (const fn of state.listeners) fn(next);
}

/** Call ``fn(locale)`` after every switch; returns a function that stops it. */
export function onLocaleChange(fn) {
  state.listeners.add(fn);
  return () => state.listeners.delete(fn);
}

export function has(key) { return Object.prototype.hasOwnProperty.call(state.words, key); }

/** The text of ``key`` with "{name}" replaced from ``vars``; the key itself if it is missing. */
export function t(key, vars = {}) {
  const text = has(key) ? state.words[key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Fill the text of every [data-i18n] element under ``root`` (and data-i18n-<attr> attributes). */
export function translate(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const attr of ["placeholder", "title", "aria-label"]) {
    for (const node of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      node.setAttribute(attr, t(node.getAttribute(`data-i18n-${attr}`)));
    }
  }
}

// --- formats ------------------------------------------------------------------

/** 105000, "BRL" -> "R$ 1.050,00" (pt-BR) / "R$1,050.00" (en-US). */
export function money(cents, currency = "BRL") {
  if (cents === null || cents === undefined || Number.isNaN(Number(cents))) return "";
  return new Intl.NumberFormat(state.locale, { style: "currency", currency }).format(Number(cents) / 100);
}

export function number(value, options = {}) {
  return new Intl.NumberFormat(state.locale, options).format(value);
}

/** A fraction (0.125) as a percentage in the locale: "12,5%". */
export function percent(value, digits = 1) {
  if (value === null || value === undefined) return "";
  return number(value, { style: "percent", maximumFractionDigits: digits });
}

// A calendar day ("2026-09-30") is no instant: format it at UTC so no time zone moves it.
function asDay(d) {
  if (d instanceof Date) return d;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(d));
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])) : new Date(d);
}

/** "2026-09-30" -> "30/09/2026" (pt-BR) / "09/30/2026" (en-US). */
export function date(d) {
  if (!d) return "";
  const day = asDay(d);
  const utc = typeof d === "string" && d.length === 10;
  return new Intl.DateTimeFormat(state.locale, {
    day: "2-digit", month: "2-digit", year: "numeric", ...(utc ? { timeZone: "UTC" } : {}),
  }).format(day);
}

/** An instant (ISO text or Date) as the local date and time: "30/09/2026 14:05". */
export function dateTime(ts) {
  if (!ts) return "";
  return new Intl.DateTimeFormat(state.locale, {
    day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
  }).format(new Date(ts));
}

/** An instant as the local time of day: "14:05". */
export function time(ts) {
  if (!ts) return "";
  return new Intl.DateTimeFormat(state.locale, { hour: "2-digit", minute: "2-digit" }).format(new Date(ts));
}
