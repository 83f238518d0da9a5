/* Campaign editor: a contenteditable area with a toolbar; the HTML goes to the hidden field on submit.
   The server cleans it with an allow-list, so the editor only has to be convenient, not safe. */
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  var area = document.getElementById("campaign-editor");
  var field = document.getElementById("body_html");
  if (!form || !area || !field) { return; }

  function insertHtml(html) {
    area.focus();
    document.execCommand("insertHTML", false, html);
  }
  function escapeAttr(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  document.querySelectorAll(".campaign-toolbar [data-cmd]").forEach(function (button) {
    button.addEventListener("click", function () {
      var cmd = button.getAttribute("data-cmd");
      var value = null;
      if (button.hasAttribute("data-ask")) {
        value = window.prompt(button.getAttribute("data-ask"), "https://");
        if (!value || value === "https://") { return; }
      }
      area.focus();
      document.execCommand(cmd, false, value);
    });
  });

  document.querySelectorAll("#personal-fields [data-field]").forEach(function (button) {
    button.addEventListener("click", function () { insertHtml(button.getAttribute("data-field")); });
  });

  var upload = document.getElementById("campaign-image");
  var error = document.getElementById("image-error");
  if (upload) {
    upload.addEventListener("change", function () {
      if (!upload.files || !upload.files[0]) { return; }
      var data = new FormData();
      data.append("file", upload.files[0]);
      data.append("csrf_token", upload.getAttribute("data-csrf"));
      fetch(upload.getAttribute("data-url"), { method: "POST", body: data, credentials: "same-origin" })
        .then(function (resp) { return resp.json(); })
        .then(function (json) {
          if (json.url) {
            error.hidden = true;
            insertHtml('<img src="' + escapeAttr(json.url) + '" alt="">');
          } else {
            error.textContent = json.error || "";
            error.hidden = false;
          }
          upload.value = "";
        });
    });
  }

  form.addEventListener("submit", function () { field.value = area.innerHTML; });
}());
