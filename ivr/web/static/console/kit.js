// Shared pieces of the record pages (debtors, do-not-call, users, audit):
// a page's own stylesheet, a modal dialog for confirmations and small forms,
// and a notice line. Text goes in as text (dom.js), never as HTML.

import { el, replace } from "./dom.js";
import { clearErrors, errorText, showErrors } from "./api.js";
import { t } from "./i18n.js";

const styles = new Map();

/** Add the stylesheet ``href`` once; resolves when it has loaded (so nothing is drawn unstyled). */
export function useStyle(href) {
  if (!styles.has(href)) {
    styles.set(href, new Promise((resolve) => {
      const link = el("link", { rel: "stylesheet", href });
      link.addEventListener("load", resolve);
      link.addEventListener("error", resolve);
      document.head.append(link);
    }));
  }
  return styles.get(href);
}

let dialogs = 0;

/**
 * Ask in a modal <dialog> (Esc or Cancel closes it, focus comes back to where it was).
 * opts: { title, text, fields: [nodes], confirmLabel, danger, bundle,
 *         ready(form) -> bool (the confirm button is enabled only when true),
 *         submit(form) -> result (async; an error is shown in the dialog, beside its field) }.
 * Resolves with submit's result (true without submit), or null when cancelled.
 */
export function ask(opts) {
  return new Promise((resolve) => {
    const id = `dialog-${++dialogs}`;
    const opener = document.activeElement;
    const confirm = el("button", { type: "submit", class: opts.danger ? "danger" : "primary" }, opts.confirmLabel);
    const cancel = el("button", { type: "button" }, t("common.cancel"));
    const form = el("form", { novalidate: true },
      el("h2", { id: `${id}-title` }, opts.title),
      opts.text ? el("p", { id: `${id}-text` }, opts.text) : null,
      opts.fields || [],
      el("div", { class: "dialog-buttons" }, cancel, confirm));
    const dialog = el("dialog", { class: "ask", "aria-labelledby": `${id}-title`,
      "aria-describedby": opts.text ? `${id}-text` : null }, form);
    let done = false;
    const close = (value) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      if (opener && typeof opener.focus === "function" && opener.isConnected) opener.focus();
      resolve(value);
    };
    const check = () => { confirm.disabled = opts.ready ? !opts.ready(form) : false; };
    cancel.addEventListener("click", () => close(null));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(null); });
    form.addEventListener("input", check);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (confirm.disabled) return;
      clearErrors(form);
      if (!opts.submit) { close(true); return; }
      confirm.disabled = true;
      try {
        const result = await opts.submit(form);
        close(result === undefined ? true : result);
      } catch (error) {
        showErrors(form, error, opts.bundle);
        check();
      }
    });
    check();
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector("input, select, textarea");
    (first || confirm).focus();
  });
}

/** A notice in ``box`` (replacing what it held): "ok", "error" or "" (plain). */
export function say(box, text, kind = "") {
  replace(box, el("div", { class: `notice ${kind}`.trim(), role: kind === "error" ? "alert" : "status" }, text));
}

/** The words for a failed request, in a notice in ``box``. */
export function sayError(box, error) {
  say(box, errorText(error), "error");
}
