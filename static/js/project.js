// Progressive enhancement: the calculator updates as the donor types. Without JS the
// form submits and the server answers with the same figure.
(function () {
  "use strict";
  var article = document.querySelector("article.project");
  var input = document.getElementById("id_gift");
  var output = document.getElementById("calc-output");
  if (!article || !input || !output) return;
  var acres = parseFloat(article.dataset.acres);
  var cost = parseFloat(article.dataset.cost);
  var currency = article.dataset.currency;
  var fmt = function (amount) {
    var whole = Math.round(amount * 100) % 100 === 0;
    return new Intl.NumberFormat("en-US", {
      style: "currency", currency: currency,
      minimumFractionDigits: whole ? 0 : undefined, maximumFractionDigits: whole ? 0 : undefined
    }).format(amount);
  };
  var update = function () {
    var gift = parseFloat(input.value);
    if (!(gift > 0)) return;
    var protectedAcres = gift * acres / cost;
    var shown = protectedAcres >= 10 ? Math.round(protectedAcres) : Math.round(protectedAcres * 10) / 10;
    output.innerHTML = "";
    var a = document.createElement("strong"); a.textContent = fmt(gift);
    var b = document.createElement("strong"); b.textContent = shown.toLocaleString("en-US") + " acres";
    output.append(a, " protects ", b);
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
    box.insertBefore(fresh, other);
    shown = cur;
  };
  // On the select itself, so the presets are swapped before the form-wide listeners below run.
  select.addEventListener("change", swap);
  swap(); // the browser may have restored another currency (back button)
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
  var custom = form.querySelector("[name=custom_amount]");
  var amount = function () {
    var typed = parseFloat(custom.value);
    if (typed > 0) return typed;
    var checked = form.querySelector("[name=preset]:checked");
    return checked && checked.value !== "other" ? parseFloat(checked.value) : NaN;
  };
  var update = function () {
    if (!note) return;
    var cur = currency ? currency.value : projectCurrency;
    var c = info[cur] || { fee_fixed: form.dataset.feeFixed, digits: 2 };
    var gift = amount();
    if (!(gift > 0)) {
      note.textContent = "(adds " + percent + "% + " + c.fee_fixed + " " + cur + ")";
      return;
    }
    var fixed = parseFloat(c.fee_fixed);
    var unit = Math.pow(10, c.digits);
    var fee = Math.ceil(((gift + fixed) / (1 - pct) - gift) * unit - 1e-9) / unit;
    note.textContent = "(adds " + new Intl.NumberFormat("en-US", {
      style: "currency", currency: cur,
      minimumFractionDigits: c.digits, maximumFractionDigits: c.digits
    }).format(fee) + ")";
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
  var custom = form.querySelector("[name=custom_amount]");
  var currency = form.querySelector("[name=currency]");
  var show = function () {
    var gift = parseFloat(custom.value);
    var checked = form.querySelector("[name=preset]:checked");
    if (!(gift > 0) && checked && checked.value !== "other") gift = parseFloat(checked.value);
    if (!(gift > 0)) { live.textContent = ""; return; }
    var cur = currency ? currency.value : projectCurrency;
    if (cur !== projectCurrency) {
      live.textContent = "Matched " + form.dataset.matchLabel + " at the rate Stripe settles it (up to " +
        form.dataset.matchLeft + " of match left).";
      return;
    }
    var unmatched = gift, match = 0;
    pools.forEach(function (p) {
      if (unmatched <= 0) return;
      var give = Math.min(Math.floor(p.ratio * unmatched * 100) / 100, p.left);
      if (give > 0) { match += give; unmatched -= give / p.ratio; }
    });
    var fmt = function (n) {
      var whole = Math.round(n * 100) % 100 === 0;
      return new Intl.NumberFormat("en-US", {
        style: "currency", currency: cur,
        minimumFractionDigits: whole ? 0 : undefined, maximumFractionDigits: whole ? 0 : undefined
      }).format(n);
    };
    live.textContent = "Your " + fmt(gift) + " becomes " + fmt(gift + match) + " with the match.";
  };
  form.addEventListener("input", show);
  form.addEventListener("change", show);
  show();
})();
