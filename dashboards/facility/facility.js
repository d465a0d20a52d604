/* Facility pages: cleaning list with a "cleaned" button (phone), use figures, energy advice.
 * Plain JS, no external assets. Every figure comes from /api/v1/facility/* with the login
 * token in a header; suppressed cells are shown as "hidden", never as a number. */
(function () {
  "use strict";
  var TEXT = window.FACILITY_TEXT;
  var CLIENT = window.WerkplekClient;
  var st = { lang: pick(), token: sessionStorage.getItem("werkplek.token") || "", sites: [], names: {} };
  /* Texts, formats and the API come from the shared client (../shared/client.js). */
  var I18N = CLIENT.i18n(TEXT, function () { return st.lang; });
  var HTTP = CLIENT.http(function () { return st.token; });

  function pick() {
    return CLIENT.pickLang([new URLSearchParams(location.search).get("lang"), localStorage.getItem("werkplek.lang")]);
  }
  function T(key, vars) { return I18N.t(key, vars); }
  function $(id) { return document.getElementById(id); }
  function make(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }
  /* Numbers and dates in the page's language (Dutch: "230,4", "di 8 december 2026"). */
  function locale() { return I18N.locale(); }
  function pct(v) {
    if (v === null || v === undefined) return T("hidden");
    return I18N.number(v, { style: "percent", maximumFractionDigits: 0 });
  }
  /* A figure hidden by the small-group rule comes as null: show a dash, never "0". */
  function num(v, digits) {
    if (v === null || v === undefined) return "–";
    return I18N.number(v, { minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0 });
  }
  function day(text) {
    var p = String(text || "").split("-").map(Number);
    if (p.length !== 3 || p.some(isNaN)) return text;
    return I18N.date(new Date(p[0], p[1] - 1, p[2]), { weekday: "short", day: "numeric", month: "long", year: "numeric" });
  }
  /* A space's name (as on the floor plan), never its id, where the name is known. */
  function spaceName(id) { return st.names[id] || id; }
  function iso(d) { return d.toISOString().slice(0, 10); }

  function applyTexts() {
    I18N.translate();
    var other = st.lang === "nl" ? "en" : "nl";
    $("lang-switch").textContent = other === "en" ? "English" : "Nederlands";
    $("lang-switch").lang = other;
    document.title = T("title") + " - Werkplek";
  }
  function showError(msg) { $("error").textContent = msg || ""; }
  function notice(msg) { $("notice").textContent = msg || ""; }

  var request = HTTP.request, api = HTTP.api;
  function explain(err) {
    if (err.reason === "network") return T("err_network");
    if (err.status === 401) { logout(); return ""; }
    if (err.status === 403) return T("err_forbidden");
    return T("err_generic", { detail: err.message });
  }

  function period() { return "start=" + $("start").value + "&end=" + $("end").value; }
  function floorName(id) {
    var opt = Array.prototype.find.call($("floor").options, function (o) { return o.value === id; });
    return opt ? opt.textContent : id;
  }

  /* ---- cleaning ---- */
  function loadCleaning() {
    var q = "site=" + encodeURIComponent($("site").value);
    if ($("floor").value) q += "&floor=" + encodeURIComponent($("floor").value);
    if ($("clean-day").value) q += "&day=" + encodeURIComponent($("clean-day").value);
    return api("GET", "/api/v1/facility/cleaning?" + q).then(function (body) {
      $("clean-status").textContent = body.live ? T("cleanLive") : T("cleanPast", { day: day(body.day) });
      var list = $("clean-list"); list.innerHTML = "";
      if (!body.clean.length) list.appendChild(make("li", {}, T("cleanNone")));
      body.clean.forEach(function (e) { list.appendChild(cleanCard(e, body.live)); });
      var skip = $("skip-list"); skip.innerHTML = "";
      body.skip.forEach(function (e) { skip.appendChild(make("li", {}, spaceName(e.space) + " · " + floorName(e.floor))); });
      $("skip-summary").textContent = T("skipCount", { n: body.skip.length });
    });
  }
  /* A past day's list is for looking back: only today's list has the "cleaned" button. */
  function cleanCard(e, live) {
    var li = make("li", { "data-space": e.space });
    var name = spaceName(e.space);
    var what = make("span", { class: "what" }, name + " · " + floorName(e.floor));
    var why = e.kind === "desk" ? T("usedMinutes", { min: Math.round(e.occupied_minutes) })
      : T("usedUses", { n: e.uses });
    what.appendChild(make("span", { class: "why" }, (T("kinds")[e.kind] || e.kind) + ", " + why));
    li.appendChild(what);
    if (!live) return li;
    var button = make("button", { type: "button", "aria-label": T("cleanedLabel", { name: name }) }, T("cleaned"));
    button.addEventListener("click", function () {
      button.disabled = true;
      request("POST", "/api/v1/facility/cleaning/" + encodeURIComponent(e.space) + "/cleaned").then(function () {
        li.classList.add("done");
        var state = make("span", { class: "state", role: "status" }, T("cleanedDone"));
        li.replaceChild(state, button);
        notice(T("cleanedNotice", { name: name }));
      }, function (err) { button.disabled = false; showError(explain(err)); });
    });
    li.appendChild(button);
    return li;
  }

  /* ---- use ---- */
  function table(el, head, rows) {
    el.innerHTML = "";
    var thead = make("thead"), tr = make("tr");
    head.forEach(function (h) { tr.appendChild(make("th", { scope: "col" }, h)); });
    thead.appendChild(tr); el.appendChild(thead);
    var tbody = make("tbody");
    rows.forEach(function (r) {
      var row = make("tr");
      r.forEach(function (cell, i) { row.appendChild(make(i ? "td" : "th", i ? {} : { scope: "row" }, cell)); });
      tbody.appendChild(row);
    });
    el.appendChild(tbody);
  }
  function siteRows(rows) { return rows.filter(function (r) { return r.site === $("site").value; }); }

  function loadUse() {
    var base = "/api/v1/facility/";
    return Promise.all([
      api("GET", base + "utilisation?level=floor&" + period()),
      api("GET", base + "heatmap?level=floor&" + period()),
      api("GET", base + "trend?level=floor&" + period()),
      api("GET", base + "booked-vs-used?" + period()).catch(function () { return { rows: [] }; }),
      api("GET", base + "quiet-desks?" + period())
    ]).then(function (all) {
      var q = siteRows(all[4].rows)[0];
      $("quiet-text").textContent = !q ? "" : q.suppressed ? T("quietHidden") : T("quietText", {
        supply: num(q.supply), avg: num(q.average_demand, 1), peak: num(q.peak_demand), full: num(q.full_days), days: num(q.days) });
      table($("util-table"), [T("thFloor"), T("thSpaces"), T("thAvg"), T("thPeak")], siteRows(all[0].rows).map(function (r) {
        return [floorName(r.floor), num(r.spaces), pct(r.utilisation), pct(r.peak)];
      }));
      drawHeat(siteRows(all[1].rows));
      drawTrend(siteRows(all[2].rows));
      table($("usage-table"), [T("thKind"), T("thBookings"), T("thCheckedIn"), T("thNoShow"), T("thNoShowRate"), T("thWalkIn")],
        siteRows(all[3].rows).map(function (r) {
          return [T("kinds")[r.kind] || r.kind, num(r.bookings), num(r.checked_in), num(r.no_shows),
            r.bookings || r.suppressed ? pct(r.no_show_rate) : "-", num(r.walk_ins)];
        }));
    });
  }
  var SVG = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs, text) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function level(v) { return v === null ? "hidden" : "l" + Math.min(4, Math.floor((v || 0) * 5)); }

  /* Heat map: the chart (shade and number per cell) and the table with the same figures. */
  function drawHeat(cells) {
    var floor = $("floor").value || (cells[0] && cells[0].floor);
    var mine = cells.filter(function (c) { return c.floor === floor; });
    var hours = Array.from(new Set(mine.map(function (c) { return c.hour; }))).sort(function (a, b) { return a - b; });
    var days = [0, 1, 2, 3, 4, 5, 6].filter(function (d) { return mine.some(function (c) { return c.weekday === d; }); });
    var find = function (d, h) { return mine.find(function (x) { return x.weekday === d && x.hour === h; }); };
    var el = $("heat-table"); el.innerHTML = "";
    el.appendChild(make("caption", {}, floorName(floor || "")));
    var thead = make("thead"), tr = make("tr");
    tr.appendChild(make("th", { scope: "col" }, T("thHour")));
    hours.forEach(function (h) { tr.appendChild(make("th", { scope: "col" }, String(h).padStart(2, "0") + ":00")); });
    thead.appendChild(tr); el.appendChild(thead);
    var tbody = make("tbody");
    days.forEach(function (d) {
      var row = make("tr");
      row.appendChild(make("th", { scope: "row" }, T("weekdays")[d]));
      hours.forEach(function (h) {
        var c = find(d, h);
        row.appendChild(make("td", { class: c ? level(c.occupancy) : "" }, c ? pct(c.occupancy) : "-"));
      });
      tbody.appendChild(row);
    });
    el.appendChild(tbody);

    var svg = $("heat-chart"), cw = 44, ch = 28, left = 40, top = 22;
    clear(svg);
    svg.setAttribute("viewBox", "0 0 " + (left + cw * Math.max(1, hours.length)) + " " + (top + ch * Math.max(1, days.length)));
    hours.forEach(function (h, i) {
      svg.appendChild(svgEl("text", { x: left + i * cw + cw / 2, y: 15, "text-anchor": "middle" }, String(h).padStart(2, "0")));
    });
    days.forEach(function (d, j) {
      var y = top + j * ch;
      svg.appendChild(svgEl("text", { x: 0, y: y + ch / 2 + 4 }, T("weekdays")[d]));
      hours.forEach(function (h, i) {
        var c = find(d, h);
        if (!c) return;
        var lv = level(c.occupancy), x = left + i * cw;
        svg.appendChild(svgEl("rect", { x: x + 1, y: y + 1, width: cw - 2, height: ch - 2, class: lv }));
        svg.appendChild(svgEl("text", { x: x + cw / 2, y: y + ch / 2 + 4, "text-anchor": "middle",
          class: lv === "l3" || lv === "l4" ? "on-dark" : "" }, c.occupancy === null ? "-" : pct(c.occupancy)));
      });
    });
  }

  /* Trend: a line per week with its value written at each point, axis 0-100 %, and the table. */
  function drawTrend(rows) {
    var floor = $("floor").value || (rows[0] && rows[0].floor);
    var mine = rows.filter(function (r) { return r.floor === floor; });
    table($("trend-table"), [T("thWeek"), T("thUse")], mine.map(function (r) { return [r.week, pct(r.utilisation)]; }));
    var svg = $("trend-chart"), w = 600, h = 200, left = 48, right = 20, top = 20, bottom = 30;
    clear(svg);
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    var plotH = h - top - bottom;
    [0, 0.25, 0.5, 0.75, 1].forEach(function (v) {
      var y = top + plotH * (1 - v);
      svg.appendChild(svgEl("line", { x1: left, x2: w - right, y1: y, y2: y, class: v ? "grid" : "axis" }));
      svg.appendChild(svgEl("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, pct(v)));
    });
    var step = mine.length > 1 ? (w - left - right - 20) / (mine.length - 1) : 0;
    var pts = [];
    mine.forEach(function (r, i) {
      var x = left + 10 + i * step;
      svg.appendChild(svgEl("text", { x: x, y: h - 8, "text-anchor": "middle" }, String(r.week).replace(/^\d{4}-/, "")));
      if (r.utilisation === null) return;
      var y = top + plotH * (1 - Math.min(1, r.utilisation));
      pts.push(x + "," + y);
      svg.appendChild(svgEl("circle", { cx: x, cy: y, r: 4, class: "dot" }));
      svg.appendChild(svgEl("text", { x: x, y: y - 8, "text-anchor": "middle" }, pct(r.utilisation)));
    });
    if (pts.length > 1) svg.insertBefore(svgEl("polyline", { points: pts.join(" "), class: "line" }), svg.querySelector("circle"));
  }

  /* ---- energy ---- */
  function loadEnergy() {
    return Promise.all([
      api("GET", "/api/v1/facility/energy"),
      api("GET", "/api/v1/facility/consolidation?level=floor&" + period())
    ]).then(function (all) {
      var e = all[0], zones = siteRows(e.zones), a = e.assumptions;
      var saved = zones.reduce(function (s, z) { return s + z.kwh_saved; }, 0);
      $("energy-summary").textContent = T("energySummary", {
        day: day(e.day), n: zones.filter(function (z) { return z.mode === "setback"; }).length,
        all: zones.length, kwh: num(saved, 1) });
      $("energy-assumptions").textContent = T("energyAssumptions", {
        kw: num(a.kw_per_zone, 1), saving: Math.round(a.setback_saving * 100),
        below: Math.round(a.setback_below * 100), weeks: a.history_weeks });
      // What the forecast rests on (bookings, history, week plans) and the plans' privacy rule.
      $("energy-basis").textContent = e.basis_text ? (st.lang === "nl" ? e.basis_text.nl : e.basis_text.en) : "";
      table($("energy-table"), [T("thZone"), T("thMode"), T("thBooked"), T("thExpected"), T("thKwh")],
        zones.map(function (z) {
          return [floorName(z.floor) + " · " + z.zone, T(z.mode), z.booked_peak === null ? T("hidden") : String(z.booked_peak),
            pct(z.expected_peak), num(z.kwh_saved, 1)];
        }));
      var list = $("advice-list"); list.innerHTML = "";
      var advice = siteRows(all[1].advice);
      if (!advice.length) list.appendChild(make("li", {}, T("adviceNone")));
      advice.forEach(function (x) {
        list.appendChild(make("li", {}, T("advice", {
          text: st.lang === "nl" ? x.text_nl : x.text_en, kwh: num(x.kwh_saved_per_week, 1),
          hours: num(x.setback_hours), zones: num(x.zones) }) +
          (x.plan_nl ? " " + (st.lang === "nl" ? x.plan_nl : x.plan_en) : "")));
      });
    });
  }

  /* ---- frame ---- */
  function loadFloors() {
    return api("GET", "/api/v1/sites/" + encodeURIComponent($("site").value) + "/floors").then(function (floors) {
      var sel = $("floor"), keep = sel.value; sel.innerHTML = "";
      sel.appendChild(make("option", { value: "" }, T("allFloors")));
      floors.forEach(function (f) { sel.appendChild(make("option", { value: f.id }, f.name)); });
      sel.value = Array.prototype.some.call(sel.options, function (o) { return o.value === keep; }) ? keep : "";
      // The spaces' names for the cleaning cards; without them the cards fall back to ids.
      return Promise.all(floors.map(function (f) {
        return api("GET", "/api/v1/floors/" + encodeURIComponent(f.id) + "/spaces").then(function (spaces) {
          spaces.forEach(function (sp) { st.names[sp.id] = sp.name; });
        }, function () { return null; });
      }));
    });
  }
  function refresh() {
    showError("");
    return Promise.all([loadCleaning(), loadUse(), loadEnergy(), loadSustainability()])
      .catch(function (err) { showError(explain(err)); });
  }
  function loadSustainability() {
    return window.WerkplekSustainability.load({ api: api, T: T, locale: locale,
      start: $("start").value, end: $("end").value });
  }
  function enter() {
    $("login-view").hidden = true; $("app-view").hidden = false; $("logout").hidden = false;
    var params = new URLSearchParams(location.search);
    var end = new Date(), start = new Date(end.getTime() - 27 * 86400000);
    $("start").value = params.get("start") || iso(start); $("end").value = params.get("end") || iso(end);
    $("clean-day").max = iso(end);
    if (params.get("day")) $("clean-day").value = params.get("day");
    return api("GET", "/api/v1/sites").then(function (sites) {
      var sel = $("site"); sel.innerHTML = "";
      sites.forEach(function (s) { sel.appendChild(make("option", { value: s.id }, s.name)); });
      if (params.get("site")) sel.value = params.get("site");
      return loadFloors();
    }).then(function () {
      if (params.get("floor")) $("floor").value = params.get("floor");
      return refresh();
    }).catch(function (err) { showError(explain(err)); });
  }
  function logout() {
    // The session ends at the backend too; single sign-on offers the provider's logout.
    $("oidc-end").hidden = true;
    if (st.token) {
      window.WerkplekSso.end(st.token, "facility").then(function (url) {
        if (url) { $("oidc-end").href = url; $("oidc-end").hidden = false; }
      });
    }
    st.token = ""; sessionStorage.removeItem("werkplek.token");
    $("app-view").hidden = true; $("logout").hidden = true; $("login-view").hidden = false;
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    // No bearer token on the login itself.
    CLIENT.http(null).api("POST", "/api/v1/auth/login",
      { username: $("username").value.trim(), password: $("password").value })
      .then(function (s) {
        st.token = s.token; sessionStorage.setItem("werkplek.token", s.token);
        $("password").value = ""; showError("");
        return enter().then(function () { $("main").focus(); });
      }, function () { showError(T("err_login")); $("password").focus(); });
  });
  $("filters").addEventListener("submit", function (ev) { ev.preventDefault(); refresh(); });
  $("period").addEventListener("submit", function (ev) { ev.preventDefault(); refresh(); });
  $("site").addEventListener("change", function () { loadFloors().then(refresh); });
  $("floor").addEventListener("change", refresh);
  $("sust-period").addEventListener("change", function () {
    loadSustainability().catch(function (err) { showError(explain(err)); });
  });
  $("clean-day").addEventListener("change", function () {
    showError(""); loadCleaning().catch(function (err) { showError(explain(err)); });
  });
  $("logout").addEventListener("click", logout);
  $("lang-switch").addEventListener("click", function () {
    st.lang = st.lang === "nl" ? "en" : "nl"; localStorage.setItem("werkplek.lang", st.lang);
    applyTexts(); if (st.token) refresh();
  });
  document.querySelectorAll("a.csv").forEach(function (link) {
    link.addEventListener("click", function (ev) {
      ev.preventDefault();
      request("GET", "/api/v1/facility/" + link.dataset.report + "?level=floor&format=csv&" + period())
        .then(function (r) { return r.blob(); })
        .then(function (blob) {
          var a = make("a", { href: URL.createObjectURL(blob), download: "werkplek-" + link.dataset.report + ".csv" });
          document.body.appendChild(a); a.click(); a.remove();
        }, function (err) { showError(explain(err)); });
    });
  });
  applyTexts();
  window.WerkplekSso.offer("facility", $("oidc-login"));
  if (window.WerkplekSso.returned()) {
    window.WerkplekSso.collect().then(function (s) {
      st.token = s.token; sessionStorage.setItem("werkplek.token", s.token);
      return enter().then(function () { $("main").focus(); });
    }, function (err) { showError(window.WerkplekSso.text(TEXT[st.lang], err)); });
  } else if (st.token) enter();
})();
