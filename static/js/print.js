// Printed pages say when they were printed: the time the page was loaded is replaced by the time of
// printing (base.html's banner and the page-margin line of its print style).
(function () {
  "use strict";
  function stamp() {
    var now = new Date().toLocaleString("en-GB", {
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    });
    var banner = document.querySelectorAll("[data-printed-on]");
    var previous = banner.length ? banner[0].textContent : null;
    banner.forEach(function (el) { el.textContent = now; });
    var style = document.getElementById("print-page-style");
    if (style && previous) { style.textContent = style.textContent.split(previous).join(now); }
  }
  window.addEventListener("beforeprint", stamp);
})();
