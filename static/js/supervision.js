// Supervision pages: progressive enhancement only (every page works without it).
(function () {
  "use strict";
  // Print buttons.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // A decision row shows the step and end-code choices only when its decision uses them.
  function sync(row) {
    var select = row.querySelector("select[name$='-decision']");
    if (!select) { return; }
    var value = select.value;
    row.querySelectorAll("[data-when]").forEach(function (el) {
      var show = el.getAttribute("data-when").split(" ").indexOf(value) !== -1;
      var field = el.querySelector("select");
      var hasValue = field && field.value !== "";
      el.hidden = !show && !hasValue && !el.querySelector(".is-invalid");
    });
  }
  document.querySelectorAll("[data-decision-row]").forEach(function (row) {
    sync(row);
    var select = row.querySelector("select[name$='-decision']");
    if (select) { select.addEventListener("change", function () { sync(row); }); }
  });
})();
