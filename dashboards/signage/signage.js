/* Werkplek floor screen: floor plan, free quiet desks and rooms with "free until", other
 * floors and sites; live over SSE. Needs common.js. Plain JS, no build step.
 * URL: /signage/?site=hq&floor=hq-1&lang=nl|en&contrast=high#token=...
 * Silence never shows as free: without fresh data every space turns "unknown". */
(function () {
  "use strict";
  var W = window.Werkplek;
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
      nowState: "{name} is nu {state}.", manyChanged: "{n} plekken zijn veranderd."
    },
    en: {
      free: "Free", occupied: "Occupied", booked: "Booked", unknown: "Unknown", plan: "Floor plan",
      quietOne: "quiet desk free", quietMany: "quiet desks free",
      placeOne: "quiet desk free", placeMany: "quiet desks free",
      desks: "{free} of {total} desks free", unknownDesks: "{n} unknown",
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
      nowState: "{name} is now {state}.", manyChanged: "{n} places changed."
    }
  }[W.lang];
  var st = {
    shapes: new Map(), nodes: new Map(), avail: new Map(), floors: [], sites: new Map(),
    connected: false, gateway: "unknown", lastData: 0, tz: "Europe/Amsterdam", stream: null
  };

  function t(key, vars) { return W.fill(TEXT[key], vars || {}); }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function li(parent, html, state) {
    var item = document.createElement("li");
    item.innerHTML = html;
    if (state) item.setAttribute("data-state", state);
    parent.appendChild(item);
    return item;
  }
  function icon(state) {
    return '<svg class="mini" aria-hidden="true"><use href="#icon-' + state + '"></use></svg>';
  }
  function fit(text, width) {
    if (text.getComputedTextLength() > width) {
      text.setAttribute("textLength", width);
      text.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  }

  function buildPlan(floorInfo, spaces) {
    var svg = $("plan"), zones = $("plan-zones"), layer = $("plan-spaces"), boxes = {};
    svg.setAttribute("viewBox", "0 0 " + floorInfo.plan_width + " " + floorInfo.plan_height);
    svg.setAttribute("aria-label", TEXT.plan + " " + floorInfo.name);
    spaces.forEach(function (s) {
      st.shapes.set(s.id, s);
      var g = el("g", { "class": "space " + (s.kind === "desk" ? "desk" : "room"),
        "data-space-id": s.id, "data-state": "unknown", role: "img" }, layer);
      el("rect", { "class": "shape", x: s.x, y: s.y, width: s.w, height: s.h, rx: 6 }, g);
      var big = s.kind !== "desk", size = big ? 36 : 24, until = null;
      var ic = el("use", { "class": "icon", href: "#icon-unknown", width: size, height: size,
        x: big ? s.x + 12 : s.x + s.w / 2 - size / 2, y: big ? s.y + s.h - 50 : s.y + 5 }, g);
      var label = el("text", { "class": "state-text", x: big ? s.x + 56 : s.x + s.w / 2,
        y: big ? s.y + s.h - 22 : s.y + s.h - 8, "text-anchor": big ? "start" : "middle" }, g);
      if (big) {
        var name = el("text", { "class": "room-name", x: s.x + 12, y: s.y + 30 }, g);
        name.textContent = s.name;
        fit(name, s.w - 24);
        var cap = el("text", { "class": "room-cap", x: s.x + 12, y: s.y + 56 }, g);
        cap.textContent = s.capacity === 1 ? TEXT.person : t("persons", { n: s.capacity });
        until = el("text", { "class": "until-text", x: s.x + 12, y: s.y + 92 }, g);
      } else if (s.zone) {
        var b = boxes[s.zone] || (boxes[s.zone] = { x: s.x, y: s.y, quiet: s.quiet });
        b.x = Math.min(b.x, s.x);
        b.y = Math.min(b.y, s.y);
      }
      st.nodes.set(s.id, { g: g, icon: ic, label: label, until: until, width: s.w, key: "" });
    });
    Object.keys(boxes).forEach(function (z) {
      var label = el("text", { "class": "zone-label", x: boxes[z].x, y: boxes[z].y - 12 }, zones);
      label.textContent = boxes[z].quiet ? TEXT.quietZone : t("zone", { z: z.toUpperCase() });
    });
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
    node.g.setAttribute("aria-label", shape.name + ": " + sentence(state, until));
    node.icon.setAttribute("href", "#icon-" + state);
    node.label.removeAttribute("textLength");
    node.label.textContent = TEXT[state];
    if (node.until) node.until.textContent = until ? t("until", { t: until }) : "";
    if (shape.kind === "desk") fit(node.label, node.width - 6);
  }
  function renderAll() { st.nodes.forEach(function (_, id) { renderSpace(id); }); renderPanel(); }

  function renderPanel() {
    var old = stale();
    var here = st.floors.filter(function (f) { return f.floor === floor; })[0];
    var quiet = here && !old ? here.free_quiet_desks : 0;
    $("count-quiet").textContent = old || !here ? "–" : String(quiet);
    $("count-quiet-label").textContent = quiet === 1 ? TEXT.quietOne : TEXT.quietMany;
    var line = here && !old ? t("desks", { free: here.free_desks, total: here.desks }) : "";
    if (here && !old && here.unknown) line += " · " + t("unknownDesks", { n: here.unknown });
    $("count-desks").textContent = line;
    renderQuiet(old);
    renderRooms();
    renderOthers(old);
    fitPanel();
  }
  function renderQuiet(old) {
    var list = $("quiet-desks");
    list.innerHTML = "";
    var free = [];
    st.shapes.forEach(function (s, id) {
      if (s.kind === "desk" && s.quiet && shownState(id) === "free") free.push(s);
    });
    free.sort(function (a, b) { return a.name < b.name ? -1 : 1; });
    free.forEach(function (s) {
      var until = untilOf(s.id, "free");
      var where = s.zone ? (s.quiet ? TEXT.quietZone : t("zone", { z: s.zone.toUpperCase() })) : "";
      li(list, icon("free") + "<strong>" + W.esc(s.name) + "</strong> " +
        '<span class="where">' + W.esc(where) + "</span> " +
        '<span class="until">' + W.esc(until ? sentence("free", until) : TEXT.free) + "</span>", "free")
        .setAttribute("data-space", s.id);
    });
    if (!free.length) li(list, W.esc(old ? TEXT.staleNever : TEXT.noQuiet));
  }
  function renderRooms() {
    var list = $("rooms"), rooms = [];
    list.innerHTML = "";
    st.shapes.forEach(function (s) { if (s.kind !== "desk") rooms.push(s); });
    var order = { free: 0, booked: 1, occupied: 2, unknown: 3 };
    rooms.sort(function (a, b) {
      var d = order[shownState(a.id)] - order[shownState(b.id)];
      return d || (a.name < b.name ? -1 : 1);
    });
    rooms.forEach(function (s) {
      var state = shownState(s.id);
      li(list, icon(state) + "<strong>" + W.esc(s.name) + "</strong> " +
        '<span class="cap">' + W.esc(t("short", { n: s.capacity })) + "</span> " +
        '<span class="until">' + W.esc(sentence(state, untilOf(s.id, state))) + "</span>", state)
        .setAttribute("data-space", s.id);
    });
    if (!rooms.length) li(list, W.esc(TEXT.noRooms));
  }
  function renderOthers(old) {
    var others = $("other-floors"), sites = $("other-sites"), bySite = {};
    others.innerHTML = "";
    sites.innerHTML = "";
    st.floors.forEach(function (f) {
      if (f.site === site && f.floor !== floor) li(others, W.esc(f.name) + ": " + summary(f, old));
      if (f.site !== site) {
        var s = bySite[f.site] || (bySite[f.site] = { free_quiet_desks: 0, free_rooms: 0 });
        s.free_quiet_desks += f.free_quiet_desks;
        s.free_rooms += f.free_rooms;
      }
    });
    Object.keys(bySite).forEach(function (id) {
      var name = st.sites.has(id) ? st.sites.get(id).name : id;
      li(sites, W.esc(name) + ": " + summary(bySite[id], old));
    });
    $("other-floors-title").hidden = others.hidden = !others.children.length;
    $("other-sites-title").hidden = sites.hidden = !sites.children.length;
  }
  function summary(f, old) {
    if (old) return W.esc(TEXT.unknown);
    var q = f.free_quiet_desks, r = f.free_rooms;
    return "<strong>" + q + "</strong> " + W.esc(q === 1 ? TEXT.placeOne : TEXT.placeMany) +
      " · " + W.esc(r === 1 ? TEXT.roomsOne : t("roomsMany", { n: r }));
  }
  /* Nobody scrolls a wall screen: shorten the quiet-desk list until the panel fits. */
  function fitPanel() {
    var panel = $("panel"), list = $("quiet-desks");
    var items = list.querySelectorAll("li[data-space]"), hidden = 0;
    while (panel.scrollHeight > panel.clientHeight + 1 && items.length - hidden > 1) {
      hidden += 1;
      items[items.length - hidden].hidden = true;
      var more = list.querySelector("li.more") || li(list, "", "");
      more.className = "more";
      more.textContent = t("more", { n: hidden });
    }
  }

  function applySnapshot(data) {
    showMessage("");
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
  function watchdog() {
    // SSE pings are comments, invisible to EventSource: probe the API when it is quiet.
    var stream = st.stream;
    if (!stream || stream.state() !== "open" || Date.now() - st.lastData < PROBE_MS) return;
    var q = "?site=" + encodeURIComponent(site) + "&floor=" + encodeURIComponent(floor);
    W.api("/api/v1/availability" + q).then(applySnapshot, function () { stream.later(); });
  }

  var lastMinute = "";
  function tick() {
    W.clock($("clock"), $("date"), st.tz);
    // Once a minute (and when data goes stale) "free until" and staleness are re-judged.
    var minute = $("clock").textContent;
    if ((stale() && st.lastData) || minute !== lastMinute) {
      lastMinute = minute;
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
      return W.api("/api/v1/floors/" + encodeURIComponent(floor) + "/spaces").then(function (spaces) {
        showMessage("");
        buildPlan(info, spaces);
        renderAll();
        var q = "site=" + encodeURIComponent(site) + "&floor=" + encodeURIComponent(floor);
        st.stream = new W.LiveStream("/api/v1/stream?" + q, {
          snapshot: applySnapshot, delta: applyDelta, status: renderStatus,
          refused: function () { showMessage(TEXT.noToken); }
        });
        st.stream.open();
        setInterval(watchdog, 5000);
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
