// Every console page: the collapsible navigation, Copy buttons ("Copied") and confirmation of
// destructive POSTs.
(function () {
  "use strict";
  var toggle = document.getElementById("nav-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  function fallbackCopy(text) {
    // navigator.clipboard exists only in secure contexts (https or loopback): a console opened on a
    // LAN address over plain http copies through a hidden text area instead.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      var text = document.getElementById(button.dataset.copy).textContent;
      copy(text).then(function () {
        button.textContent = button.dataset.copied || "✓";
        button.classList.add("done");
        document.body.dataset.copied = button.dataset.copy;
      }, function () {
        button.textContent = button.dataset.copyFailed || "✗";
      });
      setTimeout(function () { button.textContent = label; button.classList.remove("done"); }, 2000);
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();
