/* The confirmation sheet of the booking app: a modal <dialog> that says what is about to
 * happen (place, zone, floor, time) before anything is booked, so a mis-tap on a small
 * phone books nothing. Focus moves into it and back to where the person was; Escape and
 * the close button close it; success and errors are shown inside it, where the person is
 * looking. Plain JS, no inline styles or handlers (the pages run under a strict CSP). */
(function () {
  "use strict";
  var dlg = document.getElementById("confirm");
  var back = null, fallback = null, busy = false;
  function $(id) { return document.getElementById(id); }
  function button(a) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = a.cls || "";
    b.textContent = a.text;
    if (a.label) b.setAttribute("aria-label", a.label);
    if (a.id) b.id = a.id;
    b.addEventListener("click", function () {
      if (busy) return;  // one press books once, however fast the second tap comes
      if (a.run) a.run(); else close();
    });
    return b;
  }
  function setActions(actions) {
    var row = $("confirm-actions");
    row.innerHTML = "";
    actions.forEach(function (a) { row.appendChild(button(a)); });
    return row.querySelector("button");
  }

  /* o: {title, facts: [[term, value]], note, actions: [{text, cls, label, id, run}],
   * fallback: () -> element to focus when the opener is gone after the sheet closes}. */
  function open(o) {
    back = document.activeElement;
    fallback = o.fallback || null;
    busy = false;
    $("confirm-title").textContent = o.title;
    var facts = $("confirm-facts");
    facts.innerHTML = "";
    o.facts.forEach(function (f) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = f[0]; dd.textContent = f[1];
      facts.appendChild(dt); facts.appendChild(dd);
    });
    $("confirm-note").textContent = o.note || "";
    $("confirm-note").hidden = !o.note;
    $("confirm-status").textContent = "";
    $("confirm-error").textContent = "";
    var first = setActions(o.actions);
    if (!dlg.open) dlg.showModal();
    // The first action (Confirm) takes focus: Enter confirms, Escape or Tab to Cancel does not.
    (first || $("confirm-title")).focus();
  }
  function close() { if (dlg.open) dlg.close(); }
  function working(on) {
    busy = on;
    Array.prototype.forEach.call($("confirm-actions").querySelectorAll("button"), function (b) {
      b.setAttribute("aria-disabled", on ? "true" : "false");
    });
  }
  /* Show the outcome in the sheet and leave only the given actions (e.g. Close). */
  function done(text, actions) {
    busy = false;
    $("confirm-error").textContent = "";
    $("confirm-status").textContent = text;
    var first = setActions(actions);
    if (first) first.focus();
  }
  function fail(text, actions) {
    busy = false;
    $("confirm-status").textContent = "";
    $("confirm-error").textContent = text;
    var first = setActions(actions);
    if (first) first.focus();
  }
  dlg.addEventListener("close", function () {
    // Back to the opener; after a booking the list is redrawn and it may be gone.
    var target = back && document.contains(back) && !back.closest("[hidden]") ? back : fallback && fallback();
    back = null;
    if (target) target.focus();
  });
  // A tap on the dimmed page around the sheet closes it, as on most phones.
  dlg.addEventListener("click", function (ev) { if (ev.target === dlg && !busy) close(); });
  dlg.addEventListener("cancel", function (ev) { if (busy) ev.preventDefault(); });

  window.WerkplekSheet = { open: open, close: close, working: working, done: done, fail: fail,
    isOpen: function () { return dlg.open; } };
})();
