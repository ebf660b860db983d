/* A server-side draft of the session form (form[data-draft] names the endpoint); the form works without it.
 *  - every 30 seconds, when something changed since the last keep, the form is posted to the endpoint
 *    (fetch, a form body with the CSRF token: nothing goes in a URL or in the browser's storage);
 *  - on leaving the page unsaved (closing the tab, following a link, the sign-in running out), the same
 *    body goes by navigator.sendBeacon, which the browser delivers even as the page goes away;
 *  - saving the session does not keep a draft (the server deletes it with the save).
 * The server restores the draft with a notice the next time the form is opened.
 */
(function () {
  "use strict";

  var EVERY_MS = 30 * 1000;
  var form = document.querySelector("form[data-draft]");
  if (!form || !window.FormData) return;
  var url = form.dataset.draft;
  var changed = !!document.querySelector("[data-autofocus]"); // a refused save: what is shown is unkept
  var submitting = false;

  function body() {
    var data = new FormData(form);
    data.delete("form_token");
    data.delete("confirm_duplicate");
    return data;
  }

  function mark() {
    changed = true;
  }

  function keep() {
    if (!changed || submitting) return;
    changed = false;
    fetch(url, {
      method: "POST",
      body: body(),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) changed = true; // try again at the next tick
        return response.ok ? response.json() : null;
      })
      .then(function (result) {
        if (result && result.saved) form.dataset.draftSavedAt = result.saved_at;
      })
      .catch(function () {
        changed = true;
      });
  }

  function leave() {
    if (!changed || submitting) return;
    changed = false;
    if (navigator.sendBeacon) {
      navigator.sendBeacon(url, body());
    }
  }

  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  form.addEventListener("submit", function (event) {
    // "Add another measure" re-renders the form unsaved: only a real save stops the drafts.
    var button = event.submitter;
    if (!button || button.name !== "add_measure") submitting = true;
  });
  window.addEventListener("pageshow", function () {
    submitting = false; // back from the cache: a live form again
  });
  window.setInterval(keep, EVERY_MS);
  window.addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leave();
  });
})();
