// Registry pages: Bootstrap classes for the widgets Django renders, and nothing the pages need to work:
// every form is a plain GET/POST form, htmx only makes the resident and household lists live.
(function () {
  "use strict";
  function dress(root) {
    root.querySelectorAll("select:not(.form-select)").forEach(function (el) { el.classList.add("form-select"); });
    root.querySelectorAll(
      "form.dressed input:not([type=checkbox]):not([type=radio]):not([type=hidden]):not(.form-control), form.dressed textarea"
    ).forEach(function (el) { el.classList.add("form-control"); });
    root.querySelectorAll("form.dressed input[type=checkbox]:not(.form-check-input)").forEach(function (el) {
      el.classList.add("form-check-input");
    });
  }
  dress(document);
  document.body.addEventListener("htmx:afterSwap", function (event) { dress(event.target); });
})();
