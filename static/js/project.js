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

// Donate form: show the exact fee that "cover the fee" adds for the chosen amount.
(function () {
  "use strict";
  var form = document.querySelector("form.donate-form");
  if (!form) return;
  var note = form.querySelector(".fee-note");
  var pct = parseFloat(form.dataset.feePercent) / 100;
  var fixed = parseFloat(form.dataset.feeFixed);
  var currency = form.querySelector("[name=currency]");
  var custom = form.querySelector("[name=custom_amount]");
  var amount = function () {
    var typed = parseFloat(custom.value);
    if (typed > 0) return typed;
    var checked = form.querySelector("[name=preset]:checked");
    return checked && checked.value !== "other" ? parseFloat(checked.value) : NaN;
  };
  var update = function () {
    var gift = amount();
    if (!note || !(gift > 0)) return;
    var cur = currency ? currency.value : "USD";
    var digits = cur === "JPY" ? 0 : 2;
    var unit = Math.pow(10, digits);
    var fee = Math.ceil(((gift + fixed) / (1 - pct) - gift) * unit - 1e-9) / unit;
    note.textContent = "(adds " + new Intl.NumberFormat("en-US", { style: "currency", currency: cur }).format(fee) + ")";
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();

// Donate form with an open match: "your $70 becomes $140" for any amount typed.
(function () {
  "use strict";
  var form = document.querySelector("form.donate-form[data-match-pools]");
  var live = document.getElementById("match-live");
  if (!form || !live) return;
  var pools = form.dataset.matchPools.split(",").map(function (p) {
    var parts = p.split(":");
    return { ratio: parseFloat(parts[0]), left: parseFloat(parts[1]) };
  });
  var custom = form.querySelector("[name=custom_amount]");
  var currency = form.querySelector("[name=currency]");
  var show = function () {
    var gift = parseFloat(custom.value);
    var checked = form.querySelector("[name=preset]:checked");
    if (!(gift > 0) && checked && checked.value !== "other") gift = parseFloat(checked.value);
    if (!(gift > 0)) { live.textContent = ""; return; }
    var unmatched = gift, match = 0;
    pools.forEach(function (p) {
      if (unmatched <= 0) return;
      var give = Math.min(Math.floor(p.ratio * unmatched * 100) / 100, p.left);
      if (give > 0) { match += give; unmatched -= give / p.ratio; }
    });
    var cur = currency ? currency.value : "USD";
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
