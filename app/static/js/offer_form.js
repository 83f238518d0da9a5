// The offer/order builder: client picker, price-list search as you type, live totals.
// Totals use exact integer (BigInt) arithmetic with the SAME rule as app/services/pricing.py:
// line net = round(qty x price x (1 - discount/100), 2) half up; VAT per rate on the sum of nets.
(function () {
  "use strict";
  var form = document.querySelector(".crm-builder");
  if (!form) return;
  var RATES = JSON.parse(document.getElementById("vat-rates").textContent);
  var ORDER = ["23", "8", "5", "0", "zw", "np", "oo"];
  var tbody = document.querySelector("#items-table tbody");
  var template = document.getElementById("item-row-template");

  // ---- exact decimals: a value is a BigInt scaled by 10^places --------------------------------
  function parseScaled(text, places) {
    var s = String(text || "").replace(/[\s\u00a0]/g, "").replace(",", ".");
    if (s === "") return null;
    if (!/^\d+(\.\d+)?$/.test(s)) return null;
    var parts = s.split(".");
    var frac = parts[1] || "";
    if (frac.length > places) return null;
    while (frac.length < places) frac += "0";
    return BigInt(parts[0] + frac);
  }
  function divHalfUp(n, d) { // n >= 0, d > 0
    var q = n / d, r = n % d;
    return (r * 2n >= d) ? q + 1n : q;
  }
  function fmt(cents) { // BigInt grosze -> "1 234,56"
    var neg = cents < 0n; if (neg) cents = -cents;
    var s = cents.toString();
    while (s.length < 3) s = "0" + s;
    var int = s.slice(0, -2), frac = s.slice(-2);
    int = int.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
    return (neg ? "-" : "") + int + "," + frac;
  }
  function lineNet(row) {
    var q = parseScaled(row.querySelector("[name=item_quantity]").value, 3);
    var p = parseScaled(row.querySelector("[name=item_unit_price]").value, 2);
    var dRaw = row.querySelector("[name=item_discount]").value;
    var d = parseScaled(dRaw === "" ? "0" : dRaw, 2);
    if (q === null || p === null || d === null || d > 10000n || q === 0n) return null;
    // q: x1000, p: x100, (10000 - d): x100 percent-points -> product scaled 10^9 relative to grosze*10^7
    return divHalfUp(q * p * (10000n - d), 10000000n);
  }

  function recalc() {
    var sums = {};
    var rows = tbody.querySelectorAll("tr.item-row");
    rows.forEach(function (row) {
      var net = lineNet(row);
      var cell = row.querySelector(".item-net");
      var rate = row.querySelector("[name=item_vat_rate]").value;
      if (net === null) { cell.textContent = "—"; row.classList.add("has-error"); return; }
      row.classList.remove("has-error");
      cell.textContent = fmt(net);
      sums[rate] = (sums[rate] || 0n) + net;
    });
    document.getElementById("no-items").hidden = rows.length > 0;
    var body = document.querySelector("#live-totals tbody");
    body.innerHTML = "";
    var tn = 0n, tv = 0n;
    ORDER.forEach(function (rate) {
      if (!(rate in sums)) return;
      var net = sums[rate];
      var pct = BigInt(Math.round(Number(RATES[rate])));
      var vat = divHalfUp(net * pct, 100n);
      tn += net; tv += vat;
      var tr = document.createElement("tr");
      tr.setAttribute("data-rate", rate);
      [/^\d+$/.test(rate) ? rate + "%" : rate, fmt(net), fmt(vat), fmt(net + vat)].forEach(function (t, i) {
        var td = document.createElement("td"); td.textContent = t; if (i) td.className = "text-right"; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById("total-net").textContent = fmt(tn);
    document.getElementById("total-vat").textContent = fmt(tv);
    document.getElementById("total-gross").textContent = fmt(tn + tv);
  }

  function addRow(data) {
    var frag = template.content.cloneNode(true);
    var row = frag.querySelector("tr");
    data = data || {};
    Object.keys(data).forEach(function (k) {
      var el = row.querySelector("[name=item_" + k + "]");
      if (el) el.value = data[k];
    });
    row.querySelector(".item-code").textContent = data.code || "";
    tbody.appendChild(row);
    recalc();
    return row;
  }

  tbody.addEventListener("input", recalc);
  tbody.addEventListener("change", recalc);
  tbody.addEventListener("click", function (e) {
    var btn = e.target.closest(".remove-item");
    if (btn) { btn.closest("tr").remove(); recalc(); }
  });
  document.getElementById("add-free-item").addEventListener("click", function () {
    var row = addRow({});
    row.querySelector("[name=item_name]").focus();
  });

  // ---- as-you-type pickers ---------------------------------------------------------------------
  function picker(input, list, render, choose) {
    var timer = null, seq = 0;
    function close() { list.hidden = true; list.innerHTML = ""; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 1) { close(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(input.getAttribute("data-url") + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            if (mine !== seq) return;
            list.innerHTML = "";
            if (!items.length) {
              var li = document.createElement("li"); li.className = "empty"; li.textContent = list.getAttribute("data-empty") || "—";
              list.appendChild(li);
            }
            items.forEach(function (item) {
              var li = document.createElement("li");
              li.tabIndex = 0;
              render(li, item);
              li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item); close(); });
              li.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); choose(item); close(); } });
              list.appendChild(li);
            });
            list.hidden = false;
          });
      }, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && !list.hidden) { var f = list.querySelector("li[tabindex]"); if (f) { e.preventDefault(); f.focus(); } }
      if (e.key === "Escape") close();
      if (e.key === "Enter") e.preventDefault();
    });
    input.addEventListener("blur", function () { setTimeout(function () { if (!list.contains(document.activeElement)) close(); }, 150); });
  }

  var contactInput = document.getElementById("contact_label");
  var contactId = document.getElementById("contact_id");
  picker(contactInput, document.getElementById("contact-results"), function (li, c) {
    li.textContent = c.name + (c.detail ? " · " + c.detail : "") + (c.base ? " (" + c.base + ")" : "");
  }, function (c) { contactId.value = c.id; contactInput.value = c.name; });
  contactInput.addEventListener("input", function () { contactId.value = ""; });

  var currency = document.getElementById("currency");
  picker(document.getElementById("product-search"), document.getElementById("product-results"), function (li, p) {
    li.textContent = p.name + (p.code ? " [" + p.code + "]" : "") + " · " + p.net_price.replace(".", ",") + " " + p.currency + " / " + p.unit;
  }, function (p) {
    addRow({product_id: p.id, name: p.name, code: p.code, unit: p.unit, quantity: "1",
            unit_price: p.net_price.replace(".", ","), discount: "0", vat_rate: p.vat_rate});
    var search = document.getElementById("product-search");
    search.value = "";
    if (currency && p.currency !== currency.value && tbody.querySelectorAll("tr.item-row").length === 1) currency.value = p.currency;
    search.focus();
  });

  form.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.tagName === "INPUT") e.preventDefault();
  });
  recalc();
})();
