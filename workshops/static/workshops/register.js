/* Group register: running totals as answers are typed, jump to the next box when a questionnaire is
   complete, show the risk box when PHQ-9 item 9 is above 0, and "everyone attended" in one click.
   The server checks everything again; this only saves keystrokes. */
(function () {
  "use strict";
  var form = document.getElementById("register-form");
  if (!form) return;

  function digits(text) { return (text || "").replace(/[\s,;\/\-]+/g, ""); }

  function update(input) {
    var count = parseInt(input.dataset.items, 10), max = parseInt(input.dataset.max, 10);
    var raw = digits(input.value), out = document.getElementById(input.id + "-total");
    var total = 0, bad = 0;
    for (var i = 0; i < raw.length; i++) {
      var d = raw.charCodeAt(i) - 48;
      if (d < 0 || d > max) { bad = bad || i + 1; } else { total += d; }
    }
    var ok = raw.length === count && !bad;
    if (out) {
      out.textContent = raw.length === 0 ? "" : bad ? "item " + bad + ": answers are 0 to " + max
        : ok ? "total " + total : raw.length + " of " + count + " answers";
      var danger = Boolean(bad) || raw.length > count;
      out.classList.toggle("text-danger", danger);
      out.classList.toggle("text-muted", !danger);
    }
    if (input.dataset.measure === "PHQ9") {
      var row = input.closest("tr"), risk = row && row.querySelector("[data-risk]");
      if (risk) risk.classList.toggle("border-danger", raw.length >= 9 && raw.charAt(8) !== "0");
    }
    return ok;
  }

  form.querySelectorAll("input[data-measure]").forEach(function (input) {
    update(input);
    var before = digits(input.value).length;
    input.addEventListener("input", function () {
      var ok = update(input), now = digits(input.value).length;
      if (ok && now > before && input.dataset.next) {
        var next = document.getElementById(input.dataset.next);
        if (next) next.focus();
      }
      before = now;
    });
  });

  var all = document.getElementById("mark-all-attended");
  if (all) {
    all.addEventListener("click", function () {
      form.querySelectorAll("select[data-attendance]").forEach(function (select) {
        if (!select.value) select.value = "5";
      });
    });
  }
})();
