// Suggestions while typing in the header's search box, from /api/search/suggest.
// No inline script: the page's Content-Security-Policy allows only scripts from /static.
(function () {
  "use strict";
  var input = document.querySelector(".search-bar input[data-suggest-url]");
  var list = document.getElementById("search-suggestions");
  if (!input || !list || !window.fetch) { return; }
  var url = input.getAttribute("data-suggest-url");
  var timer = null;
  var latest = 0;

  function hide() { list.hidden = true; list.textContent = ""; }

  function show(items) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.text;
      a.className = "suggestion suggestion-" + item.kind;
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
  }

  function ask() {
    var q = input.value.trim();
    if (!q) { hide(); return; }
    var mine = ++latest;
    fetch(url + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : { suggestions: [] }; })
      .then(function (data) { if (mine === latest) { show(data.suggestions || []); } })
      .catch(function () { hide(); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 120);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown" && !list.hidden) {
      var first = list.querySelector("a");
      if (first) { e.preventDefault(); first.focus(); }
    } else if (e.key === "Escape") { hide(); }
  });
  list.addEventListener("keydown", function (e) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var i = links.indexOf(document.activeElement);
    if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? links[i - 1] : input).focus(); }
    if (e.key === "Escape") { hide(); input.focus(); }
  });
  document.addEventListener("click", function (e) {
    if (!list.contains(e.target) && e.target !== input) { hide(); }
  });
})();
