// Small enhancements; every page works without them.
(function () {
  "use strict";

  function setActive(fieldId) {
    document.querySelectorAll(".evidence-box.is-active, [data-field].is-active").forEach(function (el) {
      el.classList.remove("is-active");
    });
    if (!fieldId) return;
    document.querySelectorAll('[data-box-for="' + fieldId + '"]').forEach(function (box) {
      box.classList.add("is-active");
      if (box.scrollIntoView && !isVisible(box)) box.scrollIntoView({ block: "center", behavior: "smooth" });
    });
    var row = document.querySelector('[data-field="' + fieldId + '"]');
    if (row) row.classList.add("is-active");
  }

  function isVisible(el) {
    var rect = el.getBoundingClientRect();
    return rect.top >= 0 && rect.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }

  // Focusing or clicking a value highlights its evidence on the page.
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("[data-field]");
    if (row) setActive(row.getAttribute("data-field"));
  });
  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("[data-box-for]");
    if (box) {
      var id = box.getAttribute("data-box-for");
      setActive(id);
      var input = document.getElementById("value-" + id);
      if (input) { event.preventDefault(); input.focus(); }
      return;
    }
    var row = event.target.closest && event.target.closest("[data-field]");
    if (row) setActive(row.getAttribute("data-field"));
  });

  // After htmx saves one value, move (or hide) its evidence box to where the value now is.
  document.addEventListener("htmx:afterSwap", function (event) {
    var row = event.detail && event.detail.elt;
    if (!row || !row.matches || !row.matches("[data-field]")) {
      row = event.target && event.target.closest && event.target.closest("[data-field]");
    }
    if (!row) return;
    var id = row.getAttribute("data-field");
    var frame = document.querySelector("[data-page-frame]");
    if (!frame) return;
    var style = row.getAttribute("data-box-style");
    var onThisPage = style && row.getAttribute("data-page") === frame.getAttribute("data-page-frame");
    var box = frame.querySelector('[data-box-for="' + id + '"]');
    if (!onThisPage) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("a");
      box.className = "evidence-box";
      box.href = "#field-" + id;
      box.setAttribute("data-box-for", id);
      frame.appendChild(box);
    }
    box.setAttribute("style", style);
  });
})();
