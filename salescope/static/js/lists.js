// Lists: select rows for bulk actions, show the fields an action needs, confirm deletes.
(function () {
  "use strict";

  function init() {
    var form = document.querySelector("[data-bulk]");
    if (form) initBulk(form);

    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });

    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (event) {
        if (!window.confirm(f.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function initBulk(form) {
    var boxes = Array.prototype.slice.call(
      document.querySelectorAll('input[name="ids"][form="' + form.id + '"]'));
    var all = document.querySelector("[data-select-all]");
    var counter = form.querySelector("[data-selected-count]");
    var submit = form.querySelector("[data-bulk-submit]");
    var action = form.querySelector('select[name="action"]');
    var idle = counter ? counter.textContent : "";

    function refresh() {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      var template = counter ? counter.getAttribute("data-template") || "__N__" : "";
      if (counter) counter.textContent = n ? template.replace("__N__", n) : idle;
      if (submit) submit.disabled = n === 0;
      if (all) {
        all.checked = n > 0 && n === boxes.length;
        all.indeterminate = n > 0 && n < boxes.length;
      }
      form.classList.toggle("has-selection", n > 0);
      boxes.forEach(function (b) {
        var row = b.closest("tr");
        if (row) row.classList.toggle("selected", b.checked);
      });
    }

    function showFields() {
      var chosen = action ? action.value : "";
      form.querySelectorAll("[data-for-action]").forEach(function (el) {
        var wanted = el.getAttribute("data-for-action").split(" ");
        var on = wanted.indexOf(chosen) >= 0;
        el.hidden = !on;
        el.querySelectorAll("select").forEach(function (s) { s.required = on; });
      });
    }

    boxes.forEach(function (b) { b.addEventListener("change", refresh); });
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        refresh();
      });
    }
    if (action) action.addEventListener("change", showFields);
    showFields();
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
