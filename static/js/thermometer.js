// The live thermometer: polls the project's small totals endpoint and swaps in the fragment
// the server renders from the same template as the page, so a gift made elsewhere shows
// within seconds without a reload. Changes are announced once through a polite live region.
// Without JavaScript the page is correct on every load.
(function () {
  "use strict";
  var box = document.querySelector("[data-totals-url]");
  if (!box || !window.fetch) return;
  var url = box.dataset.totalsUrl;
  var every = (parseFloat(box.dataset.pollSeconds) || 3) * 1000;
  var announce = document.getElementById("totals-live");
  var last = box.dataset.totalsKey || "";
  var delay = every;
  var apply = function (data) {
    var key = [data.raised, data.matched, data.donor_count].join("|");
    document.querySelectorAll("[data-live=match-remaining]").forEach(function (el) {
      if (data.match_remaining) el.textContent = data.match_remaining;
    });
    if (!data.match_remaining) {
      document.querySelectorAll("[data-live=match-banner]").forEach(function (el) { el.hidden = true; });
    }
    document.querySelectorAll("[data-live=percent-label]").forEach(function (el) {
      el.textContent = data.percent_label;
    });
    if (key === last) return;
    var fresh = document.createElement("template");
    fresh.innerHTML = data.html; // our own server's fragment (the page's template)
    box.replaceChildren(fresh.content);
    box.dataset.totalsKey = key;
    last = key;
    if (announce) announce.textContent = data.summary;
    document.dispatchEvent(new CustomEvent("totals:updated", { detail: data }));
  };
  var poll = function () {
    if (document.visibilityState === "hidden") { setTimeout(poll, every); return; }
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data) { apply(data); delay = every; } else { delay = Math.min(delay * 2, 60000); }
        setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 60000); setTimeout(poll, delay); });
  };
  setTimeout(poll, every);
})();
