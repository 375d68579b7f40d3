// Progressive enhancement: the calculator updates as the donor types, at the price per acre
// the page shows (the same rule as Project.acres_for). Without JS the form submits and the
// server answers with the same figure or the same message.
(function () {
  "use strict";
  var article = document.querySelector("article.project");
  var input = document.getElementById("id_gift");
  var output = document.getElementById("calc-output");
  var error = document.getElementById("calc-error");
  if (!article || !input || !output || !error) return;
  var totalAcres = parseFloat(article.dataset.acres);
  var cost = parseFloat(article.dataset.cost);
  var priceCents = Math.round(parseFloat(article.dataset.pricePerAcre) * 100);
  var max = parseFloat(article.dataset.calcMax);
  var currency = article.dataset.currency;
  var fmt = function (amount) {
    var whole = Math.round(amount * 100) % 100 === 0;
    return new Intl.NumberFormat(campaignLang(), {
      style: "currency", currency: currency,
      minimumFractionDigits: whole ? 0 : undefined, maximumFractionDigits: whole ? 0 : undefined
    }).format(amount);
  };
  var strong = function (text) { var s = document.createElement("strong"); s.textContent = text; return s; };
  // A translated sentence with \u0001 (the gift) and \u0002 (the acres) marking where the
  // two bold figures go, whatever order the language puts them in.
  var campaignFill = function (node, sentence, gift, acres) {
    var parts = sentence.split(/(\u0001|\u0002)/).map(function (part) {
      if (part === "\u0001") return strong(gift);
      if (part === "\u0002") return strong(acres);
      return part;
    });
    node.replaceChildren.apply(node, parts);
  };
  var fail = function (message) {
    output.replaceChildren();
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", "calc-hint calc-error");
  };
  var update = function () {
    var raw = campaignAmountRaw(input.value.trim().replace(/^\$\s*/, ""));
    if (raw === "") { output.replaceChildren(); error.hidden = true; return; }
    if (!/^(\d+(\.\d{1,2})?|\.\d{1,2})$/.test(raw)) { fail(campaignT("Enter an amount in numbers, such as 50 or 25.50.")); return; }
    var gift = parseFloat(raw);
    if (gift < 1) { fail(campaignT("Enter an amount of at least 1.")); return; }
    if (gift > max) { fail(campaignT("Enter an amount of at most %(max)s.", { max: max.toLocaleString(campaignLang()) })); return; }
    error.hidden = true;
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", "calc-hint");
    if (gift >= cost) {
      campaignFill(output, campaignT("%(gift)s would fund the whole project: all %(acres)s",
        { gift: "\u0001", acres: "\u0002" }), fmt(gift),
        campaignT("%(n)s acres", { n: totalAcres.toLocaleString(campaignLang()) }));
      return;
    }
    var giftCents = Math.round(gift * 100);
    var tenths = giftCents * 10 / priceCents;
    var shown = Math.min(tenths >= 100 ? Math.round(tenths / 10) : Math.round(tenths) / 10, totalAcres);
    var exact = giftCents % priceCents === 0 && giftCents / priceCents === shown;
    var sentence = exact ? "%(gift)s protects %(acres)s" : "%(gift)s protects about %(acres)s";
    campaignFill(output, campaignT(sentence, { gift: "\u0001", acres: "\u0002" }), fmt(gift),
      campaignT(shown === 1 ? "%(n)s acre" : "%(n)s acres", { n: shown.toLocaleString(campaignLang()) }));
  };
  input.addEventListener("input", update);
})();

// Donate form: the preset buttons follow the chosen currency. The server renders the shown
// currency's presets and keeps each other offered currency's in a <template>; without JS the
// form is correct for the currency it was rendered in.
(function () {
  "use strict";
  var form = document.querySelector("form.donate-form");
  if (!form) return;
  var select = form.querySelector("select[name=currency]");
  var box = form.querySelector(".presets");
  if (!select || !box) return;
  var otherInput = box.querySelector("input[name=preset][value=other]");
  var other = otherInput ? otherInput.closest("label") : null;
  var info = JSON.parse(form.dataset.currencies || "{}");
  var live = function () {
    return Array.prototype.filter.call(box.querySelectorAll("label.preset"), function (label) {
      var input = label.querySelector("input[name=preset]");
      return input && input.value !== "other";
    });
  };
  var sets = {};
  Array.prototype.forEach.call(box.querySelectorAll("template.preset-set"), function (t) {
    sets[t.dataset.currency] = t.content;
  });
  // The currency rendered live is the offered one without a template.
  var shown = Object.keys(info).filter(function (c) { return !sets[c]; })[0];
  if (!shown) return;
  var rendered = document.createDocumentFragment();
  live().forEach(function (label) { rendered.appendChild(label.cloneNode(true)); });
  sets[shown] = rendered;
  var swap = function () {
    var cur = select.value;
    if (cur === shown || !sets[cur]) return;
    var labels = live();
    var index = -1;
    labels.forEach(function (label, i) { if (label.querySelector("input").checked) index = i; });
    labels.forEach(function (label) { label.remove(); });
    var fresh = sets[cur].cloneNode(true);
    var inputs = fresh.querySelectorAll("input[name=preset]");
    Array.prototype.forEach.call(inputs, function (input) { input.checked = false; });
    // Keep the donor's place: the same button (e.g. the second) in the new currency.
    if (index >= 0 && inputs.length) inputs[Math.min(index, inputs.length - 1)].checked = true;
    if (other && other.parentNode === box) box.insertBefore(fresh, other);
    else box.appendChild(fresh);
    shown = cur;
  };
  // On the select itself, so the presets are swapped before the form-wide listeners below run.
  select.addEventListener("change", swap);
  swap(); // the browser may have restored another currency (back button)
})();

// Donate form: the gift as the server will read it, with the server's own messages, so the
// live texts below never promise anything for an amount the server would refuse.
function campaignDonateGift(form) {
  "use strict";
  var info = JSON.parse(form.dataset.currencies || "{}");
  var select = form.querySelector("[name=currency]");
  var cur = select ? select.value : form.dataset.projectCurrency || "USD";
  var c = info[cur] || { digits: 2, min: "1", max: "100000" };
  var result = function (amount, error) { return { amount: amount, currency: cur, error: error || "" }; };
  var raw = form.querySelector("[name=custom_amount]").value.trim();
  raw = campaignAmountRaw(raw);
  if (!raw) {
    var checked = form.querySelector("[name=preset]:checked");
    return result(checked && checked.value !== "other" ? parseFloat(checked.value) : NaN);
  }
  if (!/^\d{1,9}(\.\d{1,4})?$/.test(raw)) return result(NaN, campaignT("Enter the amount as a number, e.g. 50 or 25.50."));
  var decimals = (raw.split(".")[1] || "").replace(/0+$/, "").length;
  if (decimals > c.digits) {
    return result(NaN, c.digits
      ? campaignT("%(currency)s amounts have at most %(digits)s decimal places.", { currency: cur, digits: c.digits })
      : campaignT("%(currency)s amounts are whole numbers.", { currency: cur }));
  }
  var amount = parseFloat(raw);
  if (amount < parseFloat(c.min)) return result(NaN, campaignT("The smallest gift is %(amount)s %(currency)s.", { amount: parseFloat(c.min).toLocaleString(campaignLang()), currency: cur }));
  if (amount > parseFloat(c.max)) {
    return result(NaN, campaignT("Online gifts are limited to %(amount)s %(currency)s; please contact us for larger gifts.",
      { amount: parseFloat(c.max).toLocaleString(campaignLang()), currency: cur }));
  }
  return result(amount);
}

// Donate form: typing an Other amount selects "Other" (the preset it replaces is no longer
// highlighted); clearing it again brings that preset back. A refused amount says why at once.
(function () {
  "use strict";
  var form = document.querySelector("form.donate-form");
  if (!form) return;
  var custom = form.querySelector("[name=custom_amount]");
  var hint = document.getElementById("amount-live");
  var previous = null;
  var other = function () { return form.querySelector("input[name=preset][value=other]"); };
  custom.addEventListener("input", function () {
    var checked = form.querySelector("[name=preset]:checked");
    if (custom.value.trim()) {
      if (checked && checked.value !== "other") previous = checked.value;
      if (other()) other().checked = true;
    } else if (previous !== null) {
      var back = form.querySelector("input[name=preset][value='" + previous + "']");
      if (back) back.checked = true;
    }
  });
  form.addEventListener("change", function (event) {
    // Choosing a preset button means that amount: an Other amount no longer applies.
    if (event.target.name === "preset" && event.target.value !== "other") { custom.value = ""; previous = null; }
  });
  var show = function () {
    if (!hint) return;
    var gift = campaignDonateGift(form);
    hint.textContent = gift.error;
    if (gift.error) custom.setAttribute("aria-invalid", "true");
    else custom.removeAttribute("aria-invalid");
  };
  form.addEventListener("input", show);
  form.addEventListener("change", show);
  // After a server-side error: the error summary takes focus (also without JS: autofocus).
  var summary = document.getElementById("error-summary");
  if (summary) {
    if (document.activeElement !== summary) summary.focus();
    // Each link puts the keyboard in its field (a plain anchor would only scroll there).
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      var details = field.closest("details");
      if (details) details.open = true;
      field.focus();
      field.scrollIntoView({ block: "center" });
    });
  }
})();

// Donate form: show the exact fee that "cover the fee" adds for the chosen amount, with the
// chosen currency's fixed fee (the server charges that one).
(function () {
  "use strict";
  var form = document.querySelector("form.donate-form");
  if (!form) return;
  var note = form.querySelector(".fee-note");
  var percent = form.dataset.feePercent;
  var pct = parseFloat(percent) / 100;
  var info = JSON.parse(form.dataset.currencies || "{}");
  var projectCurrency = form.dataset.projectCurrency || "USD";
  var currency = form.querySelector("[name=currency]");
  var amount = function () { return campaignDonateGift(form).amount; };
  var update = function () {
    if (!note) return;
    var cur = currency ? currency.value : projectCurrency;
    var c = info[cur] || { fee_fixed: form.dataset.feeFixed, digits: 2 };
    var gift = amount();
    if (!(gift > 0)) {
      note.textContent = campaignT("(adds %(percent)s% + %(fixed)s %(currency)s)", {
        percent: parseFloat(percent).toLocaleString(campaignLang()),
        fixed: parseFloat(c.fee_fixed).toLocaleString(campaignLang(), { minimumFractionDigits: c.digits }),
        currency: cur
      });
      return;
    }
    var fixed = parseFloat(c.fee_fixed);
    var unit = Math.pow(10, c.digits);
    var fee = Math.ceil(((gift + fixed) / (1 - pct) - gift) * unit - 1e-9) / unit;
    note.textContent = campaignT("(adds %(fee)s)", { fee: new Intl.NumberFormat(campaignLang(), {
      style: "currency", currency: cur,
      minimumFractionDigits: c.digits, maximumFractionDigits: c.digits
    }).format(fee) });
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();

// Donate form with an open match: "your $70 becomes $140" for any amount typed. The pools'
// remaining match is in the project's currency: a gift in another currency is matched at
// the rate Stripe settles it, so no doubled amount is guessed for it.
(function () {
  "use strict";
  var form = document.querySelector("form.donate-form[data-match-pools]");
  var live = document.getElementById("match-live");
  if (!form || !live) return;
  var pools = form.dataset.matchPools.split(",").map(function (p) {
    var parts = p.split(":");
    return { ratio: parseFloat(parts[0]), left: parseFloat(parts[1]) };
  });
  var projectCurrency = form.dataset.projectCurrency || "USD";
  var currency = form.querySelector("[name=currency]");
  var show = function () {
    var gift = campaignDonateGift(form).amount;
    if (!(gift > 0)) { live.textContent = ""; return; }
    var cur = currency ? currency.value : projectCurrency;
    if (cur !== projectCurrency) {
      live.textContent = campaignT(
        "Matched %(label)s at the rate Stripe settles it (up to %(left)s of match left).",
        { label: form.dataset.matchLabel, left: form.dataset.matchLeft });
      return;
    }
    // Same rule as MatchOffer.match_for (donations/selectors.py): rounded down to the
    // currency's minor unit (whole yen), never more than a pool has left.
    var info = JSON.parse(form.dataset.currencies || "{}");
    var unit = Math.pow(10, (info[cur] || { digits: 2 }).digits);
    var unmatched = gift, match = 0;
    pools.forEach(function (p) {
      if (unmatched <= 0) return;
      var give = Math.min(Math.floor(p.ratio * unmatched * unit) / unit, p.left);
      if (give > 0) { match += give; unmatched -= give / p.ratio; }
    });
    var fmt = function (n) {
      var whole = Math.round(n * 100) % 100 === 0;
      return new Intl.NumberFormat(campaignLang(), {
        style: "currency", currency: cur,
        minimumFractionDigits: whole ? 0 : undefined, maximumFractionDigits: whole ? 0 : undefined
      }).format(n);
    };
    live.textContent = campaignT("Your %(gift)s becomes %(total)s with the match.",
      { gift: fmt(gift), total: fmt(gift + match) });
  };
  form.addEventListener("input", show);
  form.addEventListener("change", show);
  show();
})();

// Phones: the sticky Donate bar steps aside while the donate panel is on screen, so it never
// covers the form (or a focused field in it); without JS it simply stays.
(function () {
  "use strict";
  var bar = document.querySelector(".donate-bar");
  var panel = document.getElementById("donate");
  if (!bar || !panel || !("IntersectionObserver" in window)) return;
  var seen = false, focused = false;
  var set = function () { bar.classList.toggle("is-hidden", seen || focused); };
  new IntersectionObserver(function (entries) {
    seen = entries[0].isIntersecting; set();
  }, { rootMargin: "0px 0px -45% 0px" }).observe(panel); // once it fills the upper half
  panel.addEventListener("focusin", function () { focused = true; set(); });
  panel.addEventListener("focusout", function () { focused = false; set(); });
  bar.querySelector("a").addEventListener("click", function (event) {
    // Take the donor to the form and put the keyboard there too.
    event.preventDefault();
    panel.scrollIntoView({ behavior: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth", block: "start" });
    panel.focus({ preventScroll: true });
    history.replaceState(null, "", "#donate");
  });
})();
