/* Log-a-session form: live scores and severity as answers are chosen (sums, the OCI's mean-replaced
 * missing items, the Mobility Inventory's mean), the risk-note prompt for PHQ-9 item 9, and number keys
 * to answer an item and move to the next one.
 * Progressive enhancement only: the server scores and validates everything, and the page shows the
 * same totals after a save attempt without this script.
 */
(function () {
  "use strict";

  var specElement = document.getElementById("questionnaire-spec");
  var form = document.getElementById("session-form");
  if (!specElement || !form) return;
  var spec = JSON.parse(specElement.textContent);

  function bandOf(instrument, total) {
    for (var i = 0; i < instrument.bands.length; i++) {
      var band = instrument.bands[i];
      if (total >= band[0] && total <= band[1]) return band[2];
    }
    return "";
  }

  function severitySpan(label) {
    var span = document.createElement("span");
    span.className = "severity-" + label.replace(/\s+/g, "-");
    span.textContent = label;
    return span;
  }

  function isCase(instrument, value) {
    if (instrument.caseness === null) return false;
    return instrument.caseness_op === ">" ? value > instrument.caseness : value >= instrument.caseness;
  }

  /* The score once enough items are answered, else null (the server scores the same way). */
  function scoreOf(instrument, answers) {
    var given = answers.filter(function (a) { return a !== null; });
    var missing = instrument.count - given.length;
    if (!given.length || missing > instrument.max_missing) return null;
    var sum = 0;
    answers.forEach(function (a, i) {
      if (a === null) return;
      var reversed = instrument.reverse.indexOf(i + 1) !== -1;
      sum += reversed ? instrument.item_min + instrument.item_max - a : a;
    });
    if (instrument.scoring === "mean") return (Math.round((sum / given.length) * 100) / 100).toFixed(2);
    if (missing) sum += (missing * sum) / given.length;
    return String(Math.round(sum));
  }

  function render(target, instrument, answered, total, long) {
    if (!target) return;
    target.textContent = "";
    if (total !== null) {
      var value = parseFloat(total);
      var band = bandOf(instrument, value);
      var word = instrument.scoring === "mean" ? " mean " : " total ";
      target.appendChild(document.createTextNode(instrument.name + (long ? word : ": ")));
      var strong = document.createElement("strong");
      strong.textContent = total;
      target.appendChild(strong);
      target.appendChild(document.createTextNode(long ? " of " + instrument.max + (band ? ": " : "") : " "));
      if (band) target.appendChild(severitySpan(band));
      if (long && isCase(instrument, value)) {
        var sign = instrument.caseness_op === ">" ? "above" : "at or above";
        target.appendChild(document.createTextNode(" (" + sign + " caseness, " + instrument.caseness + ")"));
      }
    } else {
      target.textContent =
        instrument.name + ": " + answered + (long ? " of " + instrument.count + " answered" : "/" + instrument.count);
    }
  }

  function update(fieldset) {
    var code = fieldset.dataset.questionnaire;
    var instrument = spec[code];
    if (!instrument || !instrument.count) return;
    var answers = [];
    var riskValue = 0;
    Array.prototype.forEach.call(fieldset.querySelectorAll("[data-item]"), function (item) {
      var checked = item.querySelector("input[type=radio]:checked");
      if (!checked) {
        answers.push(null);
        return;
      }
      var value = parseInt(checked.value, 10);
      answers.push(value);
      if (instrument.risk_item && parseInt(item.dataset.item, 10) === instrument.risk_item) riskValue = value;
      // An item the server reported as unanswered is answered now.
      item.classList.remove("q-item-invalid");
      item.removeAttribute("aria-invalid");
      var badge = item.querySelector("legend .badge");
      if (badge) badge.remove();
    });
    var answered = answers.filter(function (a) { return a !== null; }).length;
    var total = scoreOf(instrument, answers);
    render(fieldset.querySelector("[data-total-for]"), instrument, answered, total, true);
    render(document.querySelector('[data-footer-total="' + code + '"]'), instrument, answered, total, false);
    if (instrument.risk_item) showRisk(riskValue > 0);
  }

  function showRisk(on) {
    var alert = document.getElementById("risk-alert");
    var note = document.getElementById("id_risk_note");
    if (alert) alert.hidden = !on;
    if (note) {
      if (on) note.setAttribute("aria-required", "true");
      else note.removeAttribute("aria-required");
      note.classList.toggle("border-warning", on);
    }
  }

  var fieldsets = form.querySelectorAll("[data-questionnaire]");
  Array.prototype.forEach.call(fieldsets, function (fieldset) {
    fieldset.addEventListener("change", function () {
      update(fieldset);
    });
    update(fieldset);
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) saves from anywhere in the form, as the Save button does.
  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.altKey) return;
    var save = document.getElementById("save-session");
    if (!save) return;
    event.preventDefault();
    if (typeof form.requestSubmit === "function") form.requestSubmit(save);
    else save.click();
  });

  // Opened from an appointment: the focus starts on the first unanswered questionnaire item.
  if (form.hasAttribute("data-focus-first-unanswered")) {
    var first = Array.prototype.filter.call(form.querySelectorAll("[data-item]"), function (el) {
      return el.offsetParent !== null && !el.querySelector("input[type=radio]:checked");
    })[0];
    if (first) first.querySelector("input[type=radio]").focus();
  }

  // Number keys answer the focused item and move to the next visible one.
  form.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "radio") return;
    var item = input.closest("[data-item]");
    if (!item || !/^[0-9]$/.test(event.key) || event.ctrlKey || event.metaKey || event.altKey) return;
    var choice = item.querySelector('input[type=radio][value="' + event.key + '"]');
    if (!choice) return;
    event.preventDefault();
    choice.checked = true;
    choice.dispatchEvent(new Event("change", { bubbles: true }));
    var items = Array.prototype.filter.call(form.querySelectorAll("[data-item]"), function (el) {
      return el.offsetParent !== null;
    });
    var next = items[items.indexOf(item) + 1];
    if (next) {
      (next.querySelector("input[type=radio]:checked") || next.querySelector("input[type=radio]")).focus();
    } else {
      choice.focus();
    }
  });
})();
