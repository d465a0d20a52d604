/* Werkplek signage: floor plan and free counts, live over SSE. Plain JS, no build step.
 * URL: /signage/?site=hq&floor=hq-1&token=...&lang=nl|en
 * Silence never shows as free: without fresh data every space turns "unknown". */
(function () {
  "use strict";
  var STALE_MS = 60000;      // no event for this long: data is no longer trusted
  var PROBE_MS = 45000;      // quiet stream: check the server with a plain GET
  var MAX_BACKOFF_MS = 30000;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var params = new URLSearchParams(location.search);
  var lang = params.get("lang") === "en" ? "en" : "nl";
  var token = params.get("token") || "";
  var site = params.get("site") || "";
  var floor = params.get("floor") || "";
  var TEXT = {
    nl: {
      free: "Vrij", occupied: "Bezet", booked: "Gereserveerd", unknown: "Onbekend", plan: "Plattegrond",
      quietOne: "stille werkplek vrij", quietMany: "stille werkplekken vrij",
      desks: "{free} van {total} werkplekken vrij", unknownDesks: "{n} onbekend",
      roomsFree: "Vrije ruimtes", noRooms: "Geen ruimte vrij", otherFloors: "Andere verdiepingen",
      otherSites: "Andere locaties", person: "1 persoon", persons: "{n} personen",
      roomsOne: "1 ruimte vrij", roomsMany: "{n} ruimtes vrij", quietZone: "Stilte",
      zone: "Zone {z}", live: "Actueel", connecting: "Verbinden…",
      offline: "Geen verbinding. Nieuwe poging over {s} s",
      stale: "Gegevens niet actueel", nosensors: "Sensoren niet bereikbaar",
      noToken: "Dit scherm heeft geen geldige toegangscode. Vraag de beheerder om de juiste link.",
      loadFailed: "De gegevens laden lukt niet. We proberen het opnieuw.",
      nowState: "{name} is nu {state}.", manyChanged: "{n} plekken zijn veranderd."
    },
    en: {
      free: "Free", occupied: "Occupied", booked: "Booked", unknown: "Unknown", plan: "Floor plan",
      quietOne: "quiet desk free", quietMany: "quiet desks free",
      desks: "{free} of {total} desks free", unknownDesks: "{n} unknown",
      roomsFree: "Free rooms", noRooms: "No room free", otherFloors: "Other floors",
      otherSites: "Other locations", person: "1 person", persons: "{n} people",
      roomsOne: "1 room free", roomsMany: "{n} rooms free", quietZone: "Quiet",
      zone: "Zone {z}", live: "Live", connecting: "Connecting…",
      offline: "No connection. Retrying in {s} s",
      stale: "Data not up to date", nosensors: "Sensors not reachable",
      noToken: "This screen has no valid access code. Ask the administrator for the right link.",
      loadFailed: "Loading the data failed. Trying again.",
      nowState: "{name} is now {state}.", manyChanged: "{n} places changed."
    }
  }[lang];
  var st = {
    shapes: new Map(), nodes: new Map(), avail: new Map(), floors: [], sites: new Map(),
    connected: false, gateway: "unknown", lastData: 0, es: null, backoff: 1000, retryAt: 0, tz: "Europe/Amsterdam"
  };

  function t(key, vars) {
    return TEXT[key].replace(/\{(\w+)\}/g, function (_, k) { return String(vars[k]); });
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function li(parent, html) {
    var item = document.createElement("li");
    item.innerHTML = html;
    parent.appendChild(item);
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function api(path) {
    return fetch(path, { headers: { Authorization: "Bearer " + token } }).then(function (r) {
      if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
      return r.json();
    });
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
      var big = s.kind !== "desk", size = big ? 36 : 24;
      var icon = el("use", { "class": "icon", href: "#icon-unknown", width: size, height: size,
        x: big ? s.x + 12 : s.x + s.w / 2 - size / 2, y: big ? s.y + s.h - 50 : s.y + 5 }, g);
      var label = el("text", { "class": "state-text", x: big ? s.x + 56 : s.x + s.w / 2,
        y: big ? s.y + s.h - 22 : s.y + s.h - 8, "text-anchor": big ? "start" : "middle" }, g);
      if (big) {
        var name = el("text", { "class": "room-name", x: s.x + 12, y: s.y + 30 }, g);
        name.textContent = s.name;
        fit(name, s.w - 24);
        var cap = el("text", { "class": "room-cap", x: s.x + 12, y: s.y + 56 }, g);
        cap.textContent = s.capacity === 1 ? TEXT.person : t("persons", { n: s.capacity });
      } else if (s.zone) {
        var b = boxes[s.zone] || (boxes[s.zone] = { x: s.x, y: s.y, quiet: s.quiet });
        b.x = Math.min(b.x, s.x);
        b.y = Math.min(b.y, s.y);
      }
      st.nodes.set(s.id, { g: g, icon: icon, label: label, width: s.w });
    });
    Object.keys(boxes).forEach(function (z) {
      var label = el("text", { "class": "zone-label", x: boxes[z].x, y: boxes[z].y - 12 }, zones);
      label.textContent = boxes[z].quiet ? TEXT.quietZone : t("zone", { z: z.toUpperCase() });
    });
  }

  function shownState(id) {
    var a = st.avail.get(id);
    if (!a || Date.now() - st.lastData > STALE_MS) return "unknown";
    var known = { free: 1, occupied: 1, booked: 1 };
    return known[a.availability] ? a.availability : "unknown";
  }
  function renderSpace(id) {
    var node = st.nodes.get(id), shape = st.shapes.get(id);
    if (!node) return;
    var state = shownState(id);
    if (node.g.getAttribute("data-state") === state && node.label.textContent) return;
    node.g.setAttribute("data-state", state);
    node.g.setAttribute("aria-label", shape.name + ": " + TEXT[state]);
    node.icon.setAttribute("href", "#icon-" + state);
    node.label.removeAttribute("textLength");
    node.label.textContent = TEXT[state];
    if (shape.kind === "desk") fit(node.label, node.width - 6);
  }
  function renderAll() { st.nodes.forEach(function (_, id) { renderSpace(id); }); renderPanel(); }

  function renderPanel() {
    var stale = Date.now() - st.lastData > STALE_MS;
    var here = st.floors.filter(function (f) { return f.floor === floor; })[0];
    var quiet = here && !stale ? here.free_quiet_desks : 0;
    $("count-quiet").textContent = stale ? "–" : String(quiet);
    $("count-quiet-label").textContent = quiet === 1 ? TEXT.quietOne : TEXT.quietMany;
    var line = here && !stale ? t("desks", { free: here.free_desks, total: here.desks }) : "";
    if (here && !stale && here.unknown) line += " · " + t("unknownDesks", { n: here.unknown });
    $("count-desks").textContent = line;
    var rooms = $("rooms");
    rooms.innerHTML = "";
    var list = here && !stale ? here.free_room_list : [];
    list.slice(0, 5).forEach(function (r) {
      li(rooms, "<strong>" + esc(r.name) + "</strong> " +
        esc(r.capacity === 1 ? TEXT.person : t("persons", { n: r.capacity })));
    });
    if (!list.length) li(rooms, esc(TEXT.noRooms));
    var others = $("other-floors"), sites = $("other-sites"), bySite = {};
    others.innerHTML = "";
    sites.innerHTML = "";
    st.floors.forEach(function (f) {
      if (f.site === site && f.floor !== floor) li(others, esc(f.name) + ": " + summary(f, stale));
      if (f.site !== site) {
        var s = bySite[f.site] || (bySite[f.site] = { free_quiet_desks: 0, free_rooms: 0 });
        s.free_quiet_desks += f.free_quiet_desks;
        s.free_rooms += f.free_rooms;
      }
    });
    Object.keys(bySite).forEach(function (id) {
      var name = st.sites.has(id) ? st.sites.get(id).name : id;
      li(sites, esc(name) + ": " + summary(bySite[id], stale));
    });
    $("other-floors-title").hidden = others.hidden = !others.children.length;
    $("other-sites-title").hidden = sites.hidden = !sites.children.length;
  }
  function summary(f, stale) {
    if (stale) return esc(TEXT.unknown);
    var q = f.free_quiet_desks, r = f.free_rooms;
    return "<strong>" + q + "</strong> " + esc(q === 1 ? TEXT.quietOne : TEXT.quietMany) +
      " · " + esc(r === 1 ? TEXT.roomsOne : t("roomsMany", { n: r }));
  }

  function applySnapshot(data) {
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
    var box = $("status"), state, text;
    if (!st.es || st.es.readyState === 2) {
      state = st.retryAt ? "offline" : "connecting";
      text = st.retryAt ? t("offline", { s: Math.max(0, Math.ceil((st.retryAt - Date.now()) / 1000)) })
        : TEXT.connecting;
    } else if (st.es.readyState === 0 && !st.lastData) {
      state = "connecting"; text = TEXT.connecting;
    } else if (Date.now() - st.lastData > STALE_MS) {
      state = "stale"; text = TEXT.stale;
    } else if (!st.connected || st.gateway === "offline") {
      state = "nosensors"; text = TEXT.nosensors;
    } else {
      state = "live"; text = TEXT.live;
    }
    box.setAttribute("data-status", state);
    $("status-text").textContent = text;
  }

  function connect() {
    if (st.es) st.es.close();
    st.retryAt = 0;
    var q = "site=" + encodeURIComponent(site) + "&floor=" + encodeURIComponent(floor) +
      "&token=" + encodeURIComponent(token);
    var es = new EventSource("/api/v1/stream?" + q);
    st.es = es;
    es.addEventListener("snapshot", function (ev) { st.backoff = 1000; applySnapshot(JSON.parse(ev.data)); });
    es.addEventListener("delta", function (ev) { applyDelta(JSON.parse(ev.data)); });
    es.onerror = function () { if (st.es === es) reconnectLater(); };
    renderStatus();
  }
  function reconnectLater() {
    if (st.es) st.es.close();
    st.es = null;
    var wait = st.backoff;
    st.backoff = Math.min(st.backoff * 2, MAX_BACKOFF_MS);
    st.retryAt = Date.now() + wait;
    setTimeout(connect, wait);
    renderStatus();
  }
  function watchdog() {
    // SSE pings are comments, invisible to EventSource: probe the API when it is quiet.
    if (!st.es || st.es.readyState !== 1 || Date.now() - st.lastData < PROBE_MS) return;
    var q = "?site=" + encodeURIComponent(site) + "&floor=" + encodeURIComponent(floor);
    api("/api/v1/availability" + q).then(applySnapshot, reconnectLater);
  }

  function tick() {
    var now = new Date(), loc = lang === "en" ? "en-GB" : "nl-NL";
    $("clock").textContent = now.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit", timeZone: st.tz });
    $("date").textContent = now.toLocaleDateString(loc, { weekday: "long", day: "numeric", month: "long", timeZone: st.tz });
    if (Date.now() - st.lastData > STALE_MS && st.lastData) renderAll();
    renderStatus();
  }
  function showMessage(text) { var m = $("message"); m.textContent = text; m.hidden = !text; }

  function start() {
    if (!token) { showMessage(TEXT.noToken); return; }
    api("/api/v1/sites").then(function (sites) {
      sites.forEach(function (s) { st.sites.set(s.id, s); });
      if (!st.sites.has(site)) site = sites[0].id;
      st.tz = st.sites.get(site).timezone || st.tz;
      return api("/api/v1/sites/" + encodeURIComponent(site) + "/floors");
    }).then(function (floors) {
      var info = floors.filter(function (f) { return f.id === floor; })[0] || floors[0];
      floor = info.id;
      $("site-name").textContent = st.sites.get(site).name;
      $("floor-name").textContent = info.name;
      return api("/api/v1/floors/" + encodeURIComponent(floor) + "/spaces").then(function (spaces) {
        showMessage("");
        buildPlan(info, spaces);
        renderAll();
        connect();
        setInterval(watchdog, 5000);
      });
    }).catch(function (err) {
      showMessage(err.status === 401 || err.status === 403 ? TEXT.noToken : TEXT.loadFailed);
      setTimeout(start, err.status === 401 || err.status === 403 ? 60000 : 5000);
    });
  }

  document.documentElement.lang = lang;
  Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
    node.textContent = TEXT[node.getAttribute("data-i18n")] || node.textContent;
  });
  tick();
  setInterval(tick, 1000);
  start();
})();
