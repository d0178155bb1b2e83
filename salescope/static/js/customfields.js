// Custom field admin form: suggest the key from the label (until the key is edited by hand)
// and show the choices box only for choice types.
(function () {
  "use strict";
  function slug(text) {
    return text
      .replace(/ß/g, "ss")
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^[0-9_]+/, "")
      .replace(/_+$/, "")
      .slice(0, 50)
      .replace(/_+$/, "");
  }
  function init() {
    var form = document.querySelector("form.cf-form");
    if (!form) return;
    var label = form.querySelector("#id_label");
    var key = form.querySelector("#id_key");
    var type = form.querySelector("#id_field_type");
    var choices = form.querySelector("[data-role=choices]");
    var choiceTypes = (form.dataset.choiceTypes || "").split(",");
    if (label && key) {
      var touched = key.value !== "" && key.value !== slug(label.value);
      key.addEventListener("input", function () { touched = key.value !== ""; });
      label.addEventListener("input", function () {
        if (!touched) key.value = slug(label.value);
      });
    }
    function toggle() {
      if (!choices) return;
      var kind = type ? type.value : form.dataset.kind;
      var show = choiceTypes.indexOf(kind) !== -1 || choices.querySelector(".errorlist");
      choices.hidden = !show;
    }
    if (type) type.addEventListener("change", toggle);
    toggle();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
