// The weekly grid of call windows: one row per weekday, several ranges a day,
// a range added or removed with a button. Ranges are local wall-clock time of
// the debtor; an end of 00:00 means midnight.
//
// windowGrid(windows) -> { node, read() } where read() returns the ranges as
// the API wants them ([{weekday, start, end}], Monday = 0) and marks each
// range's controls with data-field="windows[i]..." in that same order, so the
// API's errors (windows[2].end, windows[2]) land beside the right range.

import { el } from "../dom.js";
import { locale, t } from "../i18n.js";

let ranges = 0;

/** Monday..Sunday in the user's language ("segunda-feira"...). */
export function weekdayNames() {
  const format = new Intl.DateTimeFormat(locale(), { weekday: "long", timeZone: "UTC" });
  return Array.from({ length: 7 }, (_, i) => {
    const name = format.format(new Date(Date.UTC(2024, 0, 1 + i)));
    return name.charAt(0).toLocaleUpperCase(locale()) + name.slice(1);
  });
}

function rangeRow(dayName, start, end) {
  const n = ++ranges;
  // Text, not type=time: a native time input follows the browser's own clock format
  // (08:00 AM), where a Brazilian supervisor reads and types 24-hour times.
  const time = (cls, value) => el("input", { id: `w${n}-${cls}`, class: `w-${cls}`, value, required: true,
    inputmode: "numeric", maxlength: 5, placeholder: t("campaigns.windows.placeholder"), autocomplete: "off" });
  const startInput = time("start", start);
  const endInput = time("end", end);
  const row = el("div", { class: "field range", role: "group", "aria-label": t("campaigns.windows.range", { day: dayName }) },
    el("div", { class: "range-inputs" },
      el("label", { for: startInput.id, class: "visually-hidden" }, t("campaigns.windows.start_of", { day: dayName })),
      startInput,
      el("span", { "aria-hidden": "true" }, "–"),
      el("label", { for: endInput.id, class: "visually-hidden" }, t("campaigns.windows.end_of", { day: dayName })),
      endInput,
      el("button", { type: "button", class: "small", "aria-label": t("campaigns.windows.remove_of", { day: dayName }),
        onClick: () => { const list = row.parentElement; row.remove(); list.dispatchEvent(new Event("change", { bubbles: true })); } },
      "×")));
  return row;
}

export function windowGrid(windows) {
  const names = weekdayNames();
  const lists = names.map(() => el("div", { class: "ranges" }));
  for (const w of [...windows].sort((a, b) => a.weekday - b.weekday || a.start.localeCompare(b.start))) {
    lists[w.weekday].append(rangeRow(names[w.weekday], w.start, w.end === "24:00" ? "00:00" : w.end));
  }
  const rows = names.map((name, day) => el("div", { class: "day", dataset: { weekday: day } },
    el("div", { class: "day-name" }, name),
    lists[day],
    el("button", { type: "button", class: "small add", dataset: { add: day },
      "aria-label": t("campaigns.windows.add_of", { day: name }),
      onClick: () => {
        const last = lists[day].querySelector(".range:last-child .w-end");
        const start = last && last.value && last.value !== "00:00" ? last.value : "09:00";
        const row = rangeRow(name, start, "");
        lists[day].append(row);
        row.querySelector(".w-start").focus();
      } }, `+ ${t("campaigns.windows.add")}`)));
  const node = el("div", { class: "week", dataset: { field: "windows" } }, rows);

  function read() {
    const out = [];
    lists.forEach((list, weekday) => {
      for (const row of list.querySelectorAll(".range")) {
        const i = out.length;
        const start = row.querySelector(".w-start");
        const end = row.querySelector(".w-end");
        row.dataset.field = `windows[${i}]`;
        start.dataset.field = `windows[${i}].start`;
        end.dataset.field = `windows[${i}].end`;
        out.push({ weekday, start: start.value, end: end.value });
      }
    });
    return out;
  }
  return { node, read };
}
