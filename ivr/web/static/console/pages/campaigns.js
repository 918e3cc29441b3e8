// Campaigns: the list (#/campaigns), a new one (#/campaigns/new) and one
// campaign's settings (#/campaigns/<id>), with pause and resume.

import { el, replace } from "../dom.js";
import { errorText, get, post } from "../api.js";
import { number, t } from "../i18n.js";
import { campaignForm } from "./campaign_form.js";

function stateBadge(active) {
  return el("span", { class: `badge ${active ? "on" : "off"}`, dataset: { state: active ? "active" : "paused" } },
    t(active ? "campaigns.state.active" : "campaigns.state.paused"));
}

function pauseButton(campaign, after) {
  const verb = campaign.active ? "pause" : "resume";
  return el("button", { type: "button", dataset: { action: verb }, onClick: async (event) => {
    event.currentTarget.disabled = true;
    try { await after(await post(`/api/v1/campaigns/${campaign.id}/${verb}`)); } catch (error) { await after(null, error); }
  } }, t(`campaigns.${verb}`));
}

function notice(text, kind = "") {
  return el("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

async function listView(root, ctx) {
  replace(ctx.actions, el("a", { class: "button primary", href: "#/campaigns/new" }, t("campaigns.new")));
  const notices = el("div", { "aria-live": "polite" });
  const body = el("tbody");
  const cps = el("p", { class: "muted" });
  const reload = async () => {
    const data = await get("/api/v1/campaigns");
    cps.textContent = t("campaigns.account_cps_line", { cps: number(data.account_cps) });
    replace(body, data.items.length ? data.items.map((c) => {
      const cell = el("td", { class: "actions" });
      const draw = () => replace(cell,
        el("a", { class: "button", href: `#/campaigns/${c.id}` }, t("campaigns.edit")),
        pauseButton(c, async (updated, error) => {
          if (error) { replace(notices, notice(errorText(error), "error")); return; }
          await reload();
        }));
      draw();
      return el("tr", { dataset: { campaign: c.name } },
        el("th", { scope: "row" }, el("a", { href: `#/campaigns/${c.id}` }, c.name),
          el("div", { class: "muted" }, c.company_name)),
        el("td", {}, `${t(`campaigns.choice.locale.${c.locale}`)} · ${t(`campaigns.choice.country.${c.country}`)}`),
        el("td", {}, stateBadge(c.active)),
        el("td", { class: "num" }, number(c.attempts_today)),
        el("td", {}, t("campaigns.caps_line", { daily: c.daily_cap, weekly: c.weekly_cap, channels: c.max_concurrent_calls })),
        cell);
    }) : el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("campaigns.empty"))));
  };
  root.append(notices,
    el("div", { class: "card table-card" },
      el("table", { id: "campaign-list" },
        el("thead", {}, el("tr", {},
          ["name", "language", "state", "today", "caps"].map((k) =>
            el("th", { scope: "col", class: k === "today" ? "num" : null }, t(`campaigns.col.${k}`))),
          el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, t("campaigns.col.actions"))))),
        body),
      cps));
  await reload();
}

async function editView(root, ctx, id) {
  const accountCps = (await get("/api/v1/campaigns")).account_cps;
  let campaign = id === "new" ? null : await get(`/api/v1/campaigns/${encodeURIComponent(id)}`);
  const notices = el("div", { "aria-live": "polite" });
  const holder = el("div");
  const back = el("a", { class: "button", href: "#/campaigns" }, t("campaigns.back"));

  const draw = (message) => {
    ctx.setTitle(campaign ? campaign.name : t("campaigns.new_title"));
    const actions = [back];
    if (campaign) {
      actions.unshift(stateBadge(campaign.active), pauseButton(campaign, async (updated, error) => {
        if (error) { replace(notices, notice(errorText(error), "error")); draw(); return; }
        campaign = updated;
        draw(t(updated.active ? "campaigns.resumed" : "campaigns.paused_note"));
      }));
    }
    replace(ctx.actions, actions);
    replace(notices, message ? notice(message) : null);
    replace(holder, campaignForm(campaign, {
      accountCps,
      onSaved: async (saved) => {
        const created = !campaign;
        campaign = saved;
        if (created) history.replaceState(null, "", `#/campaigns/${saved.id}`);
        draw(t(created ? "campaigns.created" : "campaigns.saved", { name: saved.name }));
        window.scrollTo(0, 0);
      },
    }));
  };
  root.append(notices, holder);
  draw(ctx.query.get("saved") ? t("campaigns.saved", { name: campaign.name }) : null);
}

export default {
  id: "campaigns",
  titleKey: "campaigns.title",
  async render(root, ctx) {
    root.dataset.page = "campaigns";
    const [id] = ctx.params;
    if (id) await editView(root, ctx, id);
    else await listView(root, ctx);
  },
};
