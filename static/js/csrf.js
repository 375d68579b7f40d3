// Cached pages are the same for every visitor, so their forms carry no CSRF token
// (campaign/pagecache.py). Fetch this visitor's own token (the response also sets the
// cookie) when they first touch a form, or at the latest when they submit it.
(function () {
  "use strict";
  var url = document.currentScript && document.currentScript.dataset.url;
  if (!url) return;
  var pending = null;
  var token = function () {
    if (!pending) {
      pending = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) throw new Error("CSRF token: HTTP " + r.status);
          return r.json();
        })
        .then(function (data) { return data.token; })
        .catch(function (err) { pending = null; throw err; });
    }
    return pending;
  };
  document.querySelectorAll("form[method=post], form[method=POST]").forEach(function (form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "csrfmiddlewaretoken";
      form.prepend(field);
    }
    if (field.value) return;
    var fill = function () { return token().then(function (t) { field.value = t; }); };
    form.addEventListener("focusin", function () { fill().catch(function () {}); }, { once: true });
    var tried = false;
    form.addEventListener("submit", function (event) {
      if (field.value || tried) return;
      tried = true;
      event.preventDefault();
      var submitter = event.submitter;
      // Without a token the server shows the form again with one (donations.views.csrf_failure).
      fill().catch(function () {}).then(function () {
        if (form.requestSubmit) form.requestSubmit(submitter || undefined);
        else form.submit();
      });
    });
  });
})();
