// Password strength meter: asks the server's password rules (same as on save) as you type.
// Markup: <input data-strength-url="/password-strength/" data-strength-inputs="first_name,last_name,email">
(function () {
  function csrfToken(input) {
    var form = input.form;
    var field = form && form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }
  function setup(input) {
    var meter = document.createElement("div");
    meter.className = "pw-meter";
    meter.setAttribute("aria-live", "polite");
    meter.innerHTML = '<div class="pw-meter-track"><div class="pw-meter-bar"></div></div><span class="pw-meter-msg"></span>';
    input.parentNode.insertBefore(meter, input.nextSibling);
    var bar = meter.querySelector(".pw-meter-bar");
    var msg = meter.querySelector(".pw-meter-msg");
    var timer = null;
    var seq = 0;
    function check() {
      var value = input.value;
      if (!value) { meter.className = "pw-meter"; bar.style.width = "0"; msg.textContent = ""; return; }
      var names = (input.getAttribute("data-strength-inputs") || "").split(",");
      var inputs = [];
      names.forEach(function (n) {
        var el = n && input.form && input.form.elements[n.trim()];
        if (el && el.value) inputs.push(el.value);
      });
      var mine = ++seq;
      fetch(input.getAttribute("data-strength-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(input)},
        body: JSON.stringify({password: value, inputs: inputs})
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data || mine !== seq) return;
        var score = Math.max(0, Math.min(4, data.score || 0));
        bar.style.width = ((score + 1) * 20) + "%";
        meter.className = "pw-meter " + (data.ok ? "pw-ok" : (score >= 2 ? "pw-mid" : "pw-weak"));
        msg.textContent = data.message || "";
      }).catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 250);
    });
    ["change", "input"].forEach(function (ev) {
      (input.getAttribute("data-strength-inputs") || "").split(",").forEach(function (n) {
        var el = n && input.form && input.form.elements[n.trim()];
        if (el && el.addEventListener) el.addEventListener(ev, function () { if (input.value) { clearTimeout(timer); timer = setTimeout(check, 400); } });
      });
    });
  }
  document.querySelectorAll("input[data-strength-url]").forEach(setup);
})();
