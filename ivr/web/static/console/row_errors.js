// A refused line of an imported file, in the user's words.
//
// The import APIs give each bad line an English reason (what the CLI prints),
// a code from one vocabulary (ivr/vocab/row_errors.py) and the values the
// reason quotes. A page translates "<bundle>.rowErrors.<code>" filled with
// those values (a value that is a word, such as a phone line's kind, through
// "<bundle>.rowWords.<param>.<word>"); a code the page does not know shows
// the English reason rather than nothing.

import { has, t } from "./i18n.js";

/** The reason of ``error`` ({code, params, reason}) in the current locale. */
export function rowReason(bundle, error) {
  const key = `${bundle}.rowErrors.${error.code}`;
  if (!error.code || !has(key)) return error.reason;
  const vars = { reason: error.reason };
  for (const [name, value] of Object.entries(error.params || {})) {
    const word = `${bundle}.rowWords.${name}.${value}`;
    vars[name] = has(word) ? t(word) : value;
  }
  return t(key, vars);
}
