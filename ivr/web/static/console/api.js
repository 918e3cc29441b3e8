// Fetch wrappers for the JSON API, and the API's field errors shown beside their fields.
//
// Every call sends the session cookie and JSON; a non-2xx answer throws an
// ApiError carrying the status, the API's message ("error"), its "code" if
// any, and its per-field errors ([{field, reason, code, params}] from a 422).
// A 401 also fires "ivr:signed-out" on window, so the shell shows the login.

import { el } from "./dom.js";
import { has, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || (body && body.errors ? "invalid input" : `HTTP ${status}`));
    this.status = status;
    this.body = body || {};
    this.code = this.body.code || null;
    this.errors = Array.isArray(this.body.errors) ? this.body.errors : [];
  }
}

export async function request(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !path.endsWith("/login")) {
      window.dispatchEvent(new CustomEvent("ivr:signed-out"));
    }
    throw error;
  }
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body);
export const put = (path, body) => request("PUT", path, body);
export const patch = (path, body) => request("PATCH", path, body);
export const del = (path) => request("DELETE", path);

/**
 * One field error in the user's language. Looked up in order:
 * "<bundle>.errors.<field>.<code>", "<bundle>.errors.<field>", "common.errors.<code>"
 * (with the error's params, e.g. {max_length}); else the API's own (English) reason.
 */
export function fieldMessage(err, bundle = "common") {
  const field = String(err.field || "").replace(/\[\d+\]/g, "[]");
  const vars = { ...(err.params || {}), reason: err.reason };
  for (const key of [`${bundle}.errors.${field}.${err.code}`, `${bundle}.errors.${field}`, `common.errors.${err.code}`]) {
    if (has(key)) return t(key, vars);
  }
  return err.reason;
}

/** Remove the errors a previous submit showed in ``form``. */
export function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error, .form-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

/**
 * Show ``error`` (an ApiError or any Error) inside ``form``: each field error
 * beside the control whose name (or data-field) is the error's field, the
 * rest (and plain errors) at the top of the form. The first bad control gets
 * the focus. ``bundle`` names the page's translations (see fieldMessage).
 */
export function showErrors(form, error, bundle = "common") {
  clearErrors(form);
  const loose = [];
  let first = null;
  for (const err of error.errors || []) {
    const control = form.querySelector(`[name="${CSS.escape(err.field)}"], [data-field="${CSS.escape(err.field)}"]`);
    if (!control) { loose.push(fieldMessage(err, bundle)); continue; }
    const id = `${control.id || control.name}-error`;
    const message = el("p", { class: "field-error", id, role: "alert" }, fieldMessage(err, bundle));
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
    const box = control.closest(".field");
    if (box) box.append(message); else control.after(message);
    first = first || control;
  }
  if (!(error.errors || []).length) loose.push(errorText(error));
  if (loose.length) form.prepend(el("div", { class: "form-error", role: "alert" }, loose.map((m) => el("p", {}, m))));
  if (first) first.focus();
}

/** A whole-request error in words: the code's translation if there is one, else the API's message. */
export function errorText(error) {
  if (error.code && has(`common.errors.${error.code}`)) return t(`common.errors.${error.code}`);
  if (error.status && has(`common.errors.http_${error.status}`)) return t(`common.errors.http_${error.status}`);
  return error.message;
}

/**
 * Send ``file`` as the raw body of a POST to ``path`` with XMLHttpRequest, so the
 * upload's progress can be shown: ``onProgress(fraction)`` runs as bytes leave
 * (fraction null when the size is unknown) and ``onSent()`` once all are sent and
 * the server is working. Resolves with the JSON answer; rejects with an ApiError.
 */
export function upload(path, file, { onProgress = () => {}, onSent = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", file.type || "text/csv");
    xhr.upload.addEventListener("progress", (e) => onProgress(e.lengthComputable ? e.loaded / e.total : null));
    xhr.upload.addEventListener("load", () => { onProgress(1); onSent(); });
    xhr.addEventListener("error", () => reject(new ApiError(0, { error: "network error" })));
    xhr.addEventListener("load", () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (_) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
      if (xhr.status === 401) window.dispatchEvent(new CustomEvent("ivr:signed-out"));
      reject(new ApiError(xhr.status, data));
    });
    xhr.send(file);
  });
}
