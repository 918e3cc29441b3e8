// Users and agents: who may sign in, with which role; an agent's languages and skills;
// password resets and disabling. A generated password and a new API key are shown once.

import { el, field, replace } from "../dom.js";
import { clearErrors, errorText, get, patch, post, showErrors } from "../api.js";
import { LOCALES, dateTime, t } from "../i18n.js";
import { ask, useStyle } from "../kit.js";

const B = "users";

function languageBoxes(name, chosen) {
  return el("fieldset", { class: "field", dataset: { field: name } },
    el("legend", {}, t("users.field.languages")),
    LOCALES.map((loc) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: `${name}-choice`, value: loc, checked: chosen.includes(loc) }),
      ` ${t(`users.locale.${loc}`)}`)));
}

function chosenLanguages(form, name) {
  return Array.from(form.querySelectorAll(`input[name="${name}-choice"]:checked`)).map((i) => i.value);
}

function skillsOf(text) {
  return String(text || "").split(",").map((s) => s.trim()).filter(Boolean);
}

function onceNotice(title, rows) {
  return el("div", { class: "notice", role: "status", dataset: { once: "" } },
    el("p", {}, el("strong", {}, title)),
    rows.filter(([, v]) => v).map(([label, value]) => el("p", {}, `${label}: `, el("code", {}, value))),
    el("p", { class: "muted" }, t("users.shown_once")));
}

function createForm(reload, notices) {
  const role = el("select", { name: "role" },
    ["agent", "supervisor"].map((r) => el("option", { value: r }, t(`users.role.${r}`))));
  const langs = languageBoxes("languages", ["pt-BR"]);
  const skills = el("input", { name: "skills", autocomplete: "off" });
  const agentOnly = el("div", {}, langs, field(t("users.field.skills"), skills, t("users.hint.skills")));
  role.addEventListener("change", () => { agentOnly.hidden = role.value !== "agent"; });
  const form = el("form", { class: "card", id: "new-user", novalidate: true },
    el("h2", {}, t("users.new")),
    field(t("users.field.username"), el("input", { name: "username", required: true, autocomplete: "off" })),
    field(t("users.field.role"), role),
    field(t("users.field.password"), el("input", { name: "password", type: "password", autocomplete: "new-password" }),
      t("users.hint.password")),
    agentOnly,
    el("button", { class: "primary", type: "submit" }, t("users.create")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { username: data.get("username"), role: data.get("role") };
    if (data.get("password")) body.password = data.get("password");
    if (body.role === "agent") {
      body.languages = chosenLanguages(form, "languages");
      body.skills = skillsOf(data.get("skills"));
    }
    try {
      const made = await post("/api/v1/users", body);
      clearErrors(form);
      form.reset();
      agentOnly.hidden = false;
      replace(notices, onceNotice(t("users.created", { username: made.user.username }), [
        [t("users.field.password"), made.password], [t("users.api_key"), made.api_key]]));
      await reload();
    } catch (error) { showErrors(form, error, B); }
  });
  return form;
}

function editForm(user, reload) {
  const a = user.agent;
  const form = el("form", { class: "edit", novalidate: true },
    languageBoxes(`langs-${user.id}`, a.languages),
    field(t("users.field.skills"), el("input", { name: "skills", value: a.skills.join(", ") }), t("users.hint.skills")),
    el("button", { class: "primary", type: "submit" }, t("users.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await patch(`/api/v1/users/${user.id}`, {
        languages: chosenLanguages(form, `langs-${user.id}`),
        skills: skillsOf(new FormData(form).get("skills")),
      });
      await reload();
    } catch (error) { showErrors(form, error, B); }
  });
  return form;
}

function row(user, ctx, reload, notices) {
  const a = user.agent;
  const actions = el("td", { class: "actions" });
  const editCell = el("td", { colspan: 6, hidden: true });
  const editRow = el("tr", { class: "edit-row" }, editCell);
  const act = async (fn) => {
    try { await fn(); } catch (error) { replace(notices, el("div", { class: "notice error", role: "alert" }, errorText(error))); }
  };
  if (a) {
    actions.append(el("button", { type: "button", onClick: () => {
      editCell.hidden = !editCell.hidden;
      if (!editCell.hidden) replace(editCell, editForm(user, reload));
    } }, t("users.edit")));
  }
  actions.append(el("button", { type: "button", dataset: { act: "reset" }, onClick: () => act(async () => {
    const out = await ask({
      title: t("users.reset"),
      text: t("users.confirm_reset", { username: user.username }),
      confirmLabel: t("users.reset"),
      danger: true,
      bundle: B,
      submit: () => post(`/api/v1/users/${user.id}/password`, {}),
    });
    if (!out) return;
    replace(notices, onceNotice(t("users.reset_done", { username: user.username }),
      [[t("users.field.password"), out.password]]));
  }) }, t("users.reset")));
  if (user.id !== ctx.user.id) {
    const verb = user.disabled ? "enable" : "disable";
    actions.append(el("button", { type: "button", dataset: { act: verb }, onClick: () => act(async () => {
      const done = verb === "enable" || await ask({
        title: t("users.disable"),
        text: t("users.confirm_disable", { username: user.username }),
        confirmLabel: t("users.disable"),
        danger: true,
        bundle: B,
        submit: () => post(`/api/v1/users/${user.id}/disable`),
      });
      if (!done) return;
      if (verb === "enable") await post(`/api/v1/users/${user.id}/enable`);
      replace(notices);
      await reload();
    }) }, t(`users.${verb}`)));
  }
  const main = el("tr", { dataset: { user: user.username } },
    el("td", {}, el("strong", {}, user.username), a && a.display_name !== user.username ? el("div", { class: "muted" }, a.display_name) : null),
    el("td", {}, t(`users.role.${user.role}`)),
    el("td", {}, a ? a.languages.map((l) => t(`users.locale.${l}`)).join(", ") : "—"),
    el("td", {}, a ? (a.skills.join(", ") || "—") : "—"),
    el("td", {}, user.disabled ? t("users.state.disabled") : (a ? t(`users.presence.${a.presence}`) : t("users.state.active")),
      user.disabled ? el("div", { class: "muted" }, dateTime(user.disabled_at)) : null),
    actions);
  return [main, editRow];
}

export default {
  id: "users",
  titleKey: "users.title",
  async render(root, ctx) {
    await useStyle("/console/static/kit.css");
    const notices = el("div", { id: "users-notices", "aria-live": "polite" });
    const body = el("tbody");
    const reload = async () => {
      const data = await get("/api/v1/users");
      replace(body, data.items.map((u) => row(u, ctx, reload, notices)));
    };
    root.append(
      notices,
      el("div", { class: "card table-wrap" },
        el("table", { id: "users-table" },
          el("thead", {}, el("tr", {},
            ["username", "role", "languages", "skills", "state"].map((k) => el("th", { scope: "col" }, t(`users.col.${k}`))),
            el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, t("users.col.actions"))))),
          body)),
      createForm(reload, notices));
    await reload();
  },
};
