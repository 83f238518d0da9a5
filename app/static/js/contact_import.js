// Progress bar of a CSV import: polls the job's JSON progress until it is finished.
(function () {
  var box = document.getElementById("import-job");
  if (!box || box.getAttribute("data-finished") === "1") return;
  var url = box.getAttribute("data-progress-url");
  function set(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        var bar = box.querySelector(".progress-bar");
        bar.style.width = d.percent + "%";
        bar.textContent = d.percent + "%";
        bar.setAttribute("aria-valuenow", d.percent);
        ["processed", "total", "inserted", "updated", "skipped", "refused"].forEach(function (k) { set("c-" + k, d[k]); });
        if (d.finished) { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
