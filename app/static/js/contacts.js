// Client bases, contacts, tags: search as you type (replaces the results in place), "select all".
// Confirmations (data-confirm) are handled once for every page in crm.js.
(function () {
  var form = document.getElementById("contact-filters");
  var input = document.getElementById("contact-search");
  var results = document.getElementById("contact-results");
  if (form && input && results) {
    var timer = null, seq = 0;
    var refresh = function () {
      var params = new URLSearchParams(new FormData(form));
      var url = window.location.pathname + "?" + params.toString();
      var mine = ++seq;
      params.set("partial", "1");
      fetch(window.location.pathname + "?" + params.toString(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null || mine !== seq) return;
          results.innerHTML = html;
          if (window.history && history.replaceState) history.replaceState(null, "", url);
        });
    };
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    ["tag-filter", "sort"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.addEventListener("change", refresh);
    });
  }
  var all = document.getElementById("select-all");
  if (all) all.addEventListener("change", function () {
    document.querySelectorAll("#contact-results .row-check").forEach(function (cb) { cb.checked = all.checked; });
  });
})();
