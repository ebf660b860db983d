/* Progressive enhancement for our forms; every form works without this file.
 *  - [data-once] buttons: a second click does not submit again (no double-logged sessions).
 *  - form[data-keepalive]: while someone types, the sign-in stays alive and the CSRF token fresh,
 *    and if the sign-in has expired they are told how to save without losing what they typed.
 *  - form[data-warn-unsaved]: the browser asks before leaving unsaved changes.
 *  - after a failed save the error summary takes focus, so screen readers announce it.
 */
(function () {
  "use strict";

  var KEEPALIVE_EVERY_MS = 4 * 60 * 1000;

  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  function submitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting) {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "1";
      each("[data-once]", function (button) {
        button.classList.add("disabled");
        button.setAttribute("aria-disabled", "true");
      }, form);
    });
  }

  // Coming back with the Back button restores the page from cache: let it submit again.
  window.addEventListener("pageshow", function () {
    each("form[data-submitting]", function (form) {
      delete form.dataset.submitting;
      each("[data-once]", function (button) {
        button.classList.remove("disabled");
        button.removeAttribute("aria-disabled");
      }, form);
    });
  });

  function keepAlive(form) {
    var url = form.dataset.keepalive;
    var last = Date.now();
    var banner = null;

    function showExpired(loginUrl) {
      if (banner) return;
      banner = document.createElement("div");
      banner.className = "alert alert-warning";
      banner.setAttribute("role", "alert");
      banner.appendChild(document.createTextNode("Your sign-in has expired. What you typed is still here: "));
      var link = document.createElement("a");
      link.href = loginUrl || "/accounts/login/";
      link.target = "_blank";
      link.rel = "noopener";
      link.className = "alert-link";
      link.textContent = "sign in again in a new tab";
      banner.appendChild(link);
      banner.appendChild(document.createTextNode(", then come back to this tab and save."));
      form.insertBefore(banner, form.firstChild);
    }

    function ping() {
      last = Date.now();
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (result) {
          if (result.ok && result.body.csrf) {
            each("input[name=csrfmiddlewaretoken]", function (input) {
              input.value = result.body.csrf;
            });
            if (banner) {
              banner.remove();
              banner = null;
            }
          } else if (result.body && result.body.signed_in === false) {
            showExpired(result.body.login_url);
          }
        })
        .catch(function () {
          /* offline for a moment: the next keystroke tries again */
        });
    }

    ["input", "change"].forEach(function (type) {
      form.addEventListener(type, function () {
        if (Date.now() - last > KEEPALIVE_EVERY_MS) ping();
      });
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") ping();
    });
  }

  function warnUnsaved(form) {
    // After a failed save nothing is stored yet, so the form counts as unsaved from the start.
    var dirty = !!document.querySelector("[data-autofocus]");
    function mark() {
      dirty = true;
    }
    form.addEventListener("input", mark);
    form.addEventListener("change", mark);
    form.addEventListener("submit", function () {
      dirty = false;
    });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  each("form", function (form) {
    if (form.querySelector("[data-once]")) submitOnce(form);
    if (form.dataset.keepalive) keepAlive(form);
    if (form.hasAttribute("data-warn-unsaved")) warnUnsaved(form);
  });

  var summary = document.querySelector("[data-autofocus]");
  if (summary) summary.focus();
})();
