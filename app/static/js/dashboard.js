/* Dashboard charts: the page loads its charts as a fragment (/dashboard/charts, its own few SQL
   statements), then reads the figures from the fragment's JSON block and draws them with Chart.js
   (no inline script). */
(function () {
  "use strict";
  var box = document.getElementById("dashboard-charts");
  if (!box) { return; }
  fetch(box.getAttribute("data-url"), {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.text() : ""; })
    .then(function (html) {
      box.innerHTML = html;
      box.setAttribute("aria-busy", "false");
      drawAll();
    })
    .catch(function () { box.setAttribute("aria-busy", "false"); });
}());

function drawAll() {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var charts = data.charts;
  var labels = data.labels;
  var css = getComputedStyle(document.documentElement);
  function colour(name, fallback) { return (css.getPropertyValue(name) || "").trim() || fallback; }
  var offers = colour("--sec-offers", "#2e9e4f");
  var tasks = colour("--sec-tasks", "#1e88e5");
  var invoices = colour("--sec-invoices", "#7b3fa0");
  var alert = colour("--btn-add", "#d9342b");
  var grey = "#b0bec5";

  Chart.defaults.locale = "pl-PL";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    canvas.parentNode.style.position = "relative";
    canvas.parentNode.style.height = "240px";
    new Chart(canvas, config);
  }
  var integer = { beginAtZero: true, ticks: { precision: 0 } };

  var statusColours = [grey, offers, "#1b5e20", alert, "#78909c"];
  draw("chart-offer-status", {
    type: "bar",
    data: {
      labels: charts.offers.status.map(function (r) { return r.label; }),
      datasets: [{ label: labels.offers, data: charts.offers.status.map(function (r) { return r.count; }),
                   backgroundColor: statusColours }]
    },
    options: { plugins: { legend: { display: false } }, scales: { y: integer } }
  });
  draw("chart-offer-value", {
    type: "bar",
    data: { labels: charts.offers.months,
            datasets: [{ label: labels.value, data: charts.offers.value, backgroundColor: offers }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
  });
  draw("chart-tasks", {
    type: "bar",
    data: { labels: charts.tasks.weeks, datasets: [
      { label: labels.done, data: charts.tasks.done, backgroundColor: tasks },
      { label: labels.overdue, data: charts.tasks.overdue, backgroundColor: alert }
    ] },
    options: { scales: { y: integer } }
  });
  draw("chart-invoices", {
    type: "bar",
    data: { labels: charts.invoices.months, datasets: [
      { label: labels.issued, data: charts.invoices.issued, backgroundColor: invoices },
      { label: labels.paid, data: charts.invoices.paid, backgroundColor: offers }
    ] },
    options: { scales: { y: integer } }
  });
}
