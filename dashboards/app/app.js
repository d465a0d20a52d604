/* Werkplek booking app: log in, find a desk on the plan or in the list, book it for a day
 * part, book a room for a meeting, check in (also by QR code), add to a calendar, see and
 * cancel bookings. Plain JS, no build step, no external assets. Live state arrives over SSE
 * opened with a short-lived stream token, so the login token never sits in a URL. */
(function () {
  "use strict";
  var ALL = window.WERKPLEK_TEXT, PLAN = window.WerkplekPlan, SSO = window.WerkplekSso;
  var params = new URLSearchParams(location.search);
  var FILTERS = ["quiet", "standing", "screen", "accessible"];
  var STATES = { free: 1, booked: 1, occupied: 1, mine: 1 };
  var st = {
    lang: pickLang(), token: sessionStorage.getItem("werkplek.token") || "",
    user: null, sites: [], floors: [], spaces: [], shapes: {}, mine: [], names: {}, all: {},
    es: null, retry: 0, streamGen: 0, streamTimer: null, planFocus: null, rooms: null, at: null, atTimer: null,
    checkin: params.get("checkin")
  };

  function pickLang() {
    var chosen = params.get("lang") || localStorage.getItem("werkplek.lang");
    if (chosen === "en" || chosen === "nl") return chosen;
    // Chosen by the browser: English only when the browser prefers it; Dutch otherwise.
    return /^en\b/i.test(navigator.language || "") ? "en" : "nl";
  }
  function T(key, vars) {
    var s = ALL[st.lang][key] || key;
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vars ? String(vars[k]) : ""; });
  }
  function $(id) { return document.getElementById(id); }
  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* ---- dates and times: the user's locale, the site's time zone ---- */
  function locale() {
    // The browser's own variant of the chosen language (en-US keeps its 12-hour clock).
    var langs = navigator.languages || [navigator.language || ""];
    for (var i = 0; i < langs.length; i += 1) {
      if (langs[i] && langs[i].slice(0, 2).toLowerCase() === st.lang) return langs[i];
    }
    return st.lang === "en" ? "en-GB" : "nl-NL";
  }
  function siteOf(id) { return st.sites.filter(function (s) { return s.id === id; })[0]; }
  function tz(siteId) {
    var site = siteOf(siteId || $("site").value);
    return (site && site.timezone) || "Europe/Amsterdam";
  }
  function fmt(date, options, zone) {
    var o = {}; Object.keys(options).forEach(function (k) { o[k] = options[k]; });
    o.timeZone = zone;
    return new Intl.DateTimeFormat(locale(), o).format(date);
  }
  function clock(date, zone) { return fmt(date, { hour: "2-digit", minute: "2-digit" }, zone); }
  function when(b) {
    var zone = tz(b.site_id), start = new Date(b.start_at);
    return fmt(start, { weekday: "long", day: "numeric", month: "long" }, zone) + " " +
      clock(start, zone) + "–" + clock(new Date(b.end_at), zone);
  }
  function localIso(date, zone) {
    // "YYYY-MM-DDTHH:MM" wall-clock time of the site, comparable as a string.
    var p = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(date)
      .forEach(function (x) { p[x.type] = x.value; });
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
  }
  function fillDays(sel) {
    // Today (the live view lives there, also at a weekend) and the working days bookings are
    // open for (14 days ahead), counted from today at the site.
    var keep = sel.value, today = localIso(new Date(), tz()).slice(0, 10).split("-").map(Number);
    sel.innerHTML = "";
    for (var i = 0; i <= 14; i += 1) {
      var d = new Date(Date.UTC(today[0], today[1] - 1, today[2] + i, 12));
      if (i > 0 && (d.getUTCDay() === 0 || d.getUTCDay() === 6)) continue;
      sel.appendChild(make("option", { value: d.toISOString().slice(0, 10) },
        fmt(d, { weekday: "long", day: "numeric", month: "long" }, "UTC")));
    }
    if (keep) sel.value = keep;
    if (!sel.value && sel.options.length) sel.selectedIndex = 0;
  }
  function fillTimes(sel, fallback) {
    var keep = sel.value || fallback;
    sel.innerHTML = "";
    for (var m = 6 * 60; m <= 22 * 60; m += 30) {
      var hm = String(Math.floor(m / 60)).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0");
      sel.appendChild(make("option", { value: hm }, clock(new Date("2000-01-01T" + hm + ":00Z"), "UTC")));
    }
    sel.value = keep;
  }

  /* ---- the API ---- */
  function request(method, path, body) {
    var headers = { Accept: "application/json" };
    if (st.token) headers.Authorization = "Bearer " + st.token;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .catch(function () { var e = new Error("network"); e.reason = "network"; throw e; })
      .then(function (r) {
        if (r.ok) return r;
        return r.json().catch(function () { return {}; }).then(function (data) {
          var e = new Error(data.detail || "HTTP " + r.status);
          e.status = r.status; e.reason = data.reason || ""; throw e;
        });
      });
  }
  function api(method, path, body) {
    return request(method, path, body).then(function (r) { return r.json().catch(function () { return {}; }); });
  }
  function explain(err) {
    if (err.status === 401 && err.reason !== "bad_credentials") { logout(); return T("err_expired_token"); }
    var key = "err_" + err.reason;
    if (!ALL[st.lang][key]) return T("err_other", { detail: err.message });
    // The server's detail carries the numbers of the rule; the words are ours.
    var hours = err.reason === "outside_opening_hours" && /\((\d\d:\d\d)-(\d\d:\d\d)\)/.exec(err.message);
    var most = err.reason === "too_long" && /at most (\d+) minutes/.exec(err.message);
    return T(key) + (hours ? " (" + hours[1] + "–" + hours[2] + ")" : "") +
      (most ? " " + T("maxMinutes", { n: most[1] }) : "");
  }
  function showError(text, field) {
    $("error").textContent = text || "";
    if (field) $(field).textContent = text || "";
    if (text) $("notice").textContent = "";
  }
  function notify(text) { $("error").textContent = ""; $("notice").textContent = text; }

  function applyLang() {
    document.documentElement.lang = st.lang;
    document.title = T("appTitle");
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (n) {
      n.textContent = T(n.getAttribute("data-i18n"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-label]"), function (n) {
      n.setAttribute("aria-label", T(n.getAttribute("data-i18n-label")));
    });
    var other = st.lang === "nl" ? "en" : "nl";
    $("lang-switch").textContent = other === "en" ? "English" : "Nederlands";
    $("lang-switch").setAttribute("lang", other);
    fillDays($("day")); fillDays($("room-day"));
    fillTimes($("room-from"), "09:00"); fillTimes($("room-to"), "10:00");
    if (st.es && st.es.readyState === 1) $("live-status").textContent = T(st.sensors ? "live" : "nosensors");
    if (st.user) { $("hello").textContent = T("hello", { name: st.user.display_name }); renderAll(); }
  }

  /* ---- desks: list and plan, filtered; live for now, booked-or-free for a later part ---- */
  function today() { return localIso(new Date(), tz()).slice(0, 10); }
  function isNow() {
    // Today's running part shows the live state; any other day or part asks the server.
    var day = $("day").value, part = $("part").value;
    if (!day || day !== today()) return !day;
    var hm = localIso(new Date(), tz()).slice(11);
    return part === "day" || (part === "morning" ? hm < "12:30" : hm >= "12:30");
  }
  function atKey() { return [$("site").value, $("floor").value, $("day").value, $("part").value].join("|"); }
  function loadAt() {
    clearTimeout(st.atTimer);
    if (!st.user || isNow()) { st.at = null; renderDesks(); return Promise.resolve(); }
    var key = atKey();
    renderDesks();  // at once: the states of the previous choice must not linger
    var q = "?site=" + encodeURIComponent($("site").value) + "&floor=" + encodeURIComponent($("floor").value) +
      "&date=" + encodeURIComponent($("day").value) + "&part=" + encodeURIComponent($("part").value);
    return api("GET", "/api/v1/availability/at" + q).then(function (data) {
      var states = {};
      data.spaces.forEach(function (x) { states[x.space_id] = x.availability; });
      return { key: key, states: states, error: "" };
    }, function (err) {
      return { key: key, states: {}, error: explain(err) };
    }).then(function (at) {
      if (key !== atKey()) return;
      st.at = at;
      renderDesks();
      // Colleagues book too: the answer for a later part is asked again every 30 s.
      st.atTimer = setTimeout(loadAt, 30000);
    });
  }
  function stateOf(s) {
    if (!isNow()) return st.at && st.at.key === atKey() ? st.at.states[s.id] || "unknown" : "unknown";
    return STATES[s.availability] ? s.availability : "unknown";
  }
  function matches(s) {
    return FILTERS.every(function (f) { return !$(f).checked || s[f]; });
  }
  function extras(s) {
    return FILTERS.filter(function (f) { return s[f]; }).map(function (f) { return " · " + T(f); }).join("");
  }
  function renderDesks() {
    var list = $("desks"), all = st.spaces.filter(function (s) { return s.kind === "desk"; });
    var desks = all.filter(matches);
    list.innerHTML = "";
    desks.forEach(function (s) {
      var state = stateOf(s);
      var item = make("li", { "data-space-id": s.id, "data-state": state });
      item.appendChild(make("span", { "class": "badge", "aria-hidden": "true" },
        { free: "✓", booked: "▣", occupied: "●", unknown: "?", mine: "★" }[state]));
      var text = make("span", { "class": "what" });
      text.appendChild(make("strong", {}, s.name));
      text.appendChild(document.createTextNode(" " + T(state) + extras(s)));
      item.appendChild(text);
      var button = make("button", { type: "button", "class": "book", "aria-label": T("book", { name: s.name }) }, T("bookShort"));
      button.addEventListener("click", function () { book(s); });
      item.appendChild(button);
      list.appendChild(item);
    });
    if (!desks.length) list.appendChild(make("li", {}, T("noDesks")));
    // Says which time the list and plan show, or why the server could not answer for it.
    var day = $("day"), later = !isNow(), note = "";
    if (later && day.selectedIndex >= 0) {
      var vars = { day: day.options[day.selectedIndex].text, part: T("when" + $("part").value) };
      note = st.at && st.at.key === atKey() ? (st.at.error ? T("statusAtError", vars) + " " + st.at.error
        : T("statusAt", vars)) : T("statusAtLoading", vars);
    }
    $("status-note").hidden = !later;
    if ($("status-note").textContent !== note) $("status-note").textContent = note;
    var count = T("count", { n: desks.length, all: all.length });
    if ($("count").textContent !== count) $("count").textContent = count;
    renderPlan();
  }
  function renderPlan() {
    var floor = st.floors.filter(function (f) { return f.id === $("floor").value; })[0];
    var svg = $("plan");
    if (!floor) return;
    var inPlan = svg.contains(document.activeElement);
    var spaces = st.spaces.filter(function (s) { return st.shapes[s.id]; }).map(function (s) {
      var shape = st.shapes[s.id], state = stateOf(s);
      return { id: s.id, name: s.name, kind: s.kind, state: state, x: shape.x, y: shape.y,
        w: shape.w, h: shape.h, match: matches(s), src: s,
        label: s.kind === "desk" ? T("planDesk", { name: s.name, state: T(state), extra: extras(s) })
          : T("planRoom", { name: s.name, state: T(state) }) };
    });
    svg.setAttribute("aria-label", T("planLabel", { floor: floor.name }));
    st.planFocus = PLAN.draw(svg, {
      floor: floor, spaces: spaces, focusId: st.planFocus, text: function (s) { return T(s); },
      onChoose: function (s) { st.planFocus = s.id; book(s.src); },
      onMove: function (id) { st.planFocus = id; }
    });
    // A live update redraws the plan; a keyboard user stays on the desk they were on.
    if (inPlan && st.planFocus) {
      var g = svg.querySelector('[data-space-id="' + st.planFocus + '"]');
      if (g) g.focus();
    }
  }

  /* ---- my bookings: check in, calendar, cancel ---- */
  function renderMine() {
    var list = $("mine"), active = document.activeElement;
    var held = active && active.closest("#mine li") && [active.closest("li").getAttribute("data-booking-id"), active.className];
    st.openKey = st.mine.filter(checkInOpen).map(function (b) { return b.id; }).join();
    list.innerHTML = "";
    st.mine.forEach(function (b) {
      var name = st.names[b.space_id] || b.space_id;
      var item = make("li", { "data-booking-id": String(b.id), "data-status": b.status });
      var text = make("span", { "class": "what" });
      text.appendChild(make("strong", {}, name));
      text.appendChild(document.createTextNode(" " + when(b) +
        (b.status === "checked_in" ? " · " + T("checkedIn") : "")));
      item.appendChild(text);
      var actions = make("span", { "class": "actions" });
      if (b.status === "booked" && checkInOpen(b)) {
        actions.appendChild(action("checkin", T("checkin"), T("checkinLabel", { name: name, when: when(b) }),
          function () { checkIn(b, name); }));
      }
      actions.appendChild(action("calendar secondary", T("calendar"), T("calendarLabel", { name: name, when: when(b) }),
        function () { download("/api/v1/bookings/" + b.id + "/calendar.ics", "werkplek-" + b.id + ".ics"); }));
      actions.appendChild(action("cancel", T("cancel"), T("cancelLabel", { name: name, when: when(b) }),
        function () { cancel(b, name); }));
      item.appendChild(actions);
      list.appendChild(item);
    });
    if (!st.mine.length) list.appendChild(make("li", {}, T("noBookings")));
    if (held) {
      var again = list.querySelector('li[data-booking-id="' + held[0] + '"] button[class="' + held[1] + '"]');
      if (again) again.focus();
    }
  }
  function checkInOpen(b) {
    // The server accepts a check-in from 10 minutes before the start until the end.
    var now = Date.now();
    return new Date(b.start_at).getTime() - 10 * 60000 <= now && now < new Date(b.end_at).getTime();
  }
  function action(cls, text, label, onClick) {
    var button = make("button", { type: "button", "class": cls, "aria-label": label }, text);
    button.addEventListener("click", onClick);
    return button;
  }
  function renderAll() { renderDesks(); renderMine(); if (st.rooms) renderRooms(); }

  function download(path, filename) {
    // The calendar needs the login token in a header, so it is fetched and handed over as a file.
    request("GET", path).then(function (r) { return r.blob(); }).then(function (blob) {
      var url = URL.createObjectURL(blob), a = make("a", { href: url, download: filename });
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      notify(T("calendarSaved"));
    }, function (err) { showError(explain(err)); });
  }
  function checkIn(b, name) {
    api("POST", "/api/v1/bookings/" + b.id + "/check-in", { method: "app" }).then(function () {
      return loadMine().then(function () { notify(T("checkin_ok", { name: name })); });
    }, function (err) {
      if (err.reason === "outside_window" && new Date(b.start_at) > new Date()) {
        showError(T("qr_too_early", { name: name, time: earliest(b) }));
      } else { showError(explain(err)); }
    });
  }
  function earliest(b) {
    // Ten minutes before the start; with the day when that is not today at the site.
    var zone = tz(b.site_id), at = new Date(new Date(b.start_at).getTime() - 10 * 60000);
    var sameDay = localIso(at, zone).slice(0, 10) === localIso(new Date(), zone).slice(0, 10);
    return (sameDay ? "" : fmt(at, { weekday: "long", day: "numeric", month: "long" }, zone) + " ") + clock(at, zone);
  }

  function loadMine() {
    return api("GET", "/api/v1/bookings?active=true&limit=100").then(function (page) {
      st.mine = page.items; renderMine();
    });
  }
  function loadNames() {
    // Names and live states of every space, for "my bookings" on other floors and for QR codes.
    return api("GET", "/api/v1/availability").then(function (data) {
      data.spaces.forEach(function (s) { st.names[s.space_id] = s.name; st.all[s.space_id] = s; });
    });
  }
  function loadFloor() {
    var floor = $("floor").value;
    var q = "?site=" + encodeURIComponent($("site").value) + "&floor=" + encodeURIComponent(floor);
    $("qr-sheet").href = "qr.html?floor=" + encodeURIComponent(floor) + "&lang=" + st.lang;
    listen(q);
    return Promise.all([api("GET", "/api/v1/availability" + q),
      api("GET", "/api/v1/floors/" + encodeURIComponent(floor) + "/spaces")]).then(function (res) {
      st.shapes = {};
      res[1].forEach(function (s) { st.shapes[s.id] = s; });
      merge(res[0], true);
      return loadAt();
    });
  }

  /* ---- live stream with short-lived stream tokens ---- */
  function stopStream() {
    st.streamGen += 1;
    clearTimeout(st.streamTimer);
    if (st.es) { st.es.close(); st.es = null; }
  }
  function listen(q) { stopStream(); st.streamQ = q; st.retry = 0; openStream(); }
  function openStream() {
    var gen = ++st.streamGen;
    api("POST", "/api/v1/stream-tokens").then(function (t) {
      if (gen !== st.streamGen || !st.token) return;
      var es = new EventSource("/api/v1/stream" + st.streamQ + "&stream_token=" + encodeURIComponent(t.stream_token));
      st.es = es;
      es.addEventListener("snapshot", function (ev) { st.retry = 0; merge(JSON.parse(ev.data), true); });
      es.addEventListener("delta", function (ev) { merge(JSON.parse(ev.data), false); });
      es.onerror = function () {
        // The stream token may have expired: close, ask for a fresh one and reopen, with backoff.
        es.close();
        if (gen === st.streamGen) reconnect();
      };
    }, function (err) {
      if (gen !== st.streamGen) return;
      if (err.status === 401) { showError(explain(err)); return; }
      reconnect();
    });
  }
  function reconnect() {
    $("live-status").textContent = T("offline");
    var wait = Math.min(30000, 1000 * Math.pow(2, st.retry)) * (0.75 + Math.random() / 2);
    st.retry = Math.min(st.retry + 1, 5);
    st.streamTimer = setTimeout(openStream, wait);
  }
  function merge(data, whole) {
    var byId = {};
    if (!whole) st.spaces.forEach(function (s) { byId[s.id] = s; });
    data.spaces.forEach(function (s) {
      s.id = s.space_id; byId[s.id] = s; st.names[s.id] = s.name; st.all[s.id] = s;
    });
    st.spaces = Object.keys(byId).map(function (k) { return byId[k]; })
      .sort(function (a, b) { return a.name.localeCompare(b.name, undefined, { numeric: true }); });
    st.sensors = data.connected && data.gateway !== "offline";
    $("live-status").textContent = T(st.sensors ? "live" : "nosensors");
    var focused = document.activeElement && document.activeElement.closest("#desks li");
    var keep = focused && focused.getAttribute("data-space-id");
    renderDesks();
    // Re-rendering must not throw a keyboard user's focus away.
    if (keep) { var b = document.querySelector('#desks li[data-space-id="' + keep + '"] button'); if (b) b.focus(); }
  }
  function loadFloors() {
    return api("GET", "/api/v1/sites/" + encodeURIComponent($("site").value) + "/floors").then(function (floors) {
      var sel = $("floor");
      st.floors = floors;
      sel.innerHTML = "";
      floors.forEach(function (f) { sel.appendChild(make("option", { value: f.id }, f.name)); });
      st.planFocus = null;
      return loadFloor();
    });
  }

  /* ---- booking a desk ---- */
  function book(space) {
    if (!$("day").value) { showError(T("needDay"), "day-error"); $("day").focus(); return; }
    showError("", "day-error");
    api("POST", "/api/v1/bookings", { space_id: space.id, date: $("day").value, part: $("part").value })
      .then(function (b) {
        // The message comes after the list is fresh, so what it says is on screen.
        return Promise.all([loadMine(), loadAt()]).then(function () {
          notify(T("booked_ok", { name: space.name, when: when(b) }));
        });
      }, function (err) { showError(explain(err)); });
  }
  function cancel(b, name) {
    api("DELETE", "/api/v1/bookings/" + b.id).then(function () {
      return Promise.all([loadMine(), loadAt()]).then(function () {
        notify(T("cancelled_ok", { name: name, when: when(b) }));
        $("mine-title").setAttribute("tabindex", "-1"); $("mine-title").focus(); });
    }, function (err) { showError(explain(err)); });
  }

  /* ---- rooms for a meeting: one question to the server for the whole site ---- */
  function searchRooms(ev) {
    if (ev) ev.preventDefault();
    var n = parseInt($("room-people").value, 10), from = $("room-from").value, to = $("room-to").value;
    if (!(n >= 1)) { showError(T("needPeople"), "room-error"); $("room-people").focus(); return Promise.resolve(); }
    if (to <= from) { showError(T("needOrder"), "room-error"); $("room-to").focus(); return Promise.resolve(); }
    showError("", "room-error");
    // Old results go at once: a button must never book a time that is no longer chosen.
    st.rooms = null; $("rooms").innerHTML = ""; $("rooms-summary").textContent = "";
    var site = $("site").value, day = $("room-day").value;
    var want = { site: site, day: day, from: from, to: to, n: n };
    var q = "?site=" + encodeURIComponent(site) + "&start=" + encodeURIComponent(day + "T" + from) +
      "&end=" + encodeURIComponent(day + "T" + to);
    return api("GET", "/api/v1/availability/at" + q).then(function (data) {
      var floorNames = {};
      st.floors.forEach(function (f) { floorNames[f.id] = f.name; });
      var found = data.spaces.filter(function (s) {
        return s.kind !== "desk" && s.capacity >= n && (!$("screen").checked || s.screen) &&
          (!$("accessible").checked || s.accessible);
      }).map(function (s) {
        return { space: s, busy: s.availability !== "free", floor: floorNames[s.floor] || s.floor };
      });
      found.sort(function (a, b) { return a.space.capacity - b.space.capacity || a.space.name.localeCompare(b.space.name); });
      st.rooms = { want: want, found: found };
      renderRooms();
    }, function (err) { showError(explain(err), "room-error"); });
  }
  function renderRooms() {
    var list = $("rooms"), w = st.rooms.want, free = st.rooms.found.filter(function (r) { return !r.busy; });
    var label = function (hm) { return clock(new Date("2000-01-01T" + hm + ":00Z"), "UTC"); };
    list.innerHTML = "";
    free.forEach(function (r) {
      var s = r.space, item = make("li", { "data-space-id": s.space_id });
      var text = make("span", { "class": "what" });
      text.appendChild(make("strong", {}, s.name));
      text.appendChild(document.createTextNode(" " + T("roomFits", { cap: s.capacity, floor: r.floor }) +
        (s.screen ? " · " + T("screen") : "") + (s.accessible ? " · " + T("accessible") : "")));
      item.appendChild(text);
      item.appendChild(action("book", T("bookShort"), T("roomBook", { name: s.name, from: label(w.from), to: label(w.to) }),
        function () { bookRoom(s); }));
      list.appendChild(item);
    });
    var busy = st.rooms.found.length - free.length;
    $("rooms-summary").textContent = (free.length ? T("roomsFound", { n: free.length }) : T("roomsNone")) +
      (busy ? " " + T("roomsBusy", { n: busy }) : "");
  }
  function bookRoom(space) {
    var w = st.rooms.want;
    api("POST", "/api/v1/bookings", { space_id: space.space_id, start: w.day + "T" + w.from, end: w.day + "T" + w.to })
      .then(function (b) {
        st.names[b.space_id] = space.name;
        return Promise.all([loadMine(), searchRooms()]).then(function () {
          notify(T("booked_ok", { name: space.name, when: when(b) }));
        });
      }, function (err) { showError(explain(err)); });
  }

  /* ---- check-in by QR code: /app/?checkin=<space id> ---- */
  function qrCheckin(spaceId) {
    // Handled once: a reload of the page must not check in again.
    st.checkin = null;
    params.delete("checkin");
    history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
    var space = st.all[spaceId];
    if (!space) { showError(T("qr_unknown_space")); return Promise.resolve(); }
    return api("POST", "/api/v1/spaces/" + encodeURIComponent(spaceId) + "/check-in").then(function () {
      return loadMine().then(function () { notify(T("checkin_ok", { name: space.name })); });
    }, function (err) {
      if (err.reason !== "booking_not_found") { showError(explain(err)); return; }
      showError(whyNot(space));
    });
  }
  function whyNot(space) {
    // The server only says "no booking of yours now"; my bookings tell which case it is.
    var zone = tz(space.site), today = localIso(new Date(), zone).slice(0, 10);
    var todays = st.mine.filter(function (b) { return localIso(new Date(b.start_at), zone).slice(0, 10) === today; });
    var here = st.mine.filter(function (b) {
      return b.space_id === space.space_id && new Date(b.start_at) > new Date();
    }).sort(function (a, b) { return a.start_at < b.start_at ? -1 : 1; })[0];
    if (here) return T("qr_too_early", { name: space.name, time: earliest(here) });
    if (todays.length) return T("qr_other_desk", { name: st.names[todays[0].space_id] || todays[0].space_id });
    if (space.availability === "booked" || space.availability === "occupied") return T("qr_someone_else", { name: space.name });
    return T("qr_no_booking", { name: space.name });
  }

  /* ---- log in, enter, log out ---- */
  function enter() {
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("logout").hidden = false;
    return api("GET", "/api/v1/me").then(function (me) {
      st.user = me;
      $("hello").textContent = T("hello", { name: me.display_name });
      $("qr-sheet").hidden = me.role !== "facility" && me.role !== "admin";
      return api("GET", "/api/v1/sites");
    }).then(function (sites) {
      st.sites = sites;
      var sel = $("site");
      sel.innerHTML = "";
      sites.forEach(function (s) { sel.appendChild(make("option", { value: s.id }, s.name)); });
      fillDays($("day")); fillDays($("room-day"));
      return Promise.all([loadFloors(), loadMine(), loadNames()]);
    }).then(function () {
      renderMine();
      if (st.checkin) return qrCheckin(st.checkin);
    }).catch(function (err) { showError(explain(err)); });
  }
  function logout() {
    // The session ends at the backend too; single sign-on offers the provider's logout.
    $("oidc-end").hidden = true;
    if (st.token) {
      SSO.end(st.token, "app").then(function (url) { if (url) { $("oidc-end").href = url; $("oidc-end").hidden = false; } });
    }
    st.token = ""; st.user = null;
    sessionStorage.removeItem("werkplek.token");
    stopStream();
    clearTimeout(st.atTimer); st.at = null;
    $("feed-url").value = ""; $("feed-box").hidden = true;  // the next person must not see it
    $("app-view").hidden = true; $("logout").hidden = true; $("login-view").hidden = false;
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var user = $("username").value.trim(), pass = $("password").value;
    if (!user || !pass) { showError(T("needUser"), "login-error"); $(user ? "password" : "username").focus(); return; }
    api("POST", "/api/v1/auth/login", { username: user, password: pass }).then(function (s) {
      st.token = s.token;
      sessionStorage.setItem("werkplek.token", s.token);
      showError("", "login-error");
      $("password").value = "";
      return enter().then(function () { $("main").focus(); });
    }, function (err) { showError(explain(err), "login-error"); $("password").focus(); });
  });
  $("find-form").addEventListener("submit", function (ev) { ev.preventDefault(); });
  $("room-form").addEventListener("submit", searchRooms);
  $("site").addEventListener("change", function () {
    st.rooms = null; $("rooms").innerHTML = ""; $("rooms-summary").textContent = "";
    loadFloors().catch(function (e) { showError(explain(e)); });
  });
  $("floor").addEventListener("change", function () {
    st.planFocus = null; loadFloor().catch(function (e) { showError(explain(e)); });
  });
  FILTERS.forEach(function (f) { $(f).addEventListener("change", renderDesks); });
  ["day", "part"].forEach(function (f) { $(f).addEventListener("change", loadAt); });
  $("feed").addEventListener("click", function () { download("/api/v1/me/calendar.ics", "werkplek.ics"); });
  // A subscribe URL holds a feed token that opens only this feed, never the login token.
  $("feed-subscribe").addEventListener("click", function () {
    api("POST", "/api/v1/me/calendar-feed").then(function (f) {
      $("feed-url").value = f.url; $("feed-webcal").href = f.webcal_url;
      $("feed-box").hidden = false; notify(T("feedMade"));
      $("feed-url").focus(); $("feed-url").select();
    }, function (err) { showError(explain(err)); });
  });
  $("feed-copy").addEventListener("click", function () {
    var done = function () { notify(T("feedCopied")); };
    var byHand = function () {
      // Plain http (no clipboard API): select the text and use the older copy command.
      $("feed-url").select();
      try { if (document.execCommand("copy")) { done(); return; } } catch (e) { /* fall through */ }
      showError(T("feedCopyFailed"));
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText($("feed-url").value).then(done, byHand);
    else byHand();
  });
  $("feed-revoke").addEventListener("click", function () {
    request("DELETE", "/api/v1/me/calendar-feed").then(function () {
      $("feed-url").value = ""; $("feed-box").hidden = true; notify(T("feedRevoked"));
      $("feed-subscribe").focus();
    }, function (err) { showError(explain(err)); });
  });
  $("logout").addEventListener("click", function () { logout(); notify(T("loggedOut")); $("username").focus(); });
  $("lang-switch").addEventListener("click", function () {
    st.lang = st.lang === "nl" ? "en" : "nl";
    localStorage.setItem("werkplek.lang", st.lang);
    applyLang();
  });

  // A check-in button appears when its window opens, without a reload.
  setInterval(function () {
    if (st.user && st.mine.filter(checkInOpen).map(function (b) { return b.id; }).join() !== st.openKey) renderMine();
  }, 30000);

  applyLang();
  SSO.offer("app", $("oidc-login"));
  if (SSO.returned()) {
    SSO.collect().then(function (s) {
      st.token = s.token; sessionStorage.setItem("werkplek.token", s.token);
      return enter().then(function () { $("main").focus(); });
    }, function (err) { showError(SSO.text(ALL[st.lang], err), "login-error"); });
  } else if (st.token) enter();
  else if (st.checkin) $("notice").textContent = T("qrLogin");
})();
