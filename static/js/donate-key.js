// The donate form's idempotency key: one per press of Donate, made here because the page is
// the same cached copy for every visitor. nginx may hand a post that a dying app node had
// read to the other node; with the key the app answers with the gift already started
// (donations.services.giving.donation_by_key) instead of starting a second one. The same
// form contents pressed again (a double click, Back from Checkout) keep their key; changed
// contents get a new one. Without JavaScript the field stays empty: no key, as before.
(function () {
  "use strict";
  var uuid4 = function () {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));  // randomUUID needs https
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  };
  var contents = function (form, field) {
    var parts = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== field.name && name !== "csrfmiddlewaretoken") parts.push(name + "=" + value);
    });
    return parts.join("&");
  };
  document.querySelectorAll("form input[name=idempotency_key]").forEach(function (field) {
    var form = field.form;
    var pressed = null;
    // Capture: set before any other submit handler looks at (or re-submits) the form.
    form.addEventListener("submit", function () {
      var now = contents(form, field);
      if (!field.value || now !== pressed) {
        field.value = uuid4();
        pressed = now;
      }
    }, true);
  });
})();
