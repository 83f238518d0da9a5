// Client bases, contacts, tags: search as you type (replaces the results in place), "select all"
// (the page or every contact matching the filter), bulk confirmations with the count.
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
          var allBox = document.getElementById("select-all");
          if (allBox) allBox.checked = false;
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
  // Selection: the ticked rows, or (after "select all" on a page with more matches) every contact
  // matching the filter. Every bulk action asks for confirmation with the count.
  var bulkForm = document.getElementById("bulk-form");
  var all = document.getElementById("select-all");
  function box() { return document.getElementById("select-matching"); }
  function show(id, on) { var el = document.getElementById(id); if (el) el.hidden = !on; }
  function setScope(matching) {
    var b = box();
    if (!b) return;
    document.getElementById("bulk-scope").value = matching ? "all" : "";
    document.getElementById("bulk-expected").value = matching ? b.getAttribute("data-total") : "";
    show("select-page-note", !matching);
    show("select-matching-btn", !matching);
    show("select-matching-note", matching);
    show("select-clear", matching);
  }
  function pageRows() { return document.querySelectorAll("#contact-results .row-check"); }
  function offerMatching() {
    var b = box();
    if (!b) return;
    var more = b.getAttribute("data-total") === "" ||
      parseInt(b.getAttribute("data-total"), 10) > parseInt(b.getAttribute("data-on-page"), 10);
    b.hidden = !(all && all.checked && more);
    setScope(false);
  }
  if (all) all.addEventListener("change", function () {
    pageRows().forEach(function (cb) { cb.checked = all.checked; });
    offerMatching();
  });
  if (results) {
    results.addEventListener("change", function (ev) {
      if (ev.target.classList && ev.target.classList.contains("row-check") && !ev.target.checked && all) {
        all.checked = false;
        offerMatching();
      }
    });
    results.addEventListener("click", function (ev) {
      if (ev.target.id === "select-matching-btn") setScope(true);
      if (ev.target.id === "select-clear") {
        if (all) all.checked = false;
        pageRows().forEach(function (cb) { cb.checked = false; });
        offerMatching();
      }
    });
  }
  if (bulkForm) bulkForm.querySelectorAll("button[name=action]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      var scope = document.getElementById("bulk-scope");
      var n;
      if (scope && scope.value === "all") n = box().getAttribute("data-count-label");
      else n = document.querySelectorAll("#contact-results .row-check:checked").length;
      if (!n) {
        ev.preventDefault();
        window.alert(bulkForm.getAttribute("data-msg-none"));
        return;
      }
      var tag = document.getElementById("bulk-tag");
      var name = tag && tag.selectedIndex >= 0 ? tag.options[tag.selectedIndex].text : "";
      var text = bulkForm.getAttribute("data-msg-" + btn.value) || "";
      btn.setAttribute("data-confirm", text.replace("{n}", n).replace("{tag}", name));
    });
  });
})();

// A large bulk action in the background: poll its progress until it is finished, then reload.
(function () {
  var job = document.getElementById("bulk-job");
  if (!job || job.getAttribute("data-finished") === "1") return;
  var url = job.getAttribute("data-progress-url");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        var bar = job.querySelector(".progress-bar");
        bar.style.width = d.percent + "%";
        bar.textContent = d.percent + "%";
        bar.setAttribute("aria-valuenow", d.percent);
        document.getElementById("bulk-processed").textContent = d.processed;
        if (d.finished) { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
