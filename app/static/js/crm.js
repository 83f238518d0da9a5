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
