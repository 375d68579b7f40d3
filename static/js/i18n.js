// The page's language for the scripts: translated sentences (base.html's JSON element
// #i18n-strings, keyed by their English text, with %(name)s placeholders), the language
// for Intl number formats, and amounts as the donor types them in that language.
var campaignStrings = (function () {
  "use strict";
  var el = document.getElementById("i18n-strings");
  try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
})();

function campaignLang() {
  "use strict";
  return document.documentElement.lang || "en";
}

function campaignT(text, values) {
  "use strict";
  var s = campaignStrings[text] || text;
  return s.replace(/%\((\w+)\)s/g, function (_, key) {
    return values && values[key] !== undefined ? values[key] : "";
  });
}

// "1.234,50" (Spanish) or "1,234.50" (English) -> "1234.50"; anything else unchanged, for
// the caller's own check to refuse, as the server does (donations/forms.py amount_normalise).
function campaignAmountRaw(raw) {
  "use strict";
  if (campaignLang().split("-")[0] === "es") {
    if (/^\d{1,3}(\.\d{3})+(,\d+)?$/.test(raw)) raw = raw.replace(/\./g, "");
    if (/^\d+,\d+$/.test(raw)) raw = raw.replace(",", ".");
    return raw;
  }
  return /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(raw) ? raw.replace(/,/g, "") : raw;
}
