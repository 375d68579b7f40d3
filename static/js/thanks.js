// Polls the gift's status until it is final; without JS a <noscript> refresh does the same.
(function () {
  "use strict";
  var box = document.querySelector("section.thanks");
  if (!box || box.dataset.final === "true") return;
  var url = box.dataset.statusUrl;
  var delay = 1000;
  var poll = function () {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.final) { window.location.reload(); return; }
        delay = Math.min(delay * 1.5, 10000);
        setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, 5000); });
  };
  setTimeout(poll, delay);
})();
