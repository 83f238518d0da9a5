/* Payments: go on to PayU's page; on the return page ask for the payment's state every two seconds until PayU's word arrives. */
(function () {
  "use strict";
  var go = document.getElementById("go-payu");
  if (go) { window.location.assign(go.getAttribute("href")); return; }
  var box = document.getElementById("payment-return");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var shown = { pending: "state-pending", completed: "state-completed", canceled: "state-canceled" };

  function show(which) {
    Object.keys(shown).forEach(function (key) {
      document.getElementById(shown[key]).hidden = key !== which;
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        if (data && data.status === "completed") {
          document.getElementById("new-paid-until").textContent = data.paid_until || "";
          show("completed");
          // once more from the server: the top bar's licence badge is up to date then too
          window.setTimeout(function () { window.location.reload(); }, 1500);
          return;
        }
        if (data && (data.status === "canceled" || data.status === "failed")) {
          show("canceled");
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 4000); });
  }

  if (!document.getElementById("state-pending").hidden) { window.setTimeout(poll, 1000); }
}());
