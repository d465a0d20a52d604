/* Werkplek floor screen: floor plan, free quiet desks and rooms with "free until", other
 * floors and sites; live over SSE. Needs common.js. Plain JS, no build step.
 * URL: /signage/?site=hq&floor=hq-1&here=960,247&lang=nl|en&contrast=high#token=...
 * (here=x,y places "U bent hier" on the plan, in plan units; floorplan.js draws it and the
 * floor's drawing; a new plan_rev in the data makes the screen fetch its plan again) 
 * Silence never shows as free: without fresh data every space turns "unknown". */
(function () {
  "use strict";
  var W = window.Werkplek;
  var F = window.WerkplekFloor;
  var STALE_MS = 60000;      // no event for this long: data is no longer trusted
  var PROBE_MS = 45000;      // quiet stream: check the server with a plain GET
  var SVG_NS = "http://www.w3.org/2000/svg";
  var site = W.param("site");
  var floor = W.param("floor");
  var TEXT = {
    nl: {
      free: "Vrij", occupied: "Bezet", booked: "Gereserveerd", unknown: "Onbekend", plan: "Plattegrond",
      quietOne: "stille werkplek vrij", quietMany: "stille werkplekken vrij",
      placeOne: "stille plek vrij", placeMany: "stille plekken vrij",
      desks: "{free} van {total} werkplekken vrij", unknownDesks: "{n} onbekend",
      roomsLine: "{free} van {total} ruimtes vrij", desksUnknown: "{total} werkplekken: onbekend",
      roomsUnknown: "{total} ruimtes: onbekend", whySensors: "— sensoren niet bereikbaar sinds {t}",
      whyStale: "— geen actuele gegevens sinds {t}", whyNever: "— nog geen gegevens",
      quietLegend: "Stiltezone", listedLegend: "In de lijst", desk: "Werkplek",
      quietWhere: "Stille plekken vrij", noQuiet: "Nu geen stille plek vrij", more: "en nog {n}",
      rooms: "Ruimtes", noRooms: "Geen ruimtes op deze verdieping", otherFloors: "Andere verdiepingen",
      otherSites: "Andere locaties", person: "1 persoon", persons: "{n} personen", short: "{n} p.",
      roomsOne: "1 ruimte vrij", roomsMany: "{n} ruimtes vrij", quietZone: "Stilte",
      zone: "Zone {z}", live: "Actueel", connecting: "Verbinden…",
      offline: "Geen verbinding. Nieuwe poging over {s} s",
      stale: "Gegevens niet actueel (laatst {t})", staleNever: "Gegevens niet actueel",
      nosensors: "Sensoren niet bereikbaar",
      until: "tot {t}", freeUntil: "Vrij tot {t}", occupiedUntil: "Bezet tot {t}",
      bookedUntil: "Gereserveerd tot {t}", tomorrow: "morgen",
      noToken: "Dit scherm heeft geen geldige toegangscode. Vraag de beheerder om de juiste link.",
      loadFailed: "De gegevens laden lukt niet. We proberen het opnieuw.",
      nowState: "{name} is nu {state}.", manyChanged: "{n} plekken zijn veranderd.",
      tileBooked: "Geboekt"
    },
    en: {
      free: "Free", occupied: "Occupied", booked: "Booked", unknown: "Unknown", plan: "Floor plan",
      quietOne: "quiet desk free", quietMany: "quiet desks free",
      placeOne: "quiet desk free", placeMany: "quiet desks free",
      desks: "{free} of {total} desks free", unknownDesks: "{n} unknown",
      roomsLine: "{free} of {total} rooms free", desksUnknown: "{total} desks: unknown",
      roomsUnknown: "{total} rooms: unknown", whySensors: "— sensors not reachable since {t}",
      whyStale: "— no current data since {t}", whyNever: "— no data yet",
      quietLegend: "Quiet zone", listedLegend: "In the list", desk: "Desk",
      quietWhere: "Free quiet desks", noQuiet: "No quiet desk free now", more: "and {n} more",
      rooms: "Rooms", noRooms: "No rooms on this floor", otherFloors: "Other floors",
      otherSites: "Other locations", person: "1 person", persons: "{n} people", short: "{n} p.",
      roomsOne: "1 room free", roomsMany: "{n} rooms free", quietZone: "Quiet",
      zone: "Zone {z}", live: "Live", connecting: "Connecting…",
      offline: "No connection. Retrying in {s} s",
      stale: "Data not up to date (last {t})", staleNever: "Data not up to date",
      nosensors: "Sensors not reachable",
      until: "until {t}", freeUntil: "Free until {t}", occupiedUntil: "Occupied until {t}",
      bookedUntil: "Booked until {t}", tomorrow: "tomorrow",
      noToken: "This screen has no valid access code. Ask the administrator for the right link.",
      loadFailed: "Loading the data failed. Trying again.",
      nowState: "{name} is now {state}.", manyChanged: "{n} places changed.",
      tileBooked: "Booked"
    }
  }[W.lang];
  var st = {
    shapes: new Map(), nodes: new Map(), avail: new Map(), floors: [], sites: new Map(),
    connected: false, gateway: "unknown", lastData: 0, tz: "Europe/Amsterdam", stream: null,
    otherFloors: [], otherSites: [], quietRows: 0, sensorsDownSince: 0, html: {},
    floorInfo: null, planRev: null, wantRev: null, reloading: false
  };
  var byName = new Intl.Collator(W.lang, { numeric: true, sensitivity: "base" }).compare;

  function t(key, vars) { return W.fill(TEXT[key], vars || {}); }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function icon(state) {
    return '<svg class="mini" aria-hidden="true"><use href="#icon-' + state + '"></use></svg>';
  }
  /* Set a list's rows only when they changed: no DOM work on a quiet minute. */
  function setHtml(node, html) {
    if (st.html[node.id] === html) return;
    st.html[node.id] = html;
    node.innerHTML = html;
  }
  function row(html, state, id) {
    return "<li" + (state ? ' data-state="' + state + '"' : "") +
      (id ? ' data-space="' + W.esc(id) + '"' : "") + ">" + html + "</li>";
  }
  /* Estimated width of bold text in em, from its characters: sizes are worked out once,
   * by arithmetic, so the screen never measures text (no forced layout per tile). */
  function ems(text) {
    var w = 0;
    for (var i = 0; i < text.length; i++) w += /[.,:;1il ]/.test(text[i]) ? 0.4 : /[mwMW]/.test(text[i]) ? 1.0 : 0.72;
    return w;
  }
  function sizeFor(text, width, largest) {
    return Math.max(12, Math.min(largest, Math.floor(width / Math.max(ems(text), 1))));
  }
  /* "Werkplek 1.28" -> "1.28": the number the list and the plan share. */
  function deskNo(name) {
    var m = /(\d[\w.\-]*)\s*$/.exec(name);
    return m ? m[1] : name.slice(0, 4);
  }
  function zoneName(s) {
    return s.quiet ? TEXT.quietZone : s.zone ? t("zone", { z: s.zone.toUpperCase() }) : "";
  }

  /* Desks of one zone split into blocks where a gap between rows is wider than a desk. */
  function blocks(spaces) {
    var zones = {}, out = [];
    spaces.forEach(function (s) {
      if (s.kind === "desk" && s.zone) (zones[s.zone] = zones[s.zone] || []).push(s);
    });
    Object.keys(zones).forEach(function (z) {
      var desks = zones[z].slice().sort(function (a, b) { return a.y - b.y; }), block = null;
      desks.forEach(function (s) {
        if (!block || s.y > block.y2 + s.h / 2) {
          block = { zone: z, quiet: s.quiet, first: s, x1: s.x, y1: s.y, x2: s.x + s.w, y2: s.y + s.h };
          out.push(block);
        }
        block.x1 = Math.min(block.x1, s.x);
        block.x2 = Math.max(block.x2, s.x + s.w);
        block.y2 = Math.max(block.y2, s.y + s.h);
      });
    });
    return out;
  }

  /* The short word a desk tile shows under its colour: the legend's word, "Geboekt" for booked. */
  function tileWord(state) { return state === "booked" ? TEXT.tileBooked : TEXT[state]; }

  function buildPlan(floorInfo, spaces, drawing) {
    var svg = $("plan"), zones = $("plan-zones"), layer = $("plan-spaces");
    var box = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
    function grow(x1, y1, x2, y2) {
      box.x1 = Math.min(box.x1, x1); box.y1 = Math.min(box.y1, y1);
      box.x2 = Math.max(box.x2, x2); box.y2 = Math.max(box.y2, y2);
    }
    svg.setAttribute("aria-label", TEXT.plan + " " + floorInfo.name);
    var longest = [TEXT.free, TEXT.occupied, TEXT.booked, TEXT.unknown];
    spaces.forEach(function (s) {
      st.shapes.set(s.id, s);
      grow(s.x, s.y, s.x + s.w, s.y + s.h);
      var desk = s.kind === "desk", g = el("g", { "class": "space " + (desk ? "desk" : "room"),
        "data-space-id": s.id, "data-state": "unknown", role: "img" }, layer);
      el("rect", { "class": "shape", x: s.x, y: s.y, width: s.w, height: s.h, rx: 6 }, g);
      var node = { g: g, key: "", sizes: {} };
      if (desk) {
        // The state word on top; the state's icon beside the desk number below it.
        var no = deskNo(s.name), size = Math.min(16, s.h / 4), noSize = F.fit(no, s.w - 11 - size, 25);
        var left = s.x + (s.w - size - 3 - F.ems(no) * noSize) / 2;
        node.icon = el("use", { "class": "icon", href: "#icon-unknown", width: size, height: size,
          x: left, y: s.y + s.h - 9 - size }, g);
        var num = el("text", { "class": "desk-no", x: left + size + 3, y: s.y + s.h - 8 }, g);
        num.textContent = no;
        num.setAttribute("font-size", noSize);
        node.word = el("text", { "class": "state-word", x: s.x + s.w / 2, y: s.y + Math.min(22, s.h / 2.6),
          "text-anchor": "middle" }, g);
        [TEXT.free, TEXT.occupied, TEXT.tileBooked, TEXT.unknown].forEach(function (word) {
          node.sizes[word] = F.fit(word, s.w - 8, Math.min(20, s.h / 3));
        });
      } else {
        var name = el("text", { "class": "room-name", x: s.x + 12, y: s.y + 30 }, g);
        name.textContent = s.name;
        name.setAttribute("font-size", sizeFor(s.name, s.w - 24, 22));
        var cap = el("text", { "class": "room-cap", x: s.x + 12, y: s.y + 56 }, g);
        cap.textContent = s.capacity === 1 ? TEXT.person : t("persons", { n: s.capacity });
        node.icon = el("use", { "class": "icon", href: "#icon-unknown", width: 34, height: 34,
          x: s.x + 12, y: s.y + 70 }, g);
        node.until = el("text", { "class": "until-text", x: s.x + 54, y: s.y + 97 }, g);
        node.label = el("text", { "class": "state-text", x: s.x + 12, y: s.y + s.h - 14 }, g);
        longest.forEach(function (word) { node.sizes[word] = sizeFor(word, s.w - 24, 32); });
      }
      st.nodes.set(s.id, node);
    });
    blocks(spaces).forEach(function (b) {
      if (b.quiet) {
        el("rect", { "class": "quiet-zone", x: b.x1 - 8, y: b.y1 - 8, width: b.x2 - b.x1 + 16,
          height: b.y2 - b.y1 + 16, rx: 10 }, zones);
      }
      var x = b.x1;
      if (b.quiet) {
        el("use", { "class": "zone-label-icon", href: "#icon-quiet", width: 28, height: 28,
          x: x, y: b.y1 - 44 }, zones);
        x += 34;
      }
      var label = el("text", { "class": "zone-label", x: x, y: b.y1 - 20 }, zones);
      label.textContent = zoneName(b.first);
      grow(b.x1 - 10, b.y1 - 50, b.x2 + 10, b.y2 + 10);
    });
    var bounds = { x1: 0, y1: 0, x2: floorInfo.plan_width, y2: floorInfo.plan_height };
    var drawn = drawing && drawing.features.length ?
      F.drawFloor($("plan-drawing"), drawing.features, W.lang, bounds) : null;
    if (drawn) grow(drawn.x1, drawn.y1, drawn.x2, drawn.y2);
    var here = F.herePoint(W.param("here"), bounds.x2, bounds.y2);
    if (here) {
      var mark = F.drawHere($("plan-here"), here, W.lang, bounds);
      grow(mark.x1, mark.y1, mark.x2, mark.y2);
      svg.setAttribute("aria-label", TEXT.plan + " " + floorInfo.name + ". " + F.hereText(W.lang));
    }
    // The view is the drawing itself (not the whole sheet): no empty bands around it.
    svg.setAttribute("viewBox", [box.x1 - 10, box.y1 - 10, box.x2 - box.x1 + 20,
      box.y2 - box.y1 + 20].join(" "));
  }

  /* The panel's fixed rows, known before any data: other floors and sites. */
  function buildPanel(floors) {
    st.otherFloors = floors.filter(function (f) { return f.id !== floor; });
    st.sites.forEach(function (s, id) { if (id !== site) st.otherSites.push(s); });
    $("other-floors-title").hidden = $("other-floors").hidden = !st.otherFloors.length;
    $("other-sites-title").hidden = $("other-sites").hidden = !st.otherSites.length;
  }
  /* How many rows the quiet list has room for: read once at start and on resize. */
  function measure() {
    var list = $("quiet-desks"), rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    st.quietRows = Math.max(1, Math.floor(list.clientHeight / (2.6 * rem)));
    st.html = {};
  }

  function stale() { return Date.now() - st.lastData > STALE_MS; }
  function shownState(id) {
    var a = st.avail.get(id);
    if (!a || stale()) return "unknown";
    var known = { free: 1, occupied: 1, booked: 1 };
    return known[a.availability] ? a.availability : "unknown";
  }
  /* "14:00" for a free, booked or occupied space with a known end or next booking. */
  function untilOf(id, state) {
    var a = st.avail.get(id);
    return state === "unknown" || !a ? "" : W.until(a.until, st.tz, TEXT);
  }
  /* The whole sentence: "Vrij tot 14:00", "Bezet", "Gereserveerd tot 11:00". */
  function sentence(state, until) {
    if (!until) return TEXT[state];
    return t({ free: "freeUntil", occupied: "occupiedUntil", booked: "bookedUntil" }[state], { t: until });
  }
  function renderSpace(id) {
    var node = st.nodes.get(id), shape = st.shapes.get(id);
    if (!node) return;
    var state = shownState(id), until = untilOf(id, state), key = state + "|" + until;
    if (node.key === key) return;
    node.key = key;
    node.g.setAttribute("data-state", state);
    var where = shape.kind === "desk" && shape.quiet ? " (" + TEXT.quietZone + ")" : "";
    node.g.setAttribute("aria-label", shape.name + where + ": " + sentence(state, until));
    node.icon.setAttribute("href", "#icon-" + state);
    if (node.label) {
      node.label.textContent = TEXT[state];
      node.label.setAttribute("font-size", node.sizes[TEXT[state]]);
    }
    if (node.until) node.until.textContent = until ? t("until", { t: until }) : "";
    if (node.word) {
      node.word.textContent = tileWord(state);
      node.word.setAttribute("font-size", node.sizes[tileWord(state)]);
    }
  }
  function renderAll() { st.nodes.forEach(function (_, id) { renderSpace(id); }); renderPanel(); }

  /* Desks and rooms counted apart, from what the plan shows. */
  function counts() {
    var c = { desks: 0, deskFree: 0, deskUnknown: 0, quietFree: 0, rooms: 0, roomFree: 0, roomUnknown: 0 };
    st.shapes.forEach(function (s, id) {
      var state = shownState(id);
      if (s.kind === "desk") {
        c.desks += 1;
        if (state === "free") c.deskFree += 1;
        if (state === "free" && s.quiet) c.quietFree += 1;
        if (state === "unknown") c.deskUnknown += 1;
      } else {
        c.rooms += 1;
        if (state === "free") c.roomFree += 1;
        if (state === "unknown") c.roomUnknown += 1;
      }
    });
    return c;
  }
  /* Why the numbers cannot be trusted now, or null. "0 free" is never shown for "unknown":
   * no fresh data, the sensors' link down, or most desks unknown. */
  function outage(c) {
    if (!st.lastData) return { why: "whyNever" };
    if (stale()) return { why: "whyStale", since: st.lastData };
    var down = !st.connected || st.gateway === "offline" || (c.desks && c.deskUnknown * 2 > c.desks);
    if (!down) { st.sensorsDownSince = 0; return null; }
    if (!st.sensorsDownSince) st.sensorsDownSince = sensorsSince();
    return { why: "whySensors", since: st.sensorsDownSince };
  }
  /* When the desks went unknown, by their own "since" (the middle one), else now. */
  function sensorsSince() {
    var times = [];
    st.shapes.forEach(function (s, id) {
      var a = st.avail.get(id);
      if (s.kind === "desk" && a && a.availability === "unknown" && a.since) times.push(a.since);
    });
    times.sort(function (a, b) { return a - b; });
    return times.length ? times[Math.floor(times.length / 2)] : Date.now();
  }

  function renderPanel() {
    var c = counts(), down = outage(c);
    $("headline").setAttribute("data-mode", down ? "unknown" : "count");
    $("count-quiet").textContent = down ? TEXT.unknown : String(c.quietFree);
    $("count-quiet-label").textContent = down ?
      t(down.why, { t: down.since ? W.clockTime(window.WerkplekClient.fromWall(down.since), st.tz) : "" }) :
      c.quietFree === 1 ? TEXT.quietOne : TEXT.quietMany;
    var desks = t("desks", { free: c.deskFree, total: c.desks });
    if (c.deskUnknown) desks += " · " + t("unknownDesks", { n: c.deskUnknown });
    var rooms = t("roomsLine", { free: c.roomFree, total: c.rooms });
    if (c.roomUnknown) rooms += " · " + t("unknownDesks", { n: c.roomUnknown });
    // Nothing known is said as such, never as "0 of 40 free".
    $("count-desks").textContent = c.deskUnknown === c.desks ? t("desksUnknown", { total: c.desks }) : desks;
    $("count-rooms").textContent = !c.rooms ? TEXT.noRooms :
      c.roomUnknown === c.rooms ? t("roomsUnknown", { total: c.rooms }) : rooms;
    renderQuiet(down);
    renderRooms();
    renderOthers(!!down);
  }
  function renderQuiet(down) {
    var free = [], html = "";
    st.shapes.forEach(function (s, id) {
      if (s.kind === "desk" && s.quiet && shownState(id) === "free") free.push(s);
    });
    free.sort(function (a, b) { return byName(a.name, b.name); });
    // Nobody scrolls a wall screen: as many rows as fit, then "and N more".
    var shown = free.length > st.quietRows ? free.slice(0, st.quietRows - 1) : free;
    var listed = new Set(shown.map(function (s) { return s.id; }));
    shown.forEach(function (s) {
      var until = untilOf(s.id, "free");
      html += row(icon("free") + "<strong>" + W.esc(s.name) + "</strong> " +
        '<span class="where">' + W.esc(zoneName(s)) + "</span> " +
        '<span class="until">' + W.esc(until ? sentence("free", until) : TEXT.free) + "</span>",
        "free", s.id);
    });
    if (shown.length < free.length) {
      html += '<li class="more">' + W.esc(t("more", { n: free.length - shown.length })) + "</li>";
    }
    if (!free.length) html = row(W.esc(down ? TEXT.unknown : TEXT.noQuiet));
    setHtml($("quiet-desks"), html);
    // The plan frames the desks the list names, so a number read there is found here.
    st.nodes.forEach(function (node, id) {
      var on = listed.has(id) ? "true" : "false";
      if (node.g.getAttribute("data-listed") !== on) node.g.setAttribute("data-listed", on);
    });
  }
  /* Rooms by name and number, always in the same order: rows never jump on a glance screen. */
  function renderRooms() {
    var rooms = [], html = "";
    st.shapes.forEach(function (s) { if (s.kind !== "desk") rooms.push(s); });
    rooms.sort(function (a, b) { return byName(a.name, b.name); });
    rooms.forEach(function (s) {
      var state = shownState(s.id);
      html += row(icon(state) + "<strong>" + W.esc(s.name) + "</strong> " +
        '<span class="cap">' + W.esc(t("short", { n: s.capacity })) + "</span> " +
        '<span class="until">' + W.esc(sentence(state, untilOf(s.id, state))) + "</span>", state, s.id);
    });
    setHtml($("rooms"), html || row(W.esc(TEXT.noRooms)));
  }
  function renderOthers(down) {
    var byFloor = new Map(st.floors.map(function (f) { return [f.floor, f]; })), bySite = {};
    st.floors.forEach(function (f) {
      if (f.site === site) return;
      var s = bySite[f.site] || (bySite[f.site] = { free_quiet_desks: 0, free_rooms: 0 });
      s.free_quiet_desks += f.free_quiet_desks;
      s.free_rooms += f.free_rooms;
    });
    setHtml($("other-floors"), st.otherFloors.map(function (f) {
      return row(W.esc(f.name) + ": " + summary(byFloor.get(f.id), down));
    }).join(""));
    setHtml($("other-sites"), st.otherSites.map(function (s) {
      return row(W.esc(s.name) + ": " + summary(bySite[s.id], down));
    }).join(""));
  }
  function summary(f, down) {
    if (down || !f) return W.esc(TEXT.unknown);
    var q = f.free_quiet_desks, r = f.free_rooms;
    return "<strong>" + q + "</strong> " + W.esc(q === 1 ? TEXT.placeOne : TEXT.placeMany) +
      " · " + W.esc(r === 1 ? TEXT.roomsOne : t("roomsMany", { n: r }));
  }

  /* Fetch the floor's spaces and drawing and (re)build the plan from them. */
  function loadPlan() {
    var path = "/api/v1/floors/" + encodeURIComponent(floor);
    return Promise.all([W.api(path + "/spaces"), W.api(path + "/drawing").catch(function () { return null; })])
      .then(function (got) {
        ["plan-drawing", "plan-zones", "plan-spaces", "plan-here"].forEach(function (id) { $(id).textContent = ""; });
        st.shapes.clear();
        st.nodes.clear();
        buildPlan(st.floorInfo, got[0], got[1]);
      });
  }
  /* A space or the drawing was edited (the floor's plan_rev moved): fetch the plan again. */
  function checkPlan(floors) {
    var mine = floors.filter(function (f) { return f.floor === floor; })[0];
    if (!mine || mine.plan_rev === undefined) return;
    if (st.planRev === null) st.planRev = mine.plan_rev;
    st.wantRev = mine.plan_rev;
    reloadPlan();
  }
  /* One fetch at a time; an edit seen during a fetch gets its own fetch after it. */
  function reloadPlan() {
    if (st.reloading || st.wantRev === st.planRev) return;
    var rev = st.wantRev;
    st.reloading = true;
    loadPlan().then(function () {
      st.planRev = rev;
      st.reloading = false;
      renderAll();
      reloadPlan();
    }, function () { st.reloading = false; });
  }

  function applySnapshot(data) {
    showMessage("");
    checkPlan(data.floors);
    st.avail.clear();
    data.spaces.forEach(function (a) { st.avail.set(a.space_id, a); });
    st.floors = data.floors;
    st.connected = data.connected;
    st.gateway = data.gateway;
    st.lastData = Date.now();
    renderAll();
    renderStatus();
  }
  function applyDelta(data) {
    var changed = [];
    data.spaces.forEach(function (a) {
      var before = st.avail.get(a.space_id);
      if (before && before.availability !== a.availability) changed.push(a);
      st.avail.set(a.space_id, a);
    });
    var floors = new Map(st.floors.map(function (f) { return [f.floor, f]; }));
    data.floors.forEach(function (f) { floors.set(f.floor, f); });
    st.floors = Array.from(floors.values());
    checkPlan(data.floors);
    st.connected = data.connected;
    st.gateway = data.gateway;
    st.lastData = Date.now();
    data.spaces.forEach(function (a) { renderSpace(a.space_id); });
    renderPanel();
    renderStatus();
    announce(changed);
  }
  function announce(changed) {
    if (!changed.length) return;
    var msg = changed.length > 3 ? t("manyChanged", { n: changed.length }) :
      changed.map(function (a) {
        return t("nowState", { name: a.name, state: TEXT[shownState(a.space_id)].toLowerCase() });
      }).join(" ");
    $("announcer").textContent = msg;
  }

  function renderStatus() {
    var box = $("status"), state, text, stream = st.stream, link = stream ? stream.state() : "connecting";
    if (link === "offline") {
      state = "offline";
      text = t("offline", { s: Math.max(0, Math.ceil((stream.retryAt - Date.now()) / 1000)) });
    } else if (link === "connecting" && !st.lastData) {
      state = "connecting"; text = TEXT.connecting;
    } else if (stale()) {
      state = "stale";
      text = st.lastData ? t("stale", { t: W.clockTime(st.lastData, st.tz) }) : TEXT.staleNever;
    } else if (!st.connected || st.gateway === "offline") {
      state = "nosensors"; text = TEXT.nosensors;
    } else {
      state = "live"; text = TEXT.live;
    }
    box.setAttribute("data-status", state);
    document.body.setAttribute("data-status", state);
    if ($("status-text").textContent !== text) $("status-text").textContent = text;
  }

  var lastMinute = "", lastStale = false;
  function tick() {
    W.clock($("clock"), $("date"), st.tz);
    // Once a minute and when data goes stale "free until" and staleness are re-judged; while
    // stale every space is "unknown", so one render at the change is enough (not one a second).
    var minute = $("clock").textContent, old = stale();
    if (old !== lastStale || minute !== lastMinute) {
      lastMinute = minute;
      lastStale = old;
      if (st.nodes.size) renderAll();
    }
    renderStatus();
  }
  function showMessage(text) { var m = $("message"); m.textContent = text; m.hidden = !text; }

  function start() {
    if (!W.token) { showMessage(TEXT.noToken); return; }
    W.api("/api/v1/sites").then(function (sites) {
      sites.forEach(function (s) { st.sites.set(s.id, s); });
      if (!st.sites.has(site)) site = sites[0].id;
      st.tz = st.sites.get(site).timezone || st.tz;
      return W.api("/api/v1/sites/" + encodeURIComponent(site) + "/floors");
    }).then(function (floors) {
      var info = floors.filter(function (f) { return f.id === floor; })[0] || floors[0];
      floor = info.id;
      $("site-name").textContent = st.sites.get(site).name;
      $("floor-name").textContent = info.name;
      st.floorInfo = info;
      return loadPlan().then(function () {
        showMessage("");
        document.body.classList.remove("loading");
        buildPanel(floors);
        renderAll();
        measure();  // with every fixed row in place: how many quiet desks fit
        renderPanel();
        window.addEventListener("resize", function () { measure(); renderPanel(); });
        var q = "site=" + encodeURIComponent(site) + "&floor=" + encodeURIComponent(floor);
        // SSE pings are comments, invisible to EventSource: the stream probes the API when quiet.
        st.stream = W.LiveStream("/api/v1/stream?" + q, {
          snapshot: applySnapshot, delta: applyDelta, status: renderStatus,
          refused: function () { showMessage(TEXT.noToken); }
        }, { probe: { path: "/api/v1/availability?" + q, apply: applySnapshot, quietMs: PROBE_MS } });
        st.stream.open();
      });
    }).catch(function (err) {
      showMessage(err.status === 401 || err.status === 403 ? TEXT.noToken : TEXT.loadFailed);
      setTimeout(start, err.status === 401 || err.status === 403 ? 60000 : 5000);
    });
  }

  W.contrast();
  W.translate(TEXT);
  tick();
  setInterval(tick, 1000);
  start();
})();
