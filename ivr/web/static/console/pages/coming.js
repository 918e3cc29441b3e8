// A page not built yet: its title and one calm sentence saying what it will hold.
// Each placeholder in pages/<page>.js is replaced by the real page module.

import { el } from "../dom.js";
import { t } from "../i18n.js";

export function coming(id) {
  return {
    id,
    titleKey: `common.nav.${id}`,
    render(root) {
      root.append(el("div", { class: "card coming", dataset: { coming: id } },
        el("h2", {}, t("common.coming.title")),
        el("p", {}, t(`common.coming.${id}`))));
    },
  };
}
