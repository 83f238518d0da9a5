// Collapsible left menu; the choice is remembered in this browser.
(function () {
  var KEY = "crm.sidebar.collapsed";
  if (window.localStorage && localStorage.getItem(KEY) === "1") document.body.classList.add("sidebar-collapsed");
  var btn = document.getElementById("crm-collapse");
  if (btn) btn.addEventListener("click", function () {
    var on = document.body.classList.toggle("sidebar-collapsed");
    if (window.localStorage) localStorage.setItem(KEY, on ? "1" : "0");
  });
})();

// Confirmation before a form is sent: <form data-confirm="Usunąć?"> or <button data-confirm="...">.
// The Content-Security-Policy blocks inline handlers such as onsubmit="return confirm(...)".
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var text = (ev.submitter && ev.submitter.getAttribute("data-confirm")) ||
             (form && form.getAttribute && form.getAttribute("data-confirm"));
  if (text && !window.confirm(text)) ev.preventDefault();
}, true);

// Phone: the left menu is folded behind the "Menu" button of the top strip.
(function () {
  var btn = document.getElementById("crm-menu-toggle");
  if (!btn) return;
  btn.addEventListener("click", function () {
    var open = document.body.classList.toggle("menu-open");
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && document.body.classList.contains("menu-open")) {
      document.body.classList.remove("menu-open");
      btn.setAttribute("aria-expanded", "false");
      btn.focus();
    }
  });
})();

// A form page starts in its first field (the first wrong one after a failed submit).
// Only forms sent by POST with fields to fill (not searches, not delete buttons), only a field on the
// first screen (a note box low on a detail page must not scroll the page), never <form data-no-autofocus>;
// not on phones, where focusing would pop the keyboard over the page.
(function () {
  if (window.matchMedia && window.matchMedia("(max-width: 767px)").matches) return;
  var main = document.getElementById("main-content");
  if (!main || document.querySelector("[autofocus]")) return;
  var FIELDS = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=checkbox])" +
               ":not([type=radio]):not([type=file]):not([readonly]):not([disabled]), select:not([disabled]), textarea:not([disabled])";
  function visible(el) { return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length); }
  var forms = main.querySelectorAll("form[method=post]:not([data-no-autofocus]), form[method=POST]:not([data-no-autofocus])");
  for (var i = 0; i < forms.length; i++) {
    var wrong = forms[i].querySelector(".has-error");
    var scope = wrong || forms[i];
    var fields = scope.querySelectorAll(FIELDS);
    for (var j = 0; j < fields.length; j++) {
      if (!visible(fields[j])) continue;
      if (wrong || fields[j].getBoundingClientRect().top < window.innerHeight) fields[j].focus({ preventScroll: !wrong });
      return;
    }
  }
})();
