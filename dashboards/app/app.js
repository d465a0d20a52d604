/* Werkplek booking app: log in, find a desk on the plan or in the list, book it for a day
 * part, book a room for a meeting, check in (also by QR code), add to a calendar, see and
 * cancel bookings. Plain JS, no build step, no external assets. Live state arrives over SSE
 * opened with a short-lived stream token, so the login token never sits in a URL. */
(function () {
  "use strict";
  var ALL = window.WERKPLEK_TEXT, PLAN = window.WerkplekPlan, SSO = window.WerkplekSso;
  var SHEET = window.WerkplekSheet, WIDE = window.matchMedia("(min-width: 48rem)");
  var WEEK = window.WerkplekWeek;
  var params = new URLSearchParams(location.search);
  var FILTERS = ["quiet", "standing", "screen", "accessible"];
  var STATES = { free: 1, booked: 1, occupied: 1, mine: 1 };
  var st = {
    lang: pickLang(), token: sessionStorage.getItem("werkplek.token") || "",
    user: null, sites: [], floors: [], spaces: [], shapes: {}, mine: [], names: {}, all: {},
    stream: null, planFocus: null, rooms: null, at: null, atTimer: null,
    floorNames: {}, usual: null, zoom: null, shapesFloor: null,
    checkin: params.get("checkin")
  };

  /* Texts, formats, the API and the live stream come from the shared client
   * (../shared/client.js): the login token as bearer, problem details as errors. */
  var CLIENT = window.WerkplekClient;
  var I18N = CLIENT.i18n(ALL, function () { return st.lang; }, { browserLocale: true });
  var HTTP = CLIENT.http(function () { return st.token; });
  function pickLang() {
    // Asked for, or kept from last time; else by the browser: English only when it prefers it.
    return window.WerkplekClient.pickLang([params.get("lang"), localStorage.getItem("werkplek.lang")], true);
  }
  function T(key, vars) { return I18N.t(key, vars); }
  function $(id) { return document.getElementById(id); }
  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  /* A redraw changes only what changed. Elements that stay the same stay in the page, so
     a press on a button is not lost when a live update redraws the list between the press
     and the release, and focus stays where it was. Elements with another data-space-id,
     data-booking-id or data-sig are replaced, never reused: their buttons act on another
     place or booking. */
  var KEYS = ["data-space-id", "data-booking-id", "data-sig"];
  function sameKind(a, b) {
    return a.nodeType === b.nodeType && a.nodeName === b.nodeName && (a.nodeType !== 1 ||
      KEYS.every(function (k) { return a.getAttribute(k) === b.getAttribute(k); }));
  }
  function morph(old, next) {
    if (!sameKind(old, next)) { old.parentNode.replaceChild(next, old); return; }
    if (old.nodeType !== 1) { if (old.nodeValue !== next.nodeValue) old.nodeValue = next.nodeValue; return; }
    if (old.isEqualNode(next)) return;
    Array.prototype.slice.call(old.attributes).forEach(function (a) {
      if (!next.hasAttribute(a.name)) old.removeAttribute(a.name);
    });
    Array.prototype.forEach.call(next.attributes, function (a) {
      if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
    });
    patch(old, Array.prototype.slice.call(next.childNodes));
  }
  function patch(parent, nodes) {
    nodes.forEach(function (node, i) {
      var cur = parent.childNodes[i];
      if (cur) morph(cur, node); else parent.appendChild(node);
    });
    while (parent.childNodes.length > nodes.length) parent.removeChild(parent.lastChild);
  }

  /* ---- dates and times: the user's locale, the site's time zone ---- */
  // The browser's own variant of the chosen language (en-US keeps its 12-hour clock).
  function locale() { return I18N.locale(); }
  function siteOf(id) { return st.sites.filter(function (s) { return s.id === id; })[0]; }
  function tz(siteId) {
    var site = siteOf(siteId || $("site").value);
    return (site && site.timezone) || "Europe/Amsterdam";
  }
  function fmt(date, options, zone) { return I18N.date(date, options, zone); }
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
    var keep = sel.value, today = localIso(CLIENT.now(), tz()).slice(0, 10).split("-").map(Number);
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
      sel.appendChild(make("option", { value: hm }, hmLabel(hm)));
    }
    sel.value = keep;
  }
  /* "14:30" as the language writes a time of day. */
  function hmLabel(hm) { return clock(new Date("2000-01-01T" + hm + ":00Z"), "UTC"); }

  /* ---- the API ---- */
  var request = HTTP.request, api = HTTP.api;
  function explain(err) {
    if (err.status === 401 && err.reason !== "bad_credentials") { SHEET.close(); logout(); return T("err_expired_token"); }
    var key = "err_" + err.reason;
    if (!ALL[st.lang][key]) return T("err_other", { detail: err.message });
    // The server's detail carries the numbers of the rule; the words are ours.
    var hours = err.reason === "outside_opening_hours" && /\((\d\d:\d\d)-(\d\d:\d\d)\)/.exec(err.message);
    var most = err.reason === "too_long" && /at most (\d+) minutes/.exec(err.message);
    var opens = err.reason === "not_open_yet" && /opens at (\d\d:\d\d)/.exec(err.message);
    if (opens) return T("err_not_open_yet", { time: opens[1] });
    return T(key) + (hours ? " (" + hours[1] + "–" + hours[2] + ")" : "") +
      (most ? " " + T("maxMinutes", { n: most[1] }) : "");
  }
  function showError(text, field) {
    // A form's error stands next to its field (announced there, once); others go on top.
    if (field) $(field).textContent = text || "";
    $("error").textContent = field ? "" : text || "";
    $("error-bar").hidden = !$("error").textContent;
    if (text) $("notice").textContent = "";
  }
  function notify(text) { $("error").textContent = ""; $("error-bar").hidden = true; $("notice").textContent = text; }

  function applyLang() {
    document.documentElement.lang = st.lang;
    document.title = T("appTitle");
    I18N.translate();
    var other = st.lang === "nl" ? "en" : "nl";
    $("lang-switch").textContent = other === "en" ? "English" : "Nederlands";
    $("lang-switch").setAttribute("lang", other);
    fillDays($("day")); fillDays($("room-day"));
    fillTimes($("room-from"), "09:00"); fillTimes($("room-to"), "10:00");
    if (st.stream && st.stream.state() === "open") $("live-status").textContent = T(st.sensors ? "live" : "nosensors");
    if (st.user) { $("hello").textContent = T("hello", { name: st.user.display_name }); renderAll(); WEEK.render(); }
  }

  /* ---- desks: list and plan, filtered; live for now, booked-or-free for a later part ---- */
  function today() { return localIso(CLIENT.now(), tz()).slice(0, 10); }
  function isNow() {
    // Today's running part shows the live state; any other day or part asks the server.
    var day = $("day").value, part = $("part").value;
    if (!day || day !== today()) return !day;
    var hm = localIso(CLIENT.now(), tz()).slice(11);
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
    // The live view knows "booked", not by whom: my own booking of today is "mine".
    if (myBookingOf(s.id, today())) return "mine";
    return STATES[s.availability] ? s.availability : "unknown";
  }
  function shownDay() { return isNow() ? today() : $("day").value; }
  function myBookingOf(spaceId, day) {
    return st.mine.filter(function (b) {
      return b.space_id === spaceId && b.local_day === day && (b.status === "booked" || b.status === "checked_in");
    })[0];
  }
  function bookable(state) { return state === "free" || state === "unknown"; }
  function chosenTime() { return { date: $("day").value, part: $("part").value }; }
  function deskActions(s, state) {
    // Only where booking can succeed: free (or unknown) desks; my own shows its own actions.
    // data-sig names the booking the buttons act on: a redraw keeps them only for the same one.
    var b = state === "mine" && myBookingOf(s.id, shownDay());
    var box = make("span", { "class": "actions", "data-sig": b ? b.id + ":" + b.status : bookable(state) ? "book" : "" });
    if (b) {
      bookingActions(b, s.name).forEach(function (x) { box.appendChild(x); });
    } else if (bookable(state)) {
      box.appendChild(action("book", T("bookShort"), T("book", { name: s.name }), function () {
        // The button may outlive a redraw: book the place as it is known now.
        var now = st.spaces.filter(function (x) { return x.id === s.id; })[0] || s;
        askDesk(now, chosenTime(), backTo("list", s.id));
      }));
    }
    return box;
  }
  function matches(s) {
    return FILTERS.every(function (f) { return !$(f).checked || s[f]; });
  }
  function extras(s) {
    return FILTERS.filter(function (f) { return s[f]; }).map(function (f) { return " · " + T(f); }).join("");
  }
  function renderDesks() {
    var list = $("desks"), all = st.spaces.filter(function (s) { return s.kind === "desk"; });
    var desks = all.filter(matches), items = [];
    desks.forEach(function (s) {
      var state = stateOf(s);
      var item = make("li", { "data-space-id": s.id, "data-state": state });
      item.appendChild(make("span", { "class": "badge", "aria-hidden": "true" },
        { free: "✓", booked: "▣", occupied: "●", unknown: "?", mine: "★" }[state]));
      var text = make("span", { "class": "what" });
      text.appendChild(make("strong", {}, s.name));
      text.appendChild(document.createTextNode(" " + T(state) + extras(s)));
      item.appendChild(text);
      item.appendChild(deskActions(s, state));
      items.push(item);
    });
    if (!desks.length) items.push(make("li", {}, T("noDesks")));
    patch(list, items);
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
    // The floor whose shapes are in, not the one just chosen: while that one loads, a redraw
    // keeps showing the previous floor whole.
    var floor = st.floors.filter(function (f) { return f.id === st.shapesFloor; })[0];
    var svg = $("plan");
    if (!floor) return;
    var inPlan = svg.contains(document.activeElement);
    var spaces = st.spaces.filter(function (s) { return st.shapes[s.id]; }).map(function (s) {
      var shape = st.shapes[s.id], state = stateOf(s);
      return { id: s.id, name: s.name, kind: s.kind, state: state, x: shape.x, y: shape.y,
        w: shape.w, h: shape.h, match: matches(s), src: s,
        label: s.kind === "desk" ? T(bookable(state) ? "planDesk" : "planDeskInfo", { name: s.name, state: T(state), extra: extras(s) })
          : T("planRoom", { name: s.name, state: T(state), cap: s.capacity }) };
    });
    svg.setAttribute("aria-label", T("planLabel", { floor: floor.name }));
    var scale = planScale(floor, spaces);
    svg.setAttribute("width", String(Math.round(floor.plan_width * scale)));
    svg.setAttribute("height", String(Math.round(floor.plan_height * scale)));
    st.planFocus = PLAN.draw(svg, {
      floor: floor, spaces: spaces, focusId: st.planFocus, text: function (s) { return T(s); },
      drawing: st.drawing, lang: st.lang,
      onChoose: function (s) { st.planFocus = s.id; choose(s.src, s.state); },
      onMove: function (id) { st.planFocus = id; }
    });
    // A live update redraws the plan; a keyboard user stays on the desk they were on.
    if (inPlan && st.planFocus) {
      var g = svg.querySelector('[data-space-id="' + st.planFocus + '"]');
      if (g) g.focus();
    }
  }

  /* ---- my bookings: check in, calendar, cancel; today's also on the first screen ---- */
  function bookingActions(b, name) {
    var out = [];
    if (b.status === "booked" && checkInOpen(b)) {
      out.push(action("checkin", T("checkin"), T("checkinLabel", { name: name, when: when(b) }),
        function () { checkIn(b, name); }));
    }
    out.push(action("cancel", T("cancel"), T("cancelLabel", { name: name, when: when(b) }),
      function () { cancel(b, name); }));
    return out;
  }
  function bookingItem(b, withCalendar) {
    var name = st.names[b.space_id] || b.space_id;
    var item = make("li", { "data-booking-id": String(b.id), "data-status": b.status });
    var text = make("span", { "class": "what" });
    text.appendChild(make("strong", {}, name));
    text.appendChild(document.createTextNode(" " + when(b) +
      (b.status === "checked_in" ? " · " + T("checkedIn") : "")));
    item.appendChild(text);
    var actions = make("span", { "class": "actions" }), own = bookingActions(b, name);
    if (withCalendar) {
      own.splice(own.length - 1, 0, action("calendar secondary", T("calendar"), T("calendarLabel", { name: name, when: when(b) }),
        function () { download("/api/v1/bookings/" + b.id + "/calendar.ics", "werkplek-" + b.id + ".ics"); }));
    }
    own.forEach(function (x) { actions.appendChild(x); });
    item.appendChild(actions);
    return item;
  }
  function isToday(b) { return localIso(new Date(b.start_at), tz(b.site_id)).slice(0, 10) === localIso(CLIENT.now(), tz(b.site_id)).slice(0, 10); }
  function renderMine() {
    var active = document.activeElement, li = active && active.closest("#mine li, #today-mine li");
    var held = li && [li.parentNode.id, li.getAttribute("data-booking-id"), active.className];
    st.openKey = st.mine.filter(checkInOpen).map(function (b) { return b.id; }).join();
    var list = $("mine"), todays = $("today-mine");
    list.innerHTML = ""; todays.innerHTML = "";
    st.mine.forEach(function (b) {
      list.appendChild(bookingItem(b, true));
      if (isToday(b)) todays.appendChild(bookingItem(b, false));
    });
    if (!st.mine.length) list.appendChild(make("li", {}, T("noBookings")));
    if (!todays.children.length) todays.appendChild(make("li", {}, T("noBookingsToday")));
    renderBest();
    if (held) {
      var again = $(held[0]).querySelector('li[data-booking-id="' + held[1] + '"] button[class="' + held[2] + '"]');
      if (again) again.focus();
    }
  }

  /* ---- the best free places now: quiet first, then near where I usually sit ---- */
  function zoneName(z) { return !z ? "–" : z === "stilte" ? T("zoneQuiet") : z; }
  function renderBest() {
    var list = $("best"), site = $("site").value, u = st.usual;
    var held = document.activeElement && document.activeElement.closest("#best li");
    held = held && held.getAttribute("data-space-id");
    if (!st.user) { patch(list, []); return; }
    var deskToday = st.mine.filter(function (b) { return b.space_kind === "desk" && isToday(b); })[0];
    $("best-help").textContent = deskToday ? T("haveDeskToday") : u ? T("bestHelpUsual",
      { zone: zoneName(u.zone), floor: st.floorNames[u.floor] || u.floor }) : T("bestHelp");
    if (deskToday) { patch(list, []); return; }  // one desk a day: booking another would be refused
    var score = function (s) {
      return (s.quiet ? 4 : 0) + (u && s.zone === u.zone && s.floor === u.floor ? 2 : 0) + (u && s.floor === u.floor ? 1 : 0);
    };
    // Free for the rest of today (no booking), and nobody sitting there now by the sensor.
    var best = (st.best || []).filter(function (s) {
      var live = st.all[s.space_id];
      return s.kind === "desk" && s.availability === "free" && !(live && live.availability === "occupied");
    }).sort(function (a, b) {
      return score(b) - score(a) || a.name.localeCompare(b.name, undefined, { numeric: true });
    }).slice(0, 4), items = [];
    best.forEach(function (s) {
      var item = make("li", { "data-space-id": s.space_id, "data-state": "free" });
      item.appendChild(make("span", { "class": "badge", "aria-hidden": "true" }, "✓"));
      var text = make("span", { "class": "what" });
      text.appendChild(make("strong", {}, s.name));
      text.appendChild(document.createTextNode(" " + T("free") + " · " + zoneName(s.zone) + " · " +
        (st.floorNames[s.floor] || s.floor) + extras(s).replace(s.zone === "stilte" ? " · " + T("quiet") : "\u0000", "")));
      item.appendChild(text);
      item.appendChild(action("book", T("bookShort"), T("book", { name: s.name }), function () {
        // The button may outlive a redraw: book the place as it is known now.
        var now = (st.best || []).filter(function (x) { return x.space_id === s.space_id; })[0] || s;
        askDesk(now, { date: today(), part: "day" });
      }));
      items.push(item);
    });
    if (!best.length) items.push(make("li", {}, st.bestError || T("noBest")));
    patch(list, items);
    // A live update must not throw a keyboard user's focus away, also when the place moved.
    var again = held && list.querySelector('li[data-space-id="' + held + '"] button');
    if (again && document.activeElement !== again) again.focus();
  }
  function loadBest() {
    // Which desks of the chosen site are free for the rest of today, as the server books them.
    var site = $("site").value;
    if (!st.user || !site) return Promise.resolve();
    var q = "?site=" + encodeURIComponent(site) + "&date=" + today() + "&part=day";
    return api("GET", "/api/v1/availability/at" + q).then(function (data) {
      st.best = data.spaces; st.bestError = "";
    }, function (err) { st.best = []; st.bestError = explain(err); }).then(renderBest);
  }
  function loadUsual() {
    // "Usual" is where most of my past desk bookings were (zone and floor), from the API.
    return api("GET", "/api/v1/bookings?limit=100").then(function (page) {
      var counts = {}, top = null;
      page.items.forEach(function (b) {
        var s = st.all[b.space_id];
        if (b.space_kind !== "desk" || !s) return;
        var key = s.floor + "|" + (s.zone || "");
        counts[key] = (counts[key] || 0) + 1;
        if (!top || counts[key] > counts[top]) top = key;
      });
      st.usual = top ? { floor: top.split("|")[0], zone: top.split("|")[1] || null } : null;
      renderBest();
    }, function () { st.usual = null; });
  }

  /* ---- the confirmation sheet: nothing is booked before the person confirms ---- */
  function dayLabel(date) { return fmt(new Date(date + "T12:00:00Z"), { weekday: "long", day: "numeric", month: "long" }, "UTC"); }
  function closeAction() { return { id: "confirm-cancel", text: T("close"), cls: "secondary" }; }
  function backToToday() { return $("today-title"); }
  function backTo(where, spaceId) {
    // After a booking the plan or list is redrawn: back to the same place there, else "Vandaag".
    return function () {
      var sel = '[data-space-id="' + spaceId + '"]';
      return document.querySelector(where === "plan" ? "#plan " + sel : "#desks li" + sel + " button") || $("today-title");
    };
  }
  function spaceFacts(s) {
    return [[T("factPlace"), s.name], [T("factZone"), zoneName(s.zone) + (s.quiet && s.zone !== "stilte" ? " · " + T("quiet") : "")],
      [T("factFloor"), st.floorNames[s.floor] || s.floor]];
  }
  function choose(s, state) {
    // A tap on the plan: book a free place, show my own booking, or say why not.
    if (s.kind !== "desk") { askRoom(s); return; }
    if (bookable(state)) { askDesk(s, chosenTime(), backTo("plan", s.id)); return; }
    var mine = state === "mine" && myBookingOf(s.id, shownDay());
    if (mine) { showBooking(mine, s); return; }
    SHEET.open({ title: s.name, facts: spaceFacts(s).concat([[T("factState"), T(state)]]),
      note: T("notBookable"), actions: [closeAction()], fallback: backTo("plan", s.id) });
  }
  function askDesk(s, w, fallback) {
    SHEET.open({
      title: T("confirmTitle"),
      facts: spaceFacts(s).concat([[T("factTime"), dayLabel(w.date) + ", " + T("part" + w.part).toLowerCase()]]),
      actions: [{ id: "confirm-ok", text: T("confirmBook"), label: T("confirmBookLabel", { name: s.name }), run: function () { book(s, w); } },
        { id: "confirm-cancel", text: T("confirmCancel"), cls: "secondary" }],
      fallback: fallback || backToToday
    });
  }
  function showBooking(b, s) {
    var name = s.name, acts = [];
    if (b.status === "booked" && checkInOpen(b)) acts.push({ text: T("checkin"), run: function () { checkIn(b, name); } });
    acts.push({ text: T("cancelBooking"), cls: "cancel", label: T("cancelLabel", { name: name, when: when(b) }),
      run: function () { cancel(b, name); } });
    acts.push(closeAction());
    SHEET.open({ title: T("mine"), facts: spaceFacts(s).concat([[T("factTime"), when(b)]]),
      note: b.status === "checked_in" ? T("checkedIn") : "", actions: acts, fallback: backTo("plan", s.id) });
  }
  function askRoom(s) {
    var w = { day: $("room-day").value, from: $("room-from").value, to: $("room-to").value }, ok = w.to > w.from;
    roomSheet(s, st.floorNames[s.floor] || s.floor, w, ok, ok ? T("roomPlanNote") : T("needOrder"), backTo("plan", s.space_id));
  }
  /* The room's confirmation sheet, from the plan (askRoom) or the room search (askRoomAt). */
  function roomSheet(s, floor, w, ok, note, fallback) {
    SHEET.open({ title: T("roomConfirmTitle"),
      facts: [[T("factPlace"), s.name], [T("factSize"), T("roomFits", { cap: s.capacity, floor: floor })],
        [T("factTime"), dayLabel(w.day) + ", " + hmLabel(w.from) + "–" + hmLabel(w.to)]],
      note: note,
      actions: (ok ? [{ id: "confirm-ok", text: T("confirmBook"), label: T("confirmRoomLabel", { name: s.name, from: hmLabel(w.from), to: hmLabel(w.to) }),
        run: function () { bookRoom(s, w); } }] : []).concat([{ id: "confirm-cancel", text: T("confirmCancel"), cls: "secondary" }]),
      fallback: fallback });
  }
  function checkInOpen(b) {
    // The server accepts a check-in from 10 minutes before the start until the end.
    var now = CLIENT.nowMs();
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
    // From a list the outcome goes on top; from the sheet it stays in the sheet.
    var inSheet = SHEET.isOpen();
    if (inSheet) SHEET.working(true);
    api("POST", "/api/v1/bookings/" + b.id + "/check-in", { method: "app" }).then(function () {
      return loadMine().then(function () {
        var text = T("checkin_ok", { name: name });
        if (inSheet) SHEET.done(text, [closeAction()]); else notify(text);
      });
    }, function (err) {
      var text = err.reason === "outside_window" && new Date(b.start_at) > CLIENT.now() ?
        T("qr_too_early", { name: name, time: earliest(b) }) : explain(err);
      if (inSheet) SHEET.fail(text, [closeAction()]); else showError(text);
    });
  }
  function earliest(b) {
    // Ten minutes before the start; with the day when that is not today at the site.
    var zone = tz(b.site_id), at = new Date(new Date(b.start_at).getTime() - 10 * 60000);
    var sameDay = localIso(at, zone).slice(0, 10) === localIso(CLIENT.now(), zone).slice(0, 10);
    return (sameDay ? "" : fmt(at, { weekday: "long", day: "numeric", month: "long" }, zone) + " ") + clock(at, zone);
  }

  function loadMine() {
    return api("GET", "/api/v1/bookings?active=true&limit=100").then(function (page) {
      st.mine = page.items; renderMine();
      WEEK.reload();  // a desk booked or cancelled anywhere fills in or clears "Mijn week"
    });
  }
  function loadNames() {
    // Names and live states of every space, for "my bookings" on other floors, for QR codes
    // and for the best free places on the first screen.
    return api("GET", "/api/v1/availability").then(function (data) {
      data.spaces.forEach(function (s) { st.names[s.space_id] = s.name; st.all[s.space_id] = s; });
      (data.floors || []).forEach(function (f) { st.floorNames[f.floor] = f.name; });
      renderBest();
    });
  }
  function loadFloor() {
    var floor = $("floor").value;
    var q = "?site=" + encodeURIComponent($("site").value) + "&floor=" + encodeURIComponent(floor);
    $("qr-sheet").href = "qr.html?floor=" + encodeURIComponent(floor) + "&lang=" + st.lang;
    // The old floor's stream stops first, and the new one opens only once the floor's shapes
    // are in: a live snapshot that came before them would list the new floor's desks beside
    // a plan without them. Until then the old floor stays on screen as a whole.
    stopStream();
    return Promise.all([api("GET", "/api/v1/availability" + q),
      api("GET", "/api/v1/floors/" + encodeURIComponent(floor) + "/spaces"),
      api("GET", "/api/v1/floors/" + encodeURIComponent(floor) + "/drawing").catch(function () { return null; })
    ]).then(function (res) {
      if ($("floor").value !== floor) return null;  // another floor was chosen meanwhile
      st.drawing = res[2];
      st.shapes = {}; st.shapesFloor = floor;
      res[1].forEach(function (s) { st.shapes[s.id] = s; });
      merge(res[0], true);
      listen(q);
      return loadAt();
    });
  }

  /* ---- live stream: the shared client's, with short-lived stream tokens and backoff ---- */
  function stopStream() {
    if (st.stream) st.stream.stop();
    st.stream = null;
  }
  function listen(q) {
    stopStream();
    var stream = new CLIENT.Stream("/api/v1/stream" + q, {
      snapshot: function (data) { merge(data, true); },
      delta: function (data) { merge(data, false); },
      status: function () { if (stream.state() === "offline") $("live-status").textContent = T("offline"); },
      // An expired login is said (and logs out) instead of retried; other refusals retry.
      refused: function (err) {
        if (err.status !== 401) return false;
        showError(explain(err));
        return true;
      }
    }, { api: api });
    st.stream = stream;
    stream.open();
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
    renderBest();
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

  /* ---- booking a desk (after the sheet's Confirm) ---- */
  function book(space, w) {
    if (!w.date) { SHEET.fail(T("needDay"), [closeAction()]); return; }
    SHEET.working(true);
    api("POST", "/api/v1/bookings", { space_id: space.id || space.space_id, date: w.date, part: w.part })
      .then(function (b) {
        // The message comes after the lists are fresh, so what it says is on screen.
        return Promise.all([loadMine(), loadAt(), loadNames(), loadBest()]).then(function () {
          var acts = b.status === "booked" && checkInOpen(b) ?
            [{ text: T("checkin"), run: function () { checkIn(b, space.name); } }] : [];
          SHEET.done(T("booked_ok", { name: space.name, when: when(b) }), acts.concat([closeAction()]));
        });
      }, function (err) { SHEET.fail(explain(err), [closeAction()]); loadAt(); });
  }
  function cancel(b, name) {
    var inSheet = SHEET.isOpen();
    if (inSheet) SHEET.working(true);
    api("DELETE", "/api/v1/bookings/" + b.id).then(function () {
      return Promise.all([loadMine(), loadAt(), loadNames(), loadBest()]).then(function () {
        var text = T("cancelled_ok", { name: name, when: when(b) });
        if (inSheet) { SHEET.done(text, [closeAction()]); return; }
        notify(text);
        $("mine-title").setAttribute("tabindex", "-1"); $("mine-title").focus(); });
    }, function (err) { if (inSheet) SHEET.fail(explain(err), [closeAction()]); else showError(explain(err)); });
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
    list.innerHTML = "";
    free.forEach(function (r) {
      var s = r.space, item = make("li", { "data-space-id": s.space_id });
      var text = make("span", { "class": "what" });
      text.appendChild(make("strong", {}, s.name));
      text.appendChild(document.createTextNode(" " + T("roomFits", { cap: s.capacity, floor: r.floor }) +
        (s.screen ? " · " + T("screen") : "") + (s.accessible ? " · " + T("accessible") : "")));
      item.appendChild(text);
      item.appendChild(action("book", T("bookShort"), T("roomBook", { name: s.name, from: hmLabel(w.from), to: hmLabel(w.to) }),
        function () { askRoomAt(s, r.floor, w); }));
      list.appendChild(item);
    });
    var busy = st.rooms.found.length - free.length;
    $("rooms-summary").textContent = (free.length ? T("roomsFound", { n: free.length }) : T("roomsNone")) +
      (busy ? " " + T("roomsBusy", { n: busy }) : "");
  }
  function askRoomAt(s, floor, w) {
    roomSheet(s, floor, w, true, "", function () { return $("rooms-title"); });
  }
  function bookRoom(space, w) {
    SHEET.working(true);
    var id = space.space_id || space.id;
    api("POST", "/api/v1/bookings", { space_id: id, start: w.day + "T" + w.from, end: w.day + "T" + w.to })
      .then(function (b) {
        st.names[b.space_id] = space.name;
        return Promise.all([loadMine(), st.rooms ? searchRooms() : null]).then(function () {
          SHEET.done(T("booked_ok", { name: space.name, when: when(b) }), [closeAction()]);
        });
      }, function (err) { SHEET.fail(explain(err), [closeAction()]); });
  }

  /* ---- check-in by QR code: /app/?checkin=<space id> ---- */
  function qrCheckin(spaceId) {
    // Handled once: a reload of the page must not check in again.
    st.checkin = null;
    params.delete("checkin");
    history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
    var space = st.all[spaceId];
    if (!space) { showError(T("qr_unknown_space")); return Promise.resolve(); }
    var known = st.mine.map(function (b) { return b.id; });
    // A free desk without a booking of mine is booked for the rest of today and checked in.
    return api("POST", "/api/v1/spaces/" + encodeURIComponent(spaceId) + "/check-in").then(function (b) {
      return Promise.all([loadMine(), loadNames(), loadBest()]).then(function () {
        notify(known.indexOf(b.id) < 0 ? T("walkup_ok", { name: space.name, when: when(b) })
          : T("checkin_ok", { name: space.name }));
        loadAt();
      });
    }, function (err) {
      if (err.reason === "space_taken") { showError(T("qr_someone_else", { name: space.name })); return; }
      if (err.reason !== "booking_not_found" && err.reason !== "other_booking_today") { showError(explain(err)); return; }
      showError(whyNot(space));
    });
  }
  function whyNot(space) {
    // The server only says "no booking of yours now"; my bookings tell which case it is.
    var zone = tz(space.site), today = localIso(CLIENT.now(), zone).slice(0, 10);
    var todays = st.mine.filter(function (b) { return localIso(new Date(b.start_at), zone).slice(0, 10) === today; });
    var here = st.mine.filter(function (b) {
      return b.space_id === space.space_id && new Date(b.start_at) > CLIENT.now();
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
      loadUsual();
      loadBest();
      WEEK.start({ api: api, T: T, notify: notify, showError: showError, explain: explain, locale: locale,
        today: today, sites: st.sites, booked: function () { loadMine(); } });
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
    WEEK.stop();
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
  /* Filters behind a disclosure button: folded on a phone, so the first screen shows desks. */
  function showFilters(open) {
    $("find-form").hidden = !open;
    $("filters-toggle").setAttribute("aria-expanded", String(open));
  }
  $("filters-toggle").addEventListener("click", function () { showFilters($("find-form").hidden); });
  showFilters(WIDE.matches);
  $("error-close").addEventListener("click", function () { showError(""); $("main").focus(); });
  $("to-all").addEventListener("click", function (ev) { ev.preventDefault(); $("find-title").focus(); });
  /* The plan's scale: readable tiles of at least 48 px on a phone, panned in its own box. */
  function planScale(floor, spaces) {
    var fit = ($("plan-scroll").clientWidth || 360) / floor.plan_width;
    if (st.zoom) return Math.max(st.zoom, fit);
    if (WIDE.matches) return fit;
    var small = spaces.reduce(function (m, s) { return Math.min(m, s.w, s.h); }, Infinity);
    return isFinite(small) ? Math.max(fit, 48 / small) : fit;
  }
  function zoomBy(factor) {
    var floor = st.floors.filter(function (f) { return f.id === $("floor").value; })[0];
    if (!floor) return;
    var now = parseFloat($("plan").getAttribute("width")) / floor.plan_width || 1;
    st.zoom = Math.min(3, now * factor);
    renderPlan();
  }
  $("zoom-in").addEventListener("click", function () { zoomBy(1.25); });
  $("zoom-out").addEventListener("click", function () { zoomBy(0.8); });
  window.addEventListener("resize", function () { if (st.user && !st.zoom) renderPlan(); });
  $("room-form").addEventListener("submit", searchRooms);
  $("site").addEventListener("change", function () {
    loadBest();
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

  // Colleagues book too: the best free places are asked again every minute.
  setInterval(function () { if (st.user) loadBest(); }, 60000);
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
