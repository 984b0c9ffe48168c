/* Printable sheets: a button with data-print prints the page (no inline onclick under the CSP). */
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
