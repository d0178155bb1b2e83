/* Import wizard: drop zone and chosen files on the upload step; busy buttons while the
   server reads or checks the files (a large file is checked in the background instead,
   behind the progress bar of the job page). */
(function () {
  "use strict";

  function size(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function showChosen(input, list) {
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = file.name;
      var meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = size(file.size);
      li.appendChild(name);
      li.appendChild(meta);
      list.appendChild(li);
    });
  }

  function setupDrop(zone) {
    var input = zone.querySelector("input[type=file]");
    var list = document.getElementById("im-chosen");
    if (!input) return;
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    if (list) {
      input.addEventListener("change", function () { showChosen(input, list); });
      showChosen(input, list);
    }
  }

  function busyOnSubmit(form, text) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter || form.querySelector("button[type=submit]");
      if (!button || button.disabled) return;
      window.setTimeout(function () {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
        button.dataset.label = button.textContent;
        button.textContent = text;
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-drop]").forEach(setupDrop);
    var upload = document.getElementById("im-upload-form");
    if (upload) busyOnSubmit(upload, upload.dataset.busy || "…");
    var mapping = document.getElementById("im-mapping-form");
    if (mapping) busyOnSubmit(mapping, mapping.dataset.busy || "…");
  });
  // Leaving with the back button restores the page from cache: enable the buttons again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (button.dataset.label) button.textContent = button.dataset.label;
    });
  });
})();
