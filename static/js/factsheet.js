// The fact sheet's print button (no inline handlers: the Content-Security-Policy forbids them).
(function () {
  "use strict";
  var button = document.querySelector("[data-action='print']");
  if (button) button.addEventListener("click", function () { window.print(); });
})();
