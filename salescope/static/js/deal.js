// The deal page: open and close dialogs (lost reason); htmx does the inline editing.
(function () {
  "use strict";
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.open);
      if (dialog) {
        dialog.showModal();
        const first = dialog.querySelector("select, input:not([type=hidden]), textarea");
        if (first) first.focus();
      }
      return;
    }
    const closer = event.target.closest("[data-close]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      const panel = closer.closest("#action-panel");
      if (panel) panel.innerHTML = "";
    }
  });
  // Put the cursor into a field that was just opened for editing.
  document.addEventListener("htmx:afterSettle", () => {
    const editing = document.querySelector(".fact.editing");
    if (editing && !editing.contains(document.activeElement)) {
      const first = editing.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    }
  });
})();
