// The pipeline board: drag and drop between stages (and onto Won / Lost), the keyboard
// "Move to…" dialog, the stage-gate and lost-reason dialogs, and quick-add of a deal.
// Every action posts to the deal's endpoints with Accept: application/json and swaps the
// re-rendered columns the server sends back; nothing reloads the page.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board) return;

  const wonStage = board.dataset.won;
  const lostStage = board.dataset.lost;
  const status = document.getElementById("board-status");
  const moveDialog = document.getElementById("move-dialog");
  const lostDialog = document.getElementById("lost-dialog");
  const gateDialog = document.getElementById("gate-dialog");
  const quickDialog = document.getElementById("quickadd-dialog");
  let pending = null; // {card, stage} waiting for a dialog (lost reason, mandatory fields)

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (e) {
      const input = document.querySelector("input[name=csrfmiddlewaretoken]");
      return input ? input.value : "";
    }
  }

  function moveUrl(id) {
    return board.dataset.moveUrl.replace("/0/", "/" + id + "/");
  }

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", !!isError);
    status.classList.add("show");
    clearTimeout(say.timer);
    say.timer = setTimeout(() => status.classList.remove("show"), 4000);
  }

  function swapSummary(html) {
    const old = document.getElementById("board-summary");
    if (old && html) old.outerHTML = html;
  }

  // On a phone the filters start folded unless some are active.
  const filterbox = document.querySelector(".filterbox");
  if (filterbox && !filterbox.hasAttribute("data-active") && window.matchMedia("(max-width: 760px)").matches) {
    filterbox.open = false;
  }

  function swapColumns(columns) {
    Object.entries(columns || {}).forEach(([stageId, html]) => {
      const old = document.getElementById("column-" + stageId);
      if (old) old.outerHTML = html;
    });
  }

  function cardById(id) {
    return board.querySelector('li.deal[data-id="' + id + '"]');
  }

  async function post(url, body) {
    body.append("filters", board.dataset.filters || "");
    const response = await fetch(url, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    });
    let data = {};
    try {
      data = await response.json();
    } catch (e) {
      const board = document.getElementById("board");
      const text = response.status === 403 ? board.dataset.errorForbidden : board.dataset.errorGeneric;
      data = { error: text + " (" + response.status + ")" };
    }
    return data;
  }

  function dialogError(dialog, message) {
    const slot = dialog.querySelector(".dialog-error");
    if (slot) slot.textContent = message || "";
  }

  function closeDialog(dialog) {
    dialogError(dialog, "");
    if (dialog.open) dialog.close();
  }

  // Move (or close) a deal; `extra` carries the lost reason or the mandatory fields.
  async function move(card, stage, extra, dialog) {
    if (stage === lostStage && !extra) {
      pending = { card: card, stage: stage };
      lostDialog.querySelector(".deal-name").textContent = "“" + card.dataset.name + "”";
      lostDialog.querySelector("form").reset();
      dialogError(lostDialog, "");
      lostDialog.showModal();
      return;
    }
    const body = extra || new FormData();
    body.set("stage", stage);
    body.set("version", card.dataset.version);
    card.classList.add("is-saving");
    const data = await post(moveUrl(card.dataset.id), body);
    card.classList.remove("is-saving");
    if (data.ok) {
      if (dialog) closeDialog(dialog);
      swapColumns(data.columns);
      swapSummary(data.summary);
      say(data.message);
      const moved = cardById(card.dataset.id);
      const focusTarget = moved && moved.querySelector(".move-btn");
      if (focusTarget && dialog) focusTarget.focus();
    } else if (data.gate) {
      if (dialog && dialog !== gateDialog) closeDialog(dialog);
      pending = { card: card, stage: stage };
      gateDialog.querySelector(".gate-body").innerHTML = data.gate;
      if (!gateDialog.open) gateDialog.showModal();
      const first = gateDialog.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    } else if (dialog) {
      dialogError(dialog, data.error);
    } else {
      say(data.error, true);
    }
  }

  // --- drag and drop ---------------------------------------------------------------------
  let dragged = null;
  board.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest("li.deal");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    document.body.classList.add("is-dragging-deal");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    document.body.classList.remove("is-dragging-deal");
    document.querySelectorAll(".drop-over").forEach((el) => el.classList.remove("drop-over"));
  });

  function dropTarget(event) {
    return event.target.closest && event.target.closest(".column, .dropzone");
  }
  document.addEventListener("dragover", (event) => {
    const target = dropTarget(event);
    if (!dragged || !target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".drop-over").forEach((el) => {
      if (el !== target) el.classList.remove("drop-over");
    });
    target.classList.add("drop-over");
  });
  document.addEventListener("drop", (event) => {
    const target = dropTarget(event);
    if (!dragged || !target) return;
    event.preventDefault();
    target.classList.remove("drop-over");
    const card = dragged;
    const stage = target.dataset.stage;
    if (stage && stage !== card.dataset.stage) move(card, stage);
  });

  // --- keyboard alternative: the "Move to…" dialog ----------------------------------------
  board.addEventListener("click", (event) => {
    const button = event.target.closest(".move-btn");
    if (!button) return;
    const card = button.closest("li.deal");
    pending = { card: card };
    moveDialog.querySelector(".deal-name").textContent = "“" + card.dataset.name + "”";
    const select = moveDialog.querySelector("select[name=stage]");
    Array.from(select.options).forEach((o) => {
      o.disabled = o.value === card.dataset.stage;
    });
    const next = Array.from(select.options).find((o) => !o.disabled);
    const current = Array.from(select.options).findIndex((o) => o.value === card.dataset.stage);
    const after = select.options[current + 1];
    select.value = after && !after.disabled ? after.value : next ? next.value : "";
    dialogError(moveDialog, "");
    moveDialog.showModal();
    select.focus();
  });
  moveDialog.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const stage = moveDialog.querySelector("select[name=stage]").value;
    const card = pending && pending.card;
    if (!card) return;
    if (stage === lostStage) {
      closeDialog(moveDialog);
      move(card, stage);
    } else {
      move(card, stage, null, moveDialog);
    }
  });

  // --- lost reason ------------------------------------------------------------------------
  lostDialog.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!pending) return;
    const body = new FormData(event.target);
    move(pending.card, lostStage, body, lostDialog);
  });

  // --- mandatory fields (stage gate) ------------------------------------------------------
  gateDialog.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!pending) return;
    const body = new FormData(event.target);
    move(pending.card, pending.stage, body, gateDialog);
  });

  // --- quick add --------------------------------------------------------------------------
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a.quick-add");
    if (!link) return;
    event.preventDefault();
    const url = new URL(board.dataset.createUrl, window.location.href);
    url.searchParams.set("quick", "1");
    if (link.dataset.stage) url.searchParams.set("stage", link.dataset.stage);
    const response = await fetch(url, { credentials: "same-origin" });
    quickDialog.querySelector(".quickadd-body").innerHTML = await response.text();
    quickDialog.showModal();
    const first = quickDialog.querySelector("input:not([type=hidden])");
    if (first) first.focus();
  });
  quickDialog.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const data = await post(form.action, new FormData(form));
    if (data.ok) {
      closeDialog(quickDialog);
      swapColumns(data.columns);
      swapSummary(data.summary);
      say(data.message);
    } else if (data.form) {
      quickDialog.querySelector(".quickadd-body").innerHTML = data.form;
    } else {
      dialogError(quickDialog, data.error);
    }
  });

  // --- dialogs: cancel buttons ------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-close]");
    if (close) closeDialog(close.closest("dialog"));
  });
})();
