// Placeholder: the debtors page is coming; replace this file with the page module.
import { coming } from "./coming.js";

export default coming("debtors");
