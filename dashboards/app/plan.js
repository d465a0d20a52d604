/* Floor plan of the booking app: an inline SVG drawn from the spaces' x, y, w, h.
 * Every space shows its state by colour, by shape and by an icon; rooms also by a word
 * (a desk tile is too small for "Uw reservering": its word is in its name and the legend).
 * Desks that match the filters and rooms are buttons that open the confirmation sheet; the
 * plan is one Tab stop and the arrow keys move between them (a roving tabindex), so a
 * keyboard user is not made to Tab through 40 desks. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var ICON = { free: "✓", booked: "▣", occupied: "●", unknown: "?", mine: "★" };

  function el(tag, attrs, parent, text) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function shortName(name) {
    // "Werkplek 1.03" -> "1.03": the number is what fits on a desk.
    var parts = String(name).split(" ");
    return parts[parts.length - 1];
  }

  function fitSize(text, width, largest) {
    // A bold sans-serif letter is about 0.62 em wide: shrink long room names to fit their room.
    return Math.max(10, Math.min(largest, Math.floor(width / (String(text).length * 0.62))));
  }

  /* opts: floor {plan_width, plan_height, name}, spaces [{id, name, kind, state, x, y, w, h,
   * match, label}], focusId, onChoose(space), text(state) -> word, and optionally the floor's
   * drawing (GeoJSON, drawn by /signage/floorplan.js) with lang. Returns the focused id. */
  function draw(svg, opts) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("viewBox", "0 0 " + opts.floor.plan_width + " " + opts.floor.plan_height);
    el("rect", { "class": "floor", x: 0, y: 0, width: opts.floor.plan_width,
      height: opts.floor.plan_height, "aria-hidden": "true" }, svg);
    // The floor's drawing (walls, corridors, named landmarks) under the spaces, as on signage.
    if (opts.drawing && opts.drawing.features.length && window.WerkplekFloor) {
      var bounds = { x1: 0, y1: 0, x2: opts.floor.plan_width, y2: opts.floor.plan_height };
      window.WerkplekFloor.drawFloor(el("g", { "class": "drawing", "aria-hidden": "true" }, svg),
        opts.drawing.features, opts.lang || "nl", bounds, { icons: false });
    }
    var desks = [];
    opts.spaces.forEach(function (s) {
      var desk = s.kind === "desk";
      if (desk && !s.match) {
        // Filtered out: drawn faint so the room keeps its shape, hidden from screen readers.
        el("rect", { "class": "other", x: s.x, y: s.y, width: s.w, height: s.h, rx: 4,
          "aria-hidden": "true" }, svg);
        return;
      }
      var g = el("g", { "class": "sp " + (desk ? "desk" : "room"), "data-space-id": s.id,
        "data-state": s.state, role: "button", "aria-label": s.label, tabindex: "-1" }, svg);
      desks.push({ g: g, s: s });
      el("rect", { "class": "ring", x: s.x - 5, y: s.y - 5, width: s.w + 10, height: s.h + 10, rx: 8 }, g);
      el("rect", { "class": "shape", x: s.x, y: s.y, width: s.w, height: s.h,
        rx: s.state === "occupied" ? Math.min(s.w, s.h, 60) / 2 : 3 }, g);
      if (s.state === "booked" || s.state === "mine") {
        el("rect", { "class": "inner", x: s.x + 5, y: s.y + 5, width: s.w - 10, height: s.h - 10, rx: 2 }, g);
      }
      var cx = s.x + s.w / 2;
      if (desk) {
        el("text", { "class": "icon", x: cx, y: s.y + 24, "text-anchor": "middle", "font-size": 20,
          "aria-hidden": "true" }, g, ICON[s.state]);
        el("text", { "class": "name", x: cx, y: s.y + 46, "text-anchor": "middle",
          "font-size": fitSize(shortName(s.name), s.w - 12, 18), "aria-hidden": "true" }, g, shortName(s.name));
      } else {
        var word = opts.text(s.state);
        el("text", { "class": "icon", x: s.x + 16, y: s.y + 40, "font-size": 30, "aria-hidden": "true" }, g, ICON[s.state]);
        el("text", { "class": "name", x: s.x + 16, y: s.y + 80, "font-size": fitSize(s.name, s.w - 32, 22),
          "aria-hidden": "true" }, g, s.name);
        el("text", { "class": "word", x: s.x + 16, y: s.y + 112, "font-size": fitSize(word, s.w - 32, 20),
          "aria-hidden": "true" }, g, word);
      }
      g.addEventListener("click", function () { focusOn(desks, s.id); opts.onChoose(s); });
      g.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); opts.onChoose(s); return; }
        var next = neighbour(desks, s, ev.key);
        if (next) { ev.preventDefault(); focusOn(desks, next.id).focus(); opts.onMove(next.id); }
      });
    });
    var keep = desks.some(function (d) { return d.s.id === opts.focusId; }) ? opts.focusId :
      (desks[0] && desks[0].s.id);
    if (keep) focusOn(desks, keep);
    return keep || null;
  }

  function focusOn(desks, id) {
    var found = null;
    desks.forEach(function (d) {
      var on = d.s.id === id;
      d.g.setAttribute("tabindex", on ? "0" : "-1");
      if (on) found = d.g;
    });
    return found;
  }

  function neighbour(desks, from, key) {
    // The nearest desk in the arrow's direction, preferring ones in the same row or column.
    var dir = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] }[key];
    if (!dir) {
      if (key === "Home") return desks[0] && desks[0].s;
      if (key === "End") return desks.length ? desks[desks.length - 1].s : null;
      return null;
    }
    var fx = from.x + from.w / 2, fy = from.y + from.h / 2, best = null, bestScore = Infinity;
    desks.forEach(function (d) {
      var dx = d.s.x + d.s.w / 2 - fx, dy = d.s.y + d.s.h / 2 - fy;
      var along = dx * dir[0] + dy * dir[1], across = Math.abs(dx * dir[1]) + Math.abs(dy * dir[0]);
      if (along <= 0) return;
      var score = along + across * 3;
      if (score < bestScore) { bestScore = score; best = d.s; }
    });
    return best;
  }

  window.WerkplekPlan = { draw: draw };
})();
