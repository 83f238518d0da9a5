// "Mailing" settings tab: provider presets of the mailbox form, progress of a mailbox's verification.
(function () {
  var form = document.getElementById("mailbox-form");
  if (form) {
    var presets = JSON.parse(form.getAttribute("data-presets") || "{}");
    var select = document.getElementById("provider");
    var note = document.getElementById("preset-note");
    var fill = function () {
      var p = presets[select.value];
      note.textContent = p ? p.note : "";
      if (!p) return;
      ["smtp_host", "smtp_port", "smtp_security", "imap_host", "imap_port", "imap_security"].forEach(function (k) {
        var el = document.getElementById(k);
        if (el) el.value = p[k];
      });
      var email = document.getElementById("email"), login = document.getElementById("login");
      if (email && login && !login.value) login.value = email.value;
    };
    if (select) select.addEventListener("change", fill);
  }

  var box = document.getElementById("mailbox-verification");
  if (!box || box.getAttribute("data-finished") === "1") return;
  var url = box.getAttribute("data-progress-url");
  var icons = { done: "fa-check text-success", current: "fa-spinner fa-spin text-info", failed: "fa-xmark text-danger", waiting: "fa-circle text-muted" };
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        d.steps.forEach(function (s) {
          var li = box.querySelector('[data-step="' + s.key + '"]');
          if (!li) return;
          li.className = "verify-step step-" + s.status;
          li.querySelector("i").className = "fa " + icons[s.status];
        });
        if (!d.running) { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
