// The client's card: each section is loaded as a fragment after the page (the page itself stays a
// few SQL statements); "Show more" appends the next page of a section in place (the links still work
// without JS).
(function () {
  document.querySelectorAll("[data-card-fragment]").forEach(function (box) {
    fetch(box.getAttribute("data-card-fragment"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var section = holder.firstElementChild;
        if (section) box.replaceWith(section);
      })
      .catch(function () { box.removeAttribute("aria-busy"); });
  });
})();
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
