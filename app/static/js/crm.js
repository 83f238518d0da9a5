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
