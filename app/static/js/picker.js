// Search-as-you-type pickers (contacts, binders, ...): a text box over a hidden id field.
// Markup comes from the Jinja macro crm/_picker.html; the JSON endpoint named in data-url answers
// ?q= with [{id, label, detail}]. Keyboard: arrows move, Enter chooses, Escape closes.
// Also: after a refused submit, the first field with an error gets the focus.
(function () {
  "use strict";

  function setup(box) {
    var url = box.getAttribute("data-url");
    var hidden = box.querySelector("input[type=hidden]");
    var input = box.querySelector("input[role=combobox]");
    var list = box.querySelector("[role=listbox]");
    var clear = box.querySelector(".crm-pick-clear");
    var items = [], active = -1, timer = null, seq = 0;
    var chosen = hidden.value ? {id: hidden.value, label: input.value} : null;

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function highlight(i) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) return;
      active = (i + options.length) % options.length;
      options.forEach(function (li, n) {
        li.classList.toggle("active", n === active);
        li.setAttribute("aria-selected", n === active ? "true" : "false");
      });
      options[active].scrollIntoView({block: "nearest"});
      input.setAttribute("aria-activedescendant", options[active].id);
    }
    function choose(item) {
      chosen = item;
      hidden.value = item.id;
      input.value = item.label;
      close();
      hidden.dispatchEvent(new Event("change", {bubbles: true}));
    }
    function render(data) {
      list.innerHTML = "";
      items = data;
      active = -1;
      if (!data.length) {
        var none = document.createElement("li");
        none.className = "empty";
        none.textContent = input.getAttribute("data-empty") || "—";
        list.appendChild(none);
      }
      data.forEach(function (item, n) {
        var li = document.createElement("li");
        li.id = list.id + "-" + n;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-id", item.id);
        var label = document.createElement("span");
        label.className = "crm-pick-label";
        label.textContent = item.label;
        li.appendChild(label);
        if (item.detail) {
          var detail = document.createElement("small");
          detail.className = "crm-pick-detail";
          detail.textContent = item.detail;
          li.appendChild(detail);
        }
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function search() {
      var mine = ++seq;
      var sep = url.indexOf("?") < 0 ? "?" : "&";
      fetch(url + sep + "q=" + encodeURIComponent(input.value.trim()), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (data) { if (mine === seq && document.activeElement === input) render(data); })
        .catch(function () { /* offline: the list simply stays closed */ });
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { search(); return; }
        highlight(active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Enter") {
        if (!list.hidden) {
          e.preventDefault();
          if (active < 0 && items.length === 1) active = 0;
          if (active >= 0 && items[active]) choose(items[active]);
        }
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () {
      setTimeout(close, 100);
      if (!input.value.trim()) { chosen = null; hidden.value = ""; return; }
      if (!hidden.value) {
        // typed but nothing chosen: go back to the last choice (or to nothing)
        hidden.value = chosen ? chosen.id : "";
        input.value = chosen ? chosen.label : "";
      }
    });
    if (clear) {
      clear.addEventListener("click", function () {
        chosen = null;
        hidden.value = "";
        input.value = "";
        close();
        input.focus();
      });
    }
  }

  function focusFirstError() {
    var group = document.querySelector("form .has-error");
    if (!group) return;
    var target = group.querySelector("input:not([type=hidden]), select, textarea");
    if (target) target.focus();
  }

  document.querySelectorAll("[data-picker]").forEach(setup);
  focusFirstError();
})();
