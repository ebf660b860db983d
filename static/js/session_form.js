/* Log-a-session form: live totals and severity as answers are chosen, the risk-note prompt for
 * PHQ-9 item 9, and number keys to answer an item and move to the next one.
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

  function render(target, instrument, answered, total, long) {
    if (!target) return;
    target.textContent = "";
    if (answered === instrument.count) {
      var band = bandOf(instrument, total);
      target.appendChild(document.createTextNode(instrument.name + (long ? " total " : ": ")));
      var strong = document.createElement("strong");
      strong.textContent = String(total);
      target.appendChild(strong);
      target.appendChild(document.createTextNode(long ? " of " + instrument.max + ": " : " "));
      target.appendChild(severitySpan(band));
      if (long && instrument.caseness !== null && total >= instrument.caseness) {
        target.appendChild(document.createTextNode(" (at or above caseness, " + instrument.caseness + ")"));
      }
    } else {
      target.textContent =
        instrument.name + ": " + answered + (long ? " of " + instrument.count + " answered" : "/" + instrument.count);
    }
  }

  function update(fieldset) {
    var code = fieldset.dataset.questionnaire;
    var instrument = spec[code];
    var answered = 0;
    var total = 0;
    var riskValue = 0;
    Array.prototype.forEach.call(fieldset.querySelectorAll("[data-item]"), function (item) {
      var checked = item.querySelector("input[type=radio]:checked");
      if (!checked) return;
      answered += 1;
      var value = parseInt(checked.value, 10);
      total += value;
      if (instrument.risk_item && parseInt(item.dataset.item, 10) === instrument.risk_item) riskValue = value;
      // An item the server reported as unanswered is answered now.
      item.classList.remove("q-item-invalid");
      item.removeAttribute("aria-invalid");
      var badge = item.querySelector("legend .badge");
      if (badge) badge.remove();
    });
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
