// The client's card: "Show more" appends the next page of a section in place (the link still works without JS).
(function () {
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest ? ev.target.closest("a.card-more") : null;
    if (!link) return;
    var rows = document.getElementById(link.getAttribute("data-rows"));
    if (!rows) return;
    ev.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("partial", "1");
    fetch(url.toString(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.text().then(function (html) { return { html: html, next: r.headers.get("X-Card-Next") || "" }; });
      })
      .then(function (got) {
        var box = document.createElement("tbody");
        box.innerHTML = got.html;
        var first = null;
        while (box.firstElementChild) {
          var row = box.firstElementChild;
          if (!first) first = row;
          rows.appendChild(row);
        }
        if (got.next) {
          link.href = got.next;
          link.removeAttribute("aria-busy");
        } else {
          link.remove();
        }
        var focusable = first && first.querySelector("a");
        if (focusable) focusable.focus();
      })
      .catch(function () { window.location.href = link.href; });
  });
})();
