/* Agenda and activity pages: drag and drop to reschedule (htmx POST), click a day or an
   hour to plan something there, the "mark done" dialog, agreement rows, small form helpers.
   Every action here also has a plain link or form for keyboards and for use without JS. */
(function () {
  "use strict";

  var dragged = null;

  function status(text) {
    var box = document.getElementById("agenda-status");
    if (box) { box.textContent = text; box.classList.toggle("error", !!text); }
  }

  function refreshAgenda() {
    document.body.dispatchEvent(new CustomEvent("agenda-changed", { bubbles: true }));
  }

  /* --- drag and drop ------------------------------------------------------------------ */
  document.addEventListener("dragstart", function (evt) {
    var el = evt.target.closest && evt.target.closest(".event[data-reschedule-url]");
    if (!el) return;
    dragged = el;
    el.classList.add("dragging");
    evt.dataTransfer.effectAllowed = "move";
    evt.dataTransfer.setData("text/plain", el.dataset.activity || "");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".drop-over").forEach(function (z) { z.classList.remove("drop-over"); });
  });
  document.addEventListener("dragover", function (evt) {
    var zone = dragged && evt.target.closest && evt.target.closest("[data-drop-date]");
    if (!zone) return;
    evt.preventDefault();
    evt.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".drop-over").forEach(function (z) { if (z !== zone) z.classList.remove("drop-over"); });
    zone.classList.add("drop-over");
  });
  document.addEventListener("drop", function (evt) {
    var zone = dragged && evt.target.closest && evt.target.closest("[data-drop-date]");
    if (!zone) return;
    evt.preventDefault();
    zone.classList.remove("drop-over");
    var el = dragged;
    var values = { date: zone.dataset.dropDate, version: el.dataset.version || "" };
    if (zone.dataset.dropTime) values.time = zone.dataset.dropTime;
    zone.appendChild(el); // show it where it was dropped until the agenda reloads
    status("");
    window.htmx.ajax("POST", el.dataset.rescheduleUrl, { source: el, values: values, swap: "none" });
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    if (!document.getElementById("agenda")) return;
    status((xhr && xhr.responseText) || "Error");
    refreshAgenda();
  });

  /* --- click an empty day or hour to plan something there ----------------------------- */
  document.addEventListener("click", function (evt) {
    var zone = evt.target.closest && evt.target.closest("[data-create-url]");
    if (!zone || evt.target.closest("a, button, input, select, label, .event")) return;
    window.location.href = zone.dataset.createUrl;
  });

  /* --- mark done: a dialog asking time spent and outcome ------------------------------ */
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a.js-complete");
    var dialog = document.getElementById("complete-dialog");
    if (!link || !dialog || typeof dialog.showModal !== "function") return;
    evt.preventDefault();
    var form = dialog.querySelector("form");
    form.action = link.href;
    form.querySelector("[name=duration_minutes]").value = link.dataset.duration || "";
    form.querySelector("[name=outcome]").value = "";
    dialog.querySelector(".complete-subject").textContent = link.dataset.subject || "";
    dialog.showModal();
    form.querySelector("[name=duration_minutes]").focus();
  });
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest(".js-close-dialog");
    if (btn) btn.closest("dialog").close();
  });

  /* --- selects that switch the page --------------------------------------------------- */
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("select.js-autosubmit")) evt.target.form.submit();
    // Start set, end empty: propose one hour.
    if (evt.target.id === "id_starts_at") {
      var end = document.getElementById("id_ends_at");
      if (end && !end.value && evt.target.value) {
        var d = new Date(evt.target.value);
        if (!isNaN(d)) {
          d.setHours(d.getHours() + 1);
          var pad = function (n) { return String(n).padStart(2, "0"); };
          end.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
            "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
        }
      }
    }
    // Agreements: a removed row is shown struck through.
    if (evt.target.name && /-DELETE$/.test(evt.target.name)) {
      evt.target.closest(".agreement-row").classList.toggle("removed", evt.target.checked);
    }
  });

  /* --- agreements: add a row ----------------------------------------------------------- */
  function setUpAgreements() {
    var button = document.querySelector(".js-add-agreement");
    var template = document.getElementById("agreement-template");
    var total = document.querySelector("[name=agreements-TOTAL_FORMS]");
    if (!button || !template || !total) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      document.getElementById("agreement-rows").insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var rows = document.querySelectorAll("#agreement-rows .agreement-row");
      var input = rows[rows.length - 1].querySelector("input[type=text], input:not([type])");
      if (input) input.focus();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAgreements);
  else setUpAgreements();
})();
