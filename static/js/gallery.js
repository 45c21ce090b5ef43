// The product page's gallery: a thumbnail shows its photo in the main frame; tapping or
// clicking the main photo zooms it (twice, around the point tapped) and a second tap zooms
// out. No inline script: the page's Content-Security-Policy allows only scripts from /static.
(function () {
  "use strict";
  var gallery = document.querySelector("[data-gallery]");
  if (!gallery) { return; }
  var main = gallery.querySelector("#gallery-main");
  if (!main) { return; }
  var frame = main.parentElement;

  function zoomOut() {
    frame.classList.remove("zoomed");
    main.style.transformOrigin = "";
  }

  gallery.querySelectorAll(".gallery-thumb").forEach(function (button) {
    button.addEventListener("click", function () {
      zoomOut();
      main.src = button.getAttribute("data-full");
      main.width = parseInt(button.getAttribute("data-width"), 10) || main.width;
      main.height = parseInt(button.getAttribute("data-height"), 10) || main.height;
      gallery.querySelectorAll(".gallery-thumb").forEach(function (other) {
        other.classList.toggle("active", other === button);
        if (other === button) { other.setAttribute("aria-current", "true"); } else { other.removeAttribute("aria-current"); }
      });
    });
  });

  function toggleZoom(x, y) {
    if (frame.classList.contains("zoomed")) { zoomOut(); return; }
    var box = main.getBoundingClientRect();
    var px = box.width ? ((x - box.left) / box.width) * 100 : 50;
    var py = box.height ? ((y - box.top) / box.height) * 100 : 50;
    main.style.transformOrigin = px.toFixed(1) + "% " + py.toFixed(1) + "%";
    frame.classList.add("zoomed");
  }

  main.addEventListener("click", function (e) { toggleZoom(e.clientX, e.clientY); });
  main.addEventListener("keydown", function (e) {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      var box = main.getBoundingClientRect();
      toggleZoom(box.left + box.width / 2, box.top + box.height / 2);
    } else if (e.key === "Escape") { zoomOut(); }
  });
}());
