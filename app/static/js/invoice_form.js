// Invoices: the form (buyer picker as you type, lines, live totals, currency fields, "Wystaw")
// and the list (search as you type). Totals use exact BigInt arithmetic with the SAME rule as
// app/services/invoicing/totals.py: line net = round(qty x price x (1 - discount/100), 2) half up;
// VAT per rate on the sum of that rate's nets.
(function () {
  "use strict";

  // ---- the list: search as you type ----------------------------------------------------------
  var filters = document.getElementById("invoice-filters");
  if (filters) {
    var q = document.getElementById("invoice-q"), rows = document.getElementById("invoice-rows"), timer = null, seq = 0;
    var refresh = function () {
      var params = new URLSearchParams(new FormData(filters));
      params.set("partial", "1");
      var mine = ++seq;
      fetch(filters.getAttribute("data-partial") + "?" + params.toString(), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null && mine === seq) rows.innerHTML = html; });
    };
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 200); });
    filters.querySelectorAll("select, input[type=month]").forEach(function (el) { el.addEventListener("change", refresh); });
  }

  var form = document.getElementById("invoice-form");
  if (!form) return;
  var RATES = JSON.parse(document.getElementById("vat-rates").textContent);
  var ORDER = ["23", "8", "5", "0 KR", "0 WDT", "0 EX", "zw", "np", "np II", "oo"];
  var LABELS = {"23": "23%", "8": "8%", "5": "5%", "0 KR": "0%", "0 WDT": "0% WDT", "0 EX": "0% eksport"};
  var tbody = document.querySelector("#items-table tbody");
  var template = document.getElementById("item-row-template");

  function parseScaled(text, places) {
    var s = String(text || "").replace(/[\s\u00a0]/g, "").replace(",", ".");
    if (s === "" || !/^\d+(\.\d+)?$/.test(s)) return null;
    var parts = s.split("."), frac = parts[1] || "";
    if (frac.length > places) return null;
    while (frac.length < places) frac += "0";
    return BigInt(parts[0] + frac);
  }
  function divHalfUp(n, d) { var q = n / d, r = n % d; return (r * 2n >= d) ? q + 1n : q; }
  function fmt(cents) {
    var neg = cents < 0n; if (neg) cents = -cents;
    var s = cents.toString(); while (s.length < 3) s = "0" + s;
    var int = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
    return (neg ? "-" : "") + int + "," + s.slice(-2);
  }
  function lineNet(row) {
    var q = parseScaled(row.querySelector("[name=item_quantity]").value, 3);
    var p = parseScaled(row.querySelector("[name=item_unit_price]").value, 2);
    var dRaw = row.querySelector("[name=item_discount]").value;
    var d = parseScaled(dRaw === "" ? "0" : dRaw, 2);
    if (q === null || p === null || d === null || d > 10000n || q === 0n) return null;
    return divHalfUp(q * p * (10000n - d), 10000000n);
  }
  function recalc() {
    var sums = {};
    tbody.querySelectorAll("tr.item-row").forEach(function (row) {
      var net = lineNet(row), cell = row.querySelector(".item-net"), rate = row.querySelector("[name=item_rate]").value;
      if (net === null) { cell.textContent = "—"; row.classList.add("has-error"); return; }
      row.classList.remove("has-error");
      cell.textContent = fmt(net);
      sums[rate] = (sums[rate] || 0n) + net;
    });
    var body = document.querySelector("#live-totals tbody");
    body.innerHTML = "";
    var tn = 0n, tv = 0n;
    ORDER.forEach(function (rate) {
      if (!(rate in sums)) return;
      var net = sums[rate], vat = divHalfUp(net * BigInt(RATES[rate] || 0), 100n);
      tn += net; tv += vat;
      var tr = document.createElement("tr");
      tr.setAttribute("data-rate", rate);
      [LABELS[rate] || rate, fmt(net), fmt(vat), fmt(net + vat)].forEach(function (t, i) {
        var td = document.createElement("td"); td.textContent = t; if (i) td.className = "text-right"; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById("total-net").textContent = fmt(tn);
    document.getElementById("total-vat").textContent = fmt(tv);
    document.getElementById("total-gross").textContent = fmt(tn + tv);
  }
  function addRow() {
    var frag = template.content.cloneNode(true), row = frag.querySelector("tr");
    tbody.appendChild(row);
    recalc();
    return row;
  }
  tbody.addEventListener("input", recalc);
  tbody.addEventListener("change", function (e) {
    if (e.target.classList.contains("annex-box")) {
      e.target.closest("td").querySelector("[name=item_annex15]").value = e.target.checked ? "1" : "0";
    }
    recalc();
  });
  tbody.addEventListener("click", function (e) {
    var btn = e.target.closest(".remove-item");
    if (btn) { btn.closest("tr").remove(); recalc(); }
  });
  document.getElementById("add-item").addEventListener("click", function () {
    addRow().querySelector("[name=item_name]").focus();
  });

  // currency: the NBP fields only for EUR/USD
  var currency = document.getElementById("currency"), fx = document.getElementById("fx-fields");
  function toggleFx() { if (fx && currency) fx.hidden = currency.value === "PLN"; }
  if (currency) { currency.addEventListener("change", toggleFx); toggleFx(); }

  // "Wystaw": save and issue in one go
  var issueBtn = document.getElementById("save-and-issue");
  if (issueBtn) issueBtn.addEventListener("click", function () { document.getElementById("then_issue").value = "1"; });
  var saveBtn = document.getElementById("save-invoice");
  if (saveBtn) saveBtn.addEventListener("click", function () { document.getElementById("then_issue").value = "0"; });

  // ---- buyer picker as you type (the offer builder's pattern) ----------------------------------
  var input = document.getElementById("contact_label"), contactId = document.getElementById("contact_id");
  var list = document.getElementById("contact-results");
  if (input && list) {
    var ptimer = null, pseq = 0;
    var close = function () { list.hidden = true; list.innerHTML = ""; };
    var choose = function (c) { contactId.value = c.id; input.value = c.name; close(); };
    input.addEventListener("input", function () {
      contactId.value = "";
      clearTimeout(ptimer);
      var term = input.value.trim();
      if (!term) { close(); return; }
      ptimer = setTimeout(function () {
        var mine = ++pseq;
        fetch(input.getAttribute("data-url") + "?q=" + encodeURIComponent(term), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            if (mine !== pseq) return;
            list.innerHTML = "";
            if (!items.length) {
              var li = document.createElement("li"); li.className = "empty"; li.textContent = list.getAttribute("data-empty") || "—";
              list.appendChild(li);
            }
            items.forEach(function (c) {
              var li = document.createElement("li");
              li.tabIndex = 0;
              li.textContent = c.name + (c.detail ? " · " + c.detail : "") + (c.base ? " (" + c.base + ")" : "");
              li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(c); });
              li.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); choose(c); } });
              list.appendChild(li);
            });
            list.hidden = false;
          });
      }, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && !list.hidden) { var f = list.querySelector("li[tabindex]"); if (f) { e.preventDefault(); f.focus(); } }
      if (e.key === "Escape") close();
    });
    input.addEventListener("blur", function () { setTimeout(function () { if (!list.contains(document.activeElement)) close(); }, 150); });
  }
  form.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.tagName === "INPUT") e.preventDefault();
  });
  recalc();
})();
