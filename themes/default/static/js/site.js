/* runsite: colour scheme toggle and sortable tables. No dependencies, no network. */
(function () {
  "use strict";
  var root = document.documentElement;
  try {
    var saved = localStorage.getItem("runsite-theme");
    if (saved === "dark" || saved === "light") root.setAttribute("data-theme", saved);
  } catch (e) { /* file:// storage may be unavailable */ }

  function currentScheme() {
    var t = root.getAttribute("data-theme");
    if (t) return t;
    return window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function sortValue(cell) {
    var v = cell.getAttribute("data-sort");
    if (v === null) v = cell.textContent.trim();
    if (v === "" || v === "–") return null;
    var n = Number(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }

  function makeSortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.setAttribute("data-sortable", "");
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortValue(a.cells[col]), y = sortValue(b.cells[col]);
          if (x === null) return y === null ? 0 : 1;  /* missing values last */
          if (y === null) return -1;
          var c = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("theme-toggle");
    if (toggle) toggle.addEventListener("click", function () {
      var next = currentScheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("runsite-theme", next); } catch (e) { /* ignore */ }
      document.dispatchEvent(new CustomEvent("runsite:theme", { detail: next }));
    });
    Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (t) {
      if (t.tHead && t.tBodies.length && t.tBodies[0].rows.length > 1) makeSortable(t);
    });
  });
})();
