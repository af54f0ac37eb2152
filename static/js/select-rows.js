// "Select every number on this page": a checkbox above the numbers table, shown only when this
// script runs (without it each row is selected by hand, or "every number" is chosen instead).
// Delegated from the document, so the rows htmx swaps in later work the same way.
(() => {
  const reveal = (root) => {
    for (const holder of root.querySelectorAll("[data-select-all]")) holder.hidden = false;
  };
  document.addEventListener("DOMContentLoaded", () => reveal(document));
  document.addEventListener("htmx:load", (event) => reveal(event.target));
  document.addEventListener("change", (event) => {
    const box = event.target;
    const holder = box.closest("[data-select-all]");
    if (!holder) return;
    for (const row of box.form.querySelectorAll("input[data-row-select]")) row.checked = box.checked;
  });
})();
