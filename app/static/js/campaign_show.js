/* Campaign page: the live progress bar (polls the JSON while sending) and the report chart (Chart.js). */
(function () {
  "use strict";
  var box = document.getElementById("campaign-progress");
  var bar = document.getElementById("progress-bar");
  function paint(percent) {
    if (!bar) { return; }
    bar.style.width = percent + "%";
    bar.setAttribute("aria-valuenow", percent);
    bar.textContent = percent + "%";
  }
  if (bar) { paint(parseInt(bar.getAttribute("data-percent"), 10) || 0); }
  var watched = ["scheduled", "sending", "paused"];
  if (box && watched.indexOf(box.getAttribute("data-status")) >= 0) {
    var text = document.getElementById("progress-text");
    var template = text ? text.textContent : "";
    var timer = window.setInterval(function () {
      fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (resp) { return resp.json(); })
        .then(function (data) {
          paint(data.percent);
          if (text) { text.textContent = data.done + " / " + data.total; }
          var status = document.getElementById("campaign-status");
          if (status) { status.textContent = data.status_label; }
          if (data.status !== box.getAttribute("data-status")) {
            window.clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () { if (text) { text.textContent = template; } });
    }, 2000);
  }

  var source = document.getElementById("report-data");
  var canvas = document.getElementById("chart-report");
  if (!source || !canvas || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#2e9e4f", "#d9342b", "#ef6c00", "#78909c"];
  var keys = ["sent", "failed", "bounced", "unsubscribed"];
  Chart.defaults.locale = "pl-PL";
  canvas.parentNode.style.position = "relative";
  canvas.parentNode.style.height = "260px";
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.rows.map(function (r) { return r.label; }),
      datasets: keys.map(function (key, i) {
        return { label: data.labels[i], data: data.rows.map(function (r) { return r[key]; }), backgroundColor: colours[i] };
      })
    },
    options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
}());
