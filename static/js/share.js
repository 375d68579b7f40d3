// Share links: the copy button (shown only when this script runs; without it the donor
// selects the link in the box), and the referral code a shared link carried, kept for the
// donate form even when the page came from a cache that ignores query strings.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll(".share-copy-button"), function (button) {
    var input = document.getElementById(button.dataset.copyFrom);
    var status = button.closest(".share").querySelector(".share-status");
    if (!input) return;
    button.hidden = false;
    var done = function (ok) {
      if (status) status.textContent = campaignT(ok ? "Link copied." : "Select the link and copy it.");
    };
    button.addEventListener("click", function () {
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () {
          done(false);
        });
        return;
      }
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    });
  });
  var ref = new URLSearchParams(window.location.search).get("ref");
  if (ref) {
    Array.prototype.forEach.call(document.querySelectorAll("form.donate-form input[name=ref]"), function (input) {
      if (!input.value) input.value = ref;
    });
  }
})();
