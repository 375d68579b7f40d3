// Progressive enhancement: the calculator's sentence follows the donor's typing. Every figure
// and word of it is the server's: acres.json (projects.views.acres_json) answers with the
// same _calc_result.html the page shows without JS, or the form's own message. The acres rule
// lives in Project.acres_for only (with "about" and "would fund the whole project" decided in
// Python beside it); this script computes none of it. Without JS the form submits and the
// server answers with the same sentence.
(function () {
  "use strict";
  var form = document.getElementById("calculator");
  var input = document.getElementById("id_gift");
  var output = document.getElementById("calc-output");
  var error = document.getElementById("calc-error");
  if (!form || !input || !output || !error || !form.dataset.acresUrl) return;
  // The amount as sent -> the server's answer; the default gift's and the presets' are in
  // the page (projects.views._calculator_answers), the others come from acres.json.
  var answers = JSON.parse(form.dataset.answers || "{}");
  var fail = function (message) {
    output.replaceChildren();
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", "calc-hint calc-error");
  };
  var show = function (answer) {
    output.removeAttribute("aria-busy");
    if (!answer) { output.replaceChildren(); return; } // no answer: no figure (never a stale one)
    if (answer.error) { fail(answer.error); return; }
    error.hidden = true;
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", "calc-hint");
    output.innerHTML = answer.html; // our own server's fragment (the page's template)
  };
  var asked = 0, timer = null;
  var update = function () {
    // As the donor writes it in the page's language ("12,5" in Spanish); the server checks it.
    var raw = campaignAmountRaw(input.value.trim().replace(/^\$\s*/, ""));
    asked += 1;
    clearTimeout(timer);
    if (raw === "") { output.replaceChildren(); error.hidden = true; return; }
    if (answers[raw]) { show(answers[raw]); return; }
    var mine = asked;
    output.setAttribute("aria-busy", "true");
    timer = setTimeout(function () {
      var url = new URL(form.dataset.acresUrl, window.location.href);
      url.searchParams.set("gift", raw);
      fetch(url.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok || response.status === 400 ? response.json() : null;
        })
        .then(function (answer) {
          if (answer) answers[raw] = answer;
          if (mine === asked) show(answer); // a slower answer for an older amount is dropped
        })
        .catch(function () { if (mine === asked) show(null); });
    }, 120);
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

// Donate form: the fee that "cover the fee" adds for the chosen amount and, with an open
// match, "your $70 becomes $140". Every figure is the server's (donations.selectors.gift_quote:
// giving.fee_to_cover and the match rule, matching.match_split); this script computes none.
// The presets' quotes are in the page (data-quotes), any other amount's are asked of
// quote.json. Without JavaScript the note names the fee's rule and the presets say "becomes".
(function () {
  "use strict";
  var form = document.querySelector("form.donate-form");
  if (!form) return;
  var note = form.querySelector(".fee-note");
  var live = document.getElementById("match-live");
  var cover = form.querySelector("[name=cover_fee]");
  var percent = form.dataset.feePercent;
  var info = JSON.parse(form.dataset.currencies || "{}");
  var url = form.dataset.quoteUrl;
  var quotes = {}; // "USD 70 1" (currency, amount, fee covered) -> the server's quote
  var known = JSON.parse(form.dataset.quotes || "{}");
  Object.keys(known).forEach(function (cur) {
    Object.keys(known[cur]).forEach(function (value) {
      quotes[cur + " " + value + " 0"] = known[cur][value][0];
      quotes[cur + " " + value + " 1"] = known[cur][value][1];
    });
  });
  var digits = function (cur) { return (info[cur] || { digits: 2 }).digits; };
  var exact = function (amount, cur) { // the fee: every minor unit shown
    return new Intl.NumberFormat(campaignLang(), {
      style: "currency", currency: cur,
      minimumFractionDigits: digits(cur), maximumFractionDigits: digits(cur)
    }).format(parseFloat(amount));
  };
  var short = function (amount, cur) { // a gift: $50, $123.45
    var n = parseFloat(amount);
    var whole = Math.round(n * 100) % 100 === 0;
    return new Intl.NumberFormat(campaignLang(), {
      style: "currency", currency: cur,
      minimumFractionDigits: whole ? 0 : undefined, maximumFractionDigits: whole ? 0 : undefined
    }).format(n);
  };
  var show = function (quote, cur) {
    if (note) {
      if (quote) {
        note.textContent = campaignT("(adds %(fee)s)", { fee: exact(quote.fee, cur) });
      } else {
        var c = info[cur] || { fee_fixed: form.dataset.feeFixed, digits: 2 };
        note.textContent = campaignT("(adds %(percent)s% + %(fixed)s %(currency)s)", {
          percent: parseFloat(percent).toLocaleString(campaignLang()),
          fixed: parseFloat(c.fee_fixed).toLocaleString(campaignLang(), { minimumFractionDigits: c.digits }),
          currency: cur
        });
      }
    }
    if (!live) return;
    if (quote && quote.matched_at_settlement) {
      live.textContent = campaignT(
        "Matched %(label)s at the rate Stripe settles it (up to %(left)s of match left).",
        { label: form.dataset.matchLabel, left: form.dataset.matchLeft });
    } else if (quote && quote.becomes !== null) {
      live.textContent = campaignT("Your %(gift)s becomes %(total)s with the match.",
        { gift: short(quote.amount, cur), total: short(quote.becomes, cur) });
    } else {
      live.textContent = "";
    }
  };
  var asked = 0, timer = null;
  var update = function () {
    var gift = campaignDonateGift(form);
    var cur = gift.currency;
    var covered = cover && cover.checked ? "1" : "0";
    asked += 1;
    clearTimeout(timer);
    if (!(gift.amount > 0)) { show(null, cur); return; }
    var amount = String(gift.amount);
    var key = cur + " " + amount + " " + covered;
    if (quotes[key] || !url) { show(quotes[key] || null, cur); return; }
    var mine = asked;
    timer = setTimeout(function () {
      var query = new URLSearchParams({ amount: amount, currency: cur, cover_fee: covered });
      fetch(url + "?" + query.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (quote) {
          if (quote) quotes[key] = quote;
          if (mine === asked) show(quote, cur); // a slower answer for an older amount is dropped
        })
        .catch(function () { if (mine === asked) show(null, cur); });
    }, 120);
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
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
