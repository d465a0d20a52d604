/* Werkplek floor screen: the floor's drawing under the tiles (walls, rooms, corridors and
 * landmarks from GET /api/v1/floors/<id>/drawing), the "U bent hier" / "You are here" marker
 * of this screen (URL parameter here=x,y in plan units, from the screen's link), and the
 * sizes of the short state words on desk tiles. Drawn once per plan: no work on a tick.
 * Sizes come from the font's own metrics (canvas measureText): no layout is forced.
 * Plain JS, no build step; used by signage.js. */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var LANDMARK = { entrance: 1, lift: 1, stairs: 1, toilets: 1, pantry: 1 };
  var WORDS = {
    nl: { entrance: "Ingang", lift: "Lift", stairs: "Trap", toilets: "Toiletten", pantry: "Pantry",
          here: "U bent hier" },
    en: { entrance: "Entrance", lift: "Lift", stairs: "Stairs", toilets: "Toilets", pantry: "Pantry",
          here: "You are here" }
  };  // fallback names of landmarks the drawing leaves unnamed
  var FONT = 'bold 100px system-ui, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif';
  var ctx = null, widths = {};

  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  /* Width of bold text in em, from the font's metrics (cached per text). */
  function ems(text) {
    if (widths[text] === undefined) {
      if (!ctx) { ctx = document.createElement("canvas").getContext("2d"); ctx.font = FONT; }
      widths[text] = ctx.measureText(text).width / 100;
    }
    return widths[text] || 0.6 * text.length;
  }
  /* The largest font size (plan units) at which ``text`` fits ``width``, at most ``largest``. */
  function fit(text, width, largest) {
    return Math.max(8, Math.min(largest, Math.floor(width / Math.max(ems(text), 0.5))));
  }

  function Box() { this.x1 = Infinity; this.y1 = Infinity; this.x2 = -Infinity; this.y2 = -Infinity; }
  Box.prototype.add = function (x, y) {
    this.x1 = Math.min(this.x1, x); this.y1 = Math.min(this.y1, y);
    this.x2 = Math.max(this.x2, x); this.y2 = Math.max(this.y2, y);
  };

  function points(ring, box) {
    return ring.map(function (p) { box.add(p[0], p[1]); return p[0] + "," + p[1]; }).join(" ");
  }
  function pathOf(geometry, box) {
    var c = geometry.coordinates, polys = [], lines = [];
    if (geometry.type === "Polygon") polys = [c];
    if (geometry.type === "MultiPolygon") polys = c;
    if (geometry.type === "LineString") lines = [c];
    if (geometry.type === "MultiLineString") lines = c;
    var d = "";
    polys.forEach(function (poly) {
      poly.forEach(function (ring) { d += "M" + points(ring, box).replace(/ /g, "L") + "Z"; });
    });
    lines.forEach(function (line) { d += "M" + points(line, box).replace(/ /g, "L"); });
    return d;
  }
  /* Where a landmark's icon and label go: a point, or the middle of its outline's box. */
  function anchor(geometry) {
    if (geometry.type === "Point") return geometry.coordinates;
    var b = new Box();
    pathOf(geometry, b);
    return [(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2];
  }
  function nameOf(f, lang) {
    var n = f.properties.name;
    return (n && (n[lang] || n.nl || n.en)) || WORDS[lang][f.properties.kind] || "";
  }

  /* Draw the drawing into ``layer`` (under the tiles); return the box it covers, or null.
   * ``icons: false`` leaves out the landmark icons (a page without the #fp-* symbols). */
  function drawFloor(layer, features, lang, bounds, options) {
    var icons = !options || options.icons !== false;
    var box = new Box(), marks = [];
    var order = { corridor: 0, room: 1, entrance: 2, lift: 2, stairs: 2, toilets: 2, pantry: 2, wall: 3 };
    features.slice().sort(function (a, b) {
      return order[a.properties.kind] - order[b.properties.kind];
    }).forEach(function (f) {
      var kind = f.properties.kind, g = f.geometry;
      if (g.type !== "Point") {
        el("path", { "class": "fp-" + (LANDMARK[kind] ? "landmark" : kind), d: pathOf(g, box) }, layer);
      } else {
        box.add(g.coordinates[0], g.coordinates[1]);
      }
      if (LANDMARK[kind]) marks.push(f);
      else if (kind === "room" && f.properties.name) marks.push(f);
    });
    // Labels last, above every outline: an icon and the name in words.
    marks.forEach(function (f) {
      var kind = f.properties.kind, at = anchor(f.geometry), name = nameOf(f, lang);
      // A point on an outer wall (an entrance) is labelled just inside the plan.
      var half = Math.max(16, ems(name) * 10 + 4);
      var x = Math.max(bounds.x1 + half, Math.min(bounds.x2 - half, at[0]));
      var y = Math.max(bounds.y1 + 32, Math.min(bounds.y2 - 34, at[1]));
      var g = el("g", { "class": "fp-mark fp-" + kind }, layer);
      if (kind !== "room" && icons) {
        el("use", { href: "#fp-" + kind, x: x - 15, y: y - 30, width: 30, height: 30 }, g);
      }
      var label = el("text", { "class": "fp-label", x: x, y: kind === "room" || !icons ? y + 8 : y + 22,
        "text-anchor": "middle", "font-size": 20 }, g);
      label.textContent = name;
    });
    return box.x1 === Infinity ? null : box;
  }

  /* Read here=x,y; null when absent or not on the plan. */
  function herePoint(value, width, height) {
    var m = /^\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*$/.exec(value || "");
    if (!m) return null;
    var x = parseFloat(m[1]), y = parseFloat(m[2]);
    return x <= width && y <= height ? { x: x, y: y } : null;
  }
  /* "U bent hier": a ringed dot and the words in a box beside it (text, not only a symbol). */
  function drawHere(layer, point, lang, bounds) {
    var text = WORDS[lang].here, size = 26, w = ems(text) * size + 24, h = size + 18;
    var g = el("g", { "class": "fp-here", "data-here": point.x + "," + point.y }, layer);
    el("circle", { cx: point.x, cy: point.y, r: 16, "class": "fp-here-ring" }, g);
    el("circle", { cx: point.x, cy: point.y, r: 7, "class": "fp-here-dot" }, g);
    // The label sits right of the dot, or left of it near the right edge of the plan.
    var left = point.x + 24 + w > bounds.x2 ? point.x - 24 - w : point.x + 24;
    var top = Math.max(bounds.y1, Math.min(bounds.y2 - h, point.y - h / 2));
    el("rect", { x: left, y: top, width: w, height: h, rx: 8, "class": "fp-here-box" }, g);
    var label = el("text", { x: left + 12, y: top + h / 2 + size * 0.36, "font-size": size,
      "class": "fp-here-text" }, g);
    label.textContent = text;
    return { x1: Math.min(left, point.x - 16), y1: Math.min(top, point.y - 16),
      x2: Math.max(left + w, point.x + 16), y2: Math.max(top + h, point.y + 16) };
  }

  window.WerkplekFloor = {
    drawFloor: drawFloor, herePoint: herePoint, drawHere: drawHere, fit: fit, ems: ems,
    hereText: function (lang) { return WORDS[lang].here; }
  };
})();
