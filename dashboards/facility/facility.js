/* Facility pages: cleaning list with a "cleaned" button (phone), use figures, energy advice.
 * Plain JS, no external assets. Every figure comes from /api/v1/facility/* with the login
 * token in a header; suppressed cells are shown as "hidden", never as a number. */
(function () {
  "use strict";
  var TEXT = window.FACILITY_TEXT;
  var st = { lang: pick(), token: sessionStorage.getItem("werkplek.token") || "", sites: [] };

  function pick() {
    var p = new URLSearchParams(location.search).get("lang") || localStorage.getItem("werkplek.lang");
    return p === "en" ? "en" : "nl";
  }
  function T(key, vars) {
    var s = TEXT[st.lang][key];
    if (typeof s !== "string") return s;
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vars && k in vars ? vars[k] : ""; });
  }
  function $(id) { return document.getElementById(id); }
  function make(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }
  function pct(v) { return v === null || v === undefined ? T("hidden") : Math.round(v * 100) + " %"; }
  function iso(d) { return d.toISOString().slice(0, 10); }

  function applyTexts() {
    document.documentElement.lang = st.lang;
    document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = T(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-label]").forEach(function (el) {
      el.setAttribute("aria-label", T(el.dataset.i18nLabel));
    });
    var other = st.lang === "nl" ? "en" : "nl";
    $("lang-switch").textContent = other === "en" ? "English" : "Nederlands";
    $("lang-switch").lang = other;
    document.title = T("title") + " - Werkplek";
  }
  function showError(msg) { $("error").textContent = msg || ""; }
  function notice(msg) { $("notice").textContent = msg || ""; }

  function request(method, path) {
    var headers = { Accept: "application/json" };
    if (st.token) headers.Authorization = "Bearer " + st.token;
    return fetch(path, { method: method, headers: headers })
      .catch(function () { var e = new Error("network"); e.reason = "network"; throw e; })
      .then(function (r) {
        if (r.ok) return r;
        return r.json().catch(function () { return {}; }).then(function (b) {
          var e = new Error(b.detail || r.statusText); e.status = r.status; e.reason = b.reason; throw e;
        });
      });
  }
  function api(method, path) { return request(method, path).then(function (r) { return r.json(); }); }
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
      $("clean-status").textContent = body.live ? T("cleanLive") : T("cleanPast", { day: body.day });
      var list = $("clean-list"); list.innerHTML = "";
      if (!body.clean.length) list.appendChild(make("li", {}, T("cleanNone")));
      body.clean.forEach(function (e) { list.appendChild(cleanCard(e, body.live)); });
      var skip = $("skip-list"); skip.innerHTML = "";
      body.skip.forEach(function (e) { skip.appendChild(make("li", {}, e.space + " · " + floorName(e.floor))); });
      $("skip-summary").textContent = T("skipCount", { n: body.skip.length });
    });
  }
  /* A past day's list is for looking back: only today's list has the "cleaned" button. */
  function cleanCard(e, live) {
    var li = make("li", { "data-space": e.space });
    var what = make("span", { class: "what" }, e.space + " · " + floorName(e.floor));
    var why = e.kind === "desk" ? T("usedMinutes", { min: Math.round(e.occupied_minutes) })
      : T("usedUses", { n: e.uses });
    what.appendChild(make("span", { class: "why" }, (T("kinds")[e.kind] || e.kind) + ", " + why));
    li.appendChild(what);
    if (!live) return li;
    var button = make("button", { type: "button", "aria-label": T("cleanedLabel", { name: e.space }) }, T("cleaned"));
    button.addEventListener("click", function () {
      button.disabled = true;
      request("POST", "/api/v1/facility/cleaning/" + encodeURIComponent(e.space) + "/cleaned").then(function () {
        li.classList.add("done");
        var state = make("span", { class: "state", role: "status" }, T("cleanedDone"));
        li.replaceChild(state, button);
        notice(T("cleanedNotice", { name: e.space }));
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
        supply: q.supply, avg: q.average_demand.toFixed(1), peak: q.peak_demand, full: q.full_days, days: q.days });
      table($("util-table"), [T("thFloor"), T("thSpaces"), T("thAvg"), T("thPeak")], siteRows(all[0].rows).map(function (r) {
        return [floorName(r.floor), String(r.spaces), pct(r.utilisation), pct(r.peak)];
      }));
      drawHeat(siteRows(all[1].rows));
      drawTrend(siteRows(all[2].rows));
      table($("usage-table"), [T("thKind"), T("thBookings"), T("thCheckedIn"), T("thNoShow"), T("thNoShowRate"), T("thWalkIn")],
        siteRows(all[3].rows).map(function (r) {
          return [T("kinds")[r.kind] || r.kind, String(r.bookings), String(r.checked_in), String(r.no_shows),
            r.bookings || r.suppressed ? pct(r.no_show_rate) : "-", String(r.walk_ins)];
        }));
    });
  }
  function drawHeat(cells) {
    var floor = $("floor").value || (cells[0] && cells[0].floor);
    var mine = cells.filter(function (c) { return c.floor === floor; });
    var hours = Array.from(new Set(mine.map(function (c) { return c.hour; }))).sort(function (a, b) { return a - b; });
    var el = $("heat-table"); el.innerHTML = "";
    el.appendChild(make("caption", {}, floorName(floor || "")));
    var thead = make("thead"), tr = make("tr");
    tr.appendChild(make("th", { scope: "col" }, T("thHour")));
    hours.forEach(function (h) { tr.appendChild(make("th", { scope: "col" }, String(h).padStart(2, "0") + ":00")); });
    thead.appendChild(tr); el.appendChild(thead);
    var tbody = make("tbody");
    for (var d = 0; d < 7; d++) {
      var day = mine.filter(function (c) { return c.weekday === d; });
      if (!day.length) continue;
      var row = make("tr");
      row.appendChild(make("th", { scope: "row" }, T("weekdays")[d]));
      hours.forEach(function (h) {
        var c = day.find(function (x) { return x.hour === h; });
        var v = c ? c.occupancy : undefined;
        var level = v === null ? "hidden" : "l" + Math.min(4, Math.floor((v || 0) * 5));
        row.appendChild(make("td", { class: c ? level : "" }, c ? pct(v) : "-"));
      });
      tbody.appendChild(row);
    }
    el.appendChild(tbody);
  }
  function drawTrend(rows) {
    var floor = $("floor").value || (rows[0] && rows[0].floor);
    var mine = rows.filter(function (r) { return r.floor === floor; });
    table($("trend-table"), [T("thWeek"), T("thUse")], mine.map(function (r) { return [r.week, pct(r.utilisation)]; }));
    var svg = $("trend-chart"), w = 600, h = 180, pad = 30;
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.innerHTML = "";
    var ns = "http://www.w3.org/2000/svg";
    var step = mine.length > 1 ? (w - 2 * pad) / (mine.length - 1) : 0;
    var pts = [];
    mine.forEach(function (r, i) {
      if (r.utilisation === null) return;
      var x = pad + i * step, y = h - pad - r.utilisation * (h - 2 * pad);
      pts.push(x + "," + y);
      var dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x); dot.setAttribute("cy", y); dot.setAttribute("r", 4); dot.setAttribute("fill", "#0b4ea2");
      svg.appendChild(dot);
      var label = document.createElementNS(ns, "text");
      label.setAttribute("x", x); label.setAttribute("y", y - 8); label.setAttribute("text-anchor", "middle");
      label.textContent = pct(r.utilisation);
      svg.appendChild(label);
    });
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts.join(" ")); line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#0b4ea2"); line.setAttribute("stroke-width", "2");
    svg.insertBefore(line, svg.firstChild);
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
        day: e.day, n: zones.filter(function (z) { return z.mode === "setback"; }).length,
        all: zones.length, kwh: saved.toFixed(1) });
      $("energy-assumptions").textContent = T("energyAssumptions", {
        kw: a.kw_per_zone, saving: Math.round(a.setback_saving * 100),
        below: Math.round(a.setback_below * 100), weeks: a.history_weeks });
      table($("energy-table"), [T("thZone"), T("thMode"), T("thBooked"), T("thExpected"), T("thKwh")],
        zones.map(function (z) {
          return [floorName(z.floor) + " · " + z.zone, T(z.mode), z.booked_peak === null ? T("hidden") : String(z.booked_peak),
            pct(z.expected_peak), z.kwh_saved.toFixed(1)];
        }));
      var list = $("advice-list"); list.innerHTML = "";
      var advice = siteRows(all[1].advice);
      if (!advice.length) list.appendChild(make("li", {}, T("adviceNone")));
      advice.forEach(function (x) {
        list.appendChild(make("li", {}, T("advice", {
          text: st.lang === "nl" ? x.text_nl : x.text_en, kwh: x.kwh_saved_per_week.toFixed(1),
          hours: x.setback_hours, zones: x.zones })));
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
    });
  }
  function refresh() {
    showError("");
    return Promise.all([loadCleaning(), loadUse(), loadEnergy()]).catch(function (err) { showError(explain(err)); });
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
    fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value.trim(), password: $("password").value }) })
      .then(function (r) { if (!r.ok) throw new Error("login"); return r.json(); })
      .then(function (s) {
        st.token = s.token; sessionStorage.setItem("werkplek.token", s.token);
        $("password").value = ""; showError("");
        return enter().then(function () { $("main").focus(); });
      }, function () { showError(T("err_login")); $("password").focus(); });
  });
  $("filters").addEventListener("submit", function (ev) { ev.preventDefault(); refresh(); });
  $("site").addEventListener("change", function () { loadFloors().then(refresh); });
  $("floor").addEventListener("change", refresh);
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
