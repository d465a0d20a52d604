/* Werkplek door panel: one room, free/occupied now with "until", today's bookings (times
 * only, never who), and on a touch screen with a panel token "book now for 15/30/60 min".
 * Needs common.js. URL: /signage/room.html?space=hq.1.r-02&lang=nl|en#token=... */
(function () {
  "use strict";
  var W = window.Werkplek;
  var space = W.param("space");
  var TEXT = {
    nl: {
      free: "Vrij", occupied: "Bezet", booked: "Gereserveerd", unknown: "Onbekend",
      freeUntil: "Vrij tot {t}", occupiedUntil: "Bezet tot {t}", bookedUntil: "Gereserveerd tot {t}",
      tomorrow: "morgen", person: "1 persoon", persons: "{n} personen",
      today: "Vandaag", bookNow: "Nu reserveren", slot: "Gereserveerd {a}–{b}", now: "nu",
      next: "Volgende reservering: {a}–{b}", noMore: "Vandaag geen reserveringen meer",
      none: "Vandaag geen reserveringen", closed: "Vandaag gesloten",
      minutes: "{n} min", minutesLong: "Nu reserveren voor {n} minuten",
      busy: "Bezig met reserveren…", done: "Gereserveerd tot {t}. Welkom!",
      taken: "Deze ruimte is dan al gereserveerd. Kies een kortere tijd.",
      shut: "Dat kan niet: het gebouw is dan gesloten.",
      tooLate: "Te laat om te reserveren: het gebouw gaat om {t} dicht.",
      notHere: "Dit scherm mag geen reserveringen maken.",
      failed: "Reserveren lukt nu niet. Probeer het zo opnieuw.",
      live: "Actueel", connecting: "Verbinden…", offline: "Geen verbinding. Nieuwe poging over {s} s",
      stale: "Gegevens niet actueel", nosensors: "Sensoren niet bereikbaar",
      noToken: "Dit scherm heeft geen geldige toegangscode. Vraag de beheerder om de juiste link.",
      noRoom: "Deze ruimte bestaat niet. Vraag de beheerder om de juiste link.",
      loadFailed: "De gegevens laden lukt niet. We proberen het opnieuw.",
      meeting: "Deze reservering", checkIn: "Inchecken", endNow: "Nu beëindigen",
      endSure: "Tik nog eens om te beëindigen", extend: "+{n} min", extendLong: "{n} minuten verlengen",
      closedUntil: "Gesloten tot {t}", closedSince: "Gesloten sinds {t}", busyUntil: "Bezet tot {t}",
      noExtend: "Verlengen kan tot {t}: dan begint de volgende reservering.",
      noExtendShut: "Verlengen kan tot {t}: dan gaat het gebouw dicht.",
      checkedIn: "Ingecheckt. Fijne vergadering!", ended: "Beëindigd. De ruimte is nu vrij.",
      extended: "Verlengd tot {t}.", actFailed: "Dat lukt nu niet. Probeer het zo opnieuw."
    },
    en: {
      free: "Free", occupied: "Occupied", booked: "Booked", unknown: "Unknown",
      freeUntil: "Free until {t}", occupiedUntil: "Occupied until {t}", bookedUntil: "Booked until {t}",
      tomorrow: "tomorrow", person: "1 person", persons: "{n} people",
      today: "Today", bookNow: "Book now", slot: "Booked {a}–{b}", now: "now",
      next: "Next booking: {a}–{b}", noMore: "No more bookings today",
      none: "No bookings today", closed: "Closed today",
      minutes: "{n} min", minutesLong: "Book now for {n} minutes",
      busy: "Booking…", done: "Booked until {t}. Welcome!",
      taken: "The room is already booked then. Choose a shorter time.",
      shut: "Not possible: the building is closed then.",
      tooLate: "Too late to book: the building closes at {t}.",
      notHere: "This screen may not make bookings.",
      failed: "Booking did not work. Please try again shortly.",
      live: "Live", connecting: "Connecting…", offline: "No connection. Retrying in {s} s",
      stale: "Data not up to date", nosensors: "Sensors not reachable",
      noToken: "This screen has no valid access code. Ask the administrator for the right link.",
      noRoom: "This room does not exist. Ask the administrator for the right link.",
      loadFailed: "Loading the data failed. Trying again.",
      meeting: "This booking", checkIn: "Check in", endNow: "End now",
      endSure: "Tap again to end", extend: "+{n} min", extendLong: "Extend by {n} minutes",
      closedUntil: "Closed until {t}", closedSince: "Closed since {t}", busyUntil: "Occupied until {t}",
      noExtend: "Extending is possible until {t}: the next booking starts then.",
      noExtendShut: "Extending is possible until {t}: the building closes then.",
      checkedIn: "Checked in. Have a good meeting!", ended: "Ended. The room is free now.",
      extended: "Extended until {t}.", actFailed: "That did not work. Please try again shortly."
    }
  }[W.lang];
  var EARLY_MS = 10 * 60000;  // check-in opens 10 minutes before the start, as in the app
  var STALE_MS = 60000;
  var st = { info: null, avail: null, connected: false, gateway: "unknown", lastData: 0, stream: null, busy: false };

  function t(key, vars) { return W.fill(TEXT[key], vars || {}); }
  function $(id) { return document.getElementById(id); }
  function tz() { return st.info ? st.info.timezone : "Europe/Amsterdam"; }
  function ms(iso) { return new Date(iso).getTime(); }
  /* The server's clock (the demo's simulated day); staleness below keeps the browser's. */
  function nowMs() { return window.WerkplekClient.nowMs(); }
  function hm(iso) { return W.clockTime(ms(iso), tz()); }
  function stale() { return Date.now() - st.lastData > STALE_MS; }

  function state() {
    var a = st.avail;
    if (!a || stale()) return "unknown";
    return { free: 1, occupied: 1, booked: 1 }[a.availability] ? a.availability : "unknown";
  }
  function renderNow() {
    var s = state(), until = s === "unknown" ? "" : W.until(st.avail.until, tz(), TEXT);
    var text = until ? t({ free: "freeUntil", occupied: "occupiedUntil", booked: "bookedUntil" }[s], { t: until }) : TEXT[s];
    $("now").setAttribute("data-state", s);
    $("now-icon").setAttribute("href", "#icon-" + s);
    $("now-text").textContent = text;
    renderSchedule();
    renderButtons();
  }
  /* Runs every second from tick(): the list is rebuilt only when a row's text or class changed. */
  var scheduleKey = "";
  function renderSchedule() {
    var list = $("schedule"), info = st.info, now = nowMs(), next = null, rows = [];
    if (!info) return;
    info.bookings.forEach(function (b) {
      var current = ms(b.start) <= now && now < ms(b.end);
      rows.push([t("slot", { a: hm(b.start), b: hm(b.end) }) + (current ? " (" + TEXT.now + ")" : ""),
        current ? "current" : ms(b.end) <= now ? "past" : ""]);
      if (!next && ms(b.start) > now) next = b;
    });
    if (!info.bookings.length) rows.push([info.opens ? TEXT.none : TEXT.closed, ""]);
    var key = JSON.stringify(rows);
    if (key !== scheduleKey) {
      scheduleKey = key;
      list.textContent = "";
      rows.forEach(function (r) {
        var item = document.createElement("li");
        item.textContent = r[0];
        if (r[1]) item.className = r[1];
        list.appendChild(item);
      });
    }
    $("now-next").textContent = next ? t("next", { a: hm(next.start), b: hm(next.end) }) :
      info.bookings.length ? TEXT.noMore : "";
  }
  /* A length is offered only when it fits: the room free that long and the site open. */
  function fits(minutes) {
    var info = st.info, start = nowMs(), end = start + minutes * 60000;
    if (!info || !info.opens || start < ms(info.opens) || end > ms(info.closes)) return false;
    return !info.bookings.some(function (b) { return ms(b.start) < end && ms(b.end) > start; });
  }
  /* The booking running now (or starting within 10 minutes), else null. */
  function current() {
    var now = nowMs();
    return st.info ? st.info.bookings.filter(function (b) {
      return ms(b.start) - EARLY_MS <= now && now < ms(b.end);
    })[0] || null : null;
  }
  /* The first moment after ``from`` at which the room stops being free: the next
   * booking's start or closing time (whichever comes first). */
  function limitAfter(from, skip) {
    var info = st.info, limit = info.closes ? ms(info.closes) : from, shut = true;
    info.bookings.forEach(function (b) {
      if (b !== skip && ms(b.end) > from && ms(b.start) < limit) { limit = Math.max(from, ms(b.start)); shut = false; }
    });
    return { at: limit, shut: shut };
  }
  /* Why the book-now buttons are (partly) off, in words; "" when all can be used. */
  function bookWhy(cur) {
    var info = st.info, now = nowMs();
    if (!info.opens) return TEXT.closed;
    if (now < ms(info.opens)) return t("closedUntil", { t: hm(info.opens) });
    if (now >= ms(info.closes)) return t("closedSince", { t: hm(info.closes) });
    if (cur) return t("busyUntil", { t: hm(cur.end) });
    var off = info.durations.filter(function (n) { return !fits(n); });
    if (!off.length) return "";
    var limit = limitAfter(now, null), at = W.clockTime(limit.at, tz());
    /* No length fits before closing (the last minutes of the day): say that, not "free until". */
    return t(limit.shut && off.length === info.durations.length ? "tooLate" : "freeUntil", { t: at });
  }
  function renderMeeting(cur) {
    var box = $("meeting"), now = nowMs(), started = cur && ms(cur.start) <= now;
    box.hidden = !cur;
    if (!cur) return;
    $("check-in").hidden = cur.status !== "booked";
    $("end-early").hidden = !started;
    var limit = limitAfter(ms(cur.end), cur), why = "";
    [15, 30].forEach(function (n) {
      var b = $("extend-" + n);
      b.hidden = !started;
      b.disabled = st.busy || ms(cur.end) + n * 60000 > limit.at;
      if (b.disabled && started && !st.busy) {
        why = t(limit.shut ? "noExtendShut" : "noExtend", { t: W.clockTime(limit.at, tz()) });
      }
    });
    ["check-in", "end-early"].forEach(function (id) { $(id).disabled = st.busy; });
    if ($("meeting-why").textContent !== why) $("meeting-why").textContent = why;
  }
  function renderButtons() {
    var info = st.info, box = $("buttons");
    $("book").hidden = !(info && info.can_book);
    if (!info || !info.can_book) return;
    var cur = current();
    renderMeeting(cur);
    var why = bookWhy(cur);
    if ($("book-why").textContent !== why) $("book-why").textContent = why;
    if (!box.children.length) {
      info.durations.forEach(function (n) {
        var b = document.createElement("button");
        b.type = "button";
        b.setAttribute("data-minutes", String(n));
        b.setAttribute("aria-label", t("minutesLong", { n: n }));
        b.setAttribute("aria-describedby", "book-why");
        b.textContent = t("minutes", { n: n });
        b.addEventListener("click", function () { book(n); });
        box.appendChild(b);
      });
    }
    Array.prototype.forEach.call(box.children, function (b) {
      b.disabled = st.busy || !fits(Number(b.getAttribute("data-minutes")));
    });
  }
  function book(minutes) {
    if (st.busy) return;
    st.busy = true;
    renderButtons();
    $("book-result").textContent = TEXT.busy;
    W.api("/api/v1/spaces/" + encodeURIComponent(space) + "/book-now",
      { method: "POST", body: JSON.stringify({ minutes: minutes }) })
      .then(function (booking) {
        $("book-result").textContent = t("done", { t: hm(booking.end) });
        return load();
      }, function (err) {
        var why = { space_taken: "taken", outside_opening_hours: "shut", site_closed: "shut",
          spans_days: "shut", not_this_panel: "notHere", role_not_allowed: "notHere" }[err.reason] || "failed";
        $("book-result").textContent = TEXT[why];
        return load();
      })
      .then(function () { st.busy = false; renderButtons(); },
        function () { st.busy = false; renderButtons(); });
  }

  /* Check in, end early or extend the room's meeting; "end" asks for a second tap. */
  var confirmTimer = 0;
  function act(action, body, done) {
    if (st.busy) return;
    var end = $("end-early");
    if (action === "end" && end.getAttribute("data-confirm") !== "true") {
      end.setAttribute("data-confirm", "true");
      end.textContent = TEXT.endSure;
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(unconfirm, 8000);
      return;
    }
    unconfirm();
    st.busy = true;
    renderButtons();
    $("book-result").textContent = TEXT.busy;
    W.api("/api/v1/spaces/" + encodeURIComponent(space) + "/panel/" + action,
      { method: "POST", body: body ? JSON.stringify(body) : undefined })
      .then(function (meeting) {
        $("book-result").textContent = done(meeting);
      }, function (err) {
        var why = { not_this_panel: "notHere", role_not_allowed: "notHere" }[err.reason];
        $("book-result").textContent = why ? TEXT[why] : TEXT.actFailed;
      })
      .then(load)
      .then(function () { st.busy = false; renderButtons(); },
        function () { st.busy = false; renderButtons(); });
  }
  function unconfirm() {
    var end = $("end-early");
    end.removeAttribute("data-confirm");
    end.textContent = TEXT.endNow;
  }
  $("check-in").addEventListener("click", function () {
    act("check-in", null, function () { return TEXT.checkedIn; });
  });
  $("end-early").addEventListener("click", function () {
    act("end", null, function () { return TEXT.ended; });
  });
  [15, 30].forEach(function (n) {
    // Words fixed for the page's life: set once here, not on every tick's renderMeeting.
    var b = $("extend-" + n);
    b.textContent = t("extend", { n: n });
    b.setAttribute("aria-label", t("extendLong", { n: n }));
    b.setAttribute("aria-describedby", "meeting-why");
    b.addEventListener("click", function () {
      act("extend", { minutes: n }, function (m) { return t("extended", { t: hm(m.end) }); });
    });
  });

  function applySpaces(items) {
    items.forEach(function (a) { if (a.space_id === space) st.avail = a; });
  }
  function applySnapshot(data) {
    applySpaces(data.spaces);
    st.connected = data.connected;
    st.gateway = data.gateway;
    st.lastData = Date.now();
    renderNow();
    renderStatus();
  }
  function applyDelta(data) {
    var mine = data.spaces.some(function (a) { return a.space_id === space; });
    applySpaces(data.spaces);
    st.connected = data.connected;
    st.gateway = data.gateway;
    st.lastData = Date.now();
    if (mine) load();  // a booking changed: fetch today's schedule again
    renderNow();
    renderStatus();
  }
  function renderStatus() {
    var box = $("status"), s, text, link = st.stream ? st.stream.state() : "connecting";
    if (link === "offline") {
      s = "offline";
      text = t("offline", { s: Math.max(0, Math.ceil((st.stream.retryAt - Date.now()) / 1000)) });
    } else if (link === "connecting" && !st.lastData) {
      s = "connecting"; text = TEXT.connecting;
    } else if (stale()) {
      s = "stale"; text = TEXT.stale;
    } else if (!st.connected || st.gateway === "offline") {
      s = "nosensors"; text = TEXT.nosensors;
    } else {
      s = "live"; text = TEXT.live;
    }
    box.setAttribute("data-status", s);
    if ($("status-text").textContent !== text) $("status-text").textContent = text;
  }
  function showMessage(text) { var m = $("message"); m.textContent = text; m.hidden = !text; }

  function load() {
    return W.api("/api/v1/spaces/" + encodeURIComponent(space) + "/today").then(function (info) {
      st.info = info;
      showMessage("");
      $("room-name").textContent = info.name;
      document.title = info.name;
      $("room-cap").textContent = info.capacity === 1 ? TEXT.person : t("persons", { n: info.capacity });
      renderNow();
      return info;
    });
  }
  function start() {
    if (!W.token) { showMessage(TEXT.noToken); return; }
    load().then(function (info) {
      var q = "site=" + encodeURIComponent(info.site_id) + "&floor=" + encodeURIComponent(info.floor_id);
      st.stream = W.LiveStream("/api/v1/stream?" + q, {
        snapshot: applySnapshot, delta: applyDelta, status: renderStatus,
        refused: function () { showMessage(TEXT.noToken); }
      });
      st.stream.open();
      setInterval(function () { load().catch(function () { return null; }); }, 60000);
    }).catch(function (err) {
      var auth = err.status === 401 || err.status === 403;
      showMessage(auth ? TEXT.noToken : err.status === 404 || err.status === 422 ? TEXT.noRoom : TEXT.loadFailed);
      setTimeout(start, auth ? 60000 : 5000);
    });
  }

  W.contrast();
  W.translate(TEXT);
  function tick() { W.clock($("clock"), $("date"), tz()); renderStatus(); if (st.info) renderNow(); }
  tick();
  setInterval(tick, 1000);
  start();
})();
