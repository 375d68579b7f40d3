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
