/* Werkplek booking app: log in, find a desk, book it for a day part, see and cancel bookings.
 * Plain JS, no build step, no external assets. Live state arrives over SSE. */
(function () {
  "use strict";
  var ALL = window.WERKPLEK_TEXT;
  var params = new URLSearchParams(location.search);
  var st = {
    lang: pickLang(), token: sessionStorage.getItem("werkplek.token") || "",
    user: null, sites: [], floors: [], spaces: [], mine: [], names: {}, es: null, retry: 0
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

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (st.token) headers.Authorization = "Bearer " + st.token;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) {
            var e = new Error(data.detail || "HTTP " + r.status);
            e.status = r.status; e.reason = data.reason || ""; throw e;
          }
          return data;
        });
      }, function () { var e = new Error("network"); e.reason = "network"; throw e; });
  }
  function explain(err) {
    if (err.status === 401 && err.reason !== "bad_credentials") { logout(); return T("err_expired_token"); }
    var key = "err_" + err.reason;
    return ALL[st.lang][key] ? T(key) : T("err_other", { detail: err.message });
  }
  function showError(text, field) {
    $("error").textContent = text || "";
    if (field) $(field).textContent = text || "";
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
    fillDays();
    if (st.es && st.es.readyState === 1) $("live-status").textContent = T(st.sensors ? "live" : "nosensors");
    if (st.user) { $("hello").textContent = T("hello", { name: st.user.display_name }); renderAll(); }
  }

  function tz() {
    var site = st.sites.filter(function (s) { return s.id === $("site").value; })[0];
    return (site && site.timezone) || "Europe/Amsterdam";
  }
  function when(b) {
    var loc = st.lang === "en" ? "en-GB" : "nl-NL", zone = tz();
    var day = new Date(b.start_at).toLocaleDateString(loc, { weekday: "long", day: "numeric", month: "long", timeZone: zone });
    var hm = { hour: "2-digit", minute: "2-digit", timeZone: zone };
    return day + " " + new Date(b.start_at).toLocaleTimeString(loc, hm) + "–" +
      new Date(b.end_at).toLocaleTimeString(loc, hm);
  }
  function fillDays() {
    // The working days bookings are open for (14 days ahead), named in the user's language.
    var sel = $("day"), keep = sel.value, d = new Date(), loc = st.lang === "en" ? "en-GB" : "nl-NL";
    sel.innerHTML = "";
    for (var i = 0; i <= 14; i += 1, d.setDate(d.getDate() + 1)) {
      if (d.getDay() === 0 || d.getDay() === 6) continue;
      var iso = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
        String(d.getDate()).padStart(2, "0");
      sel.appendChild(make("option", { value: iso },
        d.toLocaleDateString(loc, { weekday: "long", day: "numeric", month: "long" })));
    }
    if (keep) sel.value = keep;
  }
  function renderDesks() {
    var list = $("desks"), quietOnly = $("quiet").checked;
    list.innerHTML = "";
    var desks = st.spaces.filter(function (s) { return s.kind === "desk" && (!quietOnly || s.quiet); });
    desks.forEach(function (s) {
      var state = { free: 1, booked: 1, occupied: 1 }[s.availability] ? s.availability : "unknown";
      var item = make("li", { "data-space-id": s.id, "data-state": state });
      item.appendChild(make("span", { "class": "badge", "aria-hidden": "true" },
        { free: "✓", booked: "▣", occupied: "●", unknown: "?" }[state]));
      var text = make("span", { "class": "what" });
      text.appendChild(make("strong", {}, s.name));
      text.appendChild(document.createTextNode(" " + T(state) + (s.quiet ? " · " + T("quiet") : "")));
      item.appendChild(text);
      var button = make("button", { type: "button", "class": "book", "aria-label": T("book", { name: s.name }) }, T("bookShort"));
      button.addEventListener("click", function () { book(s); });
      item.appendChild(button);
      list.appendChild(item);
    });
    if (!desks.length) list.appendChild(make("li", {}, T("noDesks")));
  }
  function renderMine() {
    var list = $("mine");
    list.innerHTML = "";
    st.mine.forEach(function (b) {
      var name = st.names[b.space_id] || b.space_id;
      var item = make("li", { "data-booking-id": String(b.id) });
      var text = make("span", { "class": "what" });
      text.appendChild(make("strong", {}, name));
      text.appendChild(document.createTextNode(" " + when(b) +
        (b.status === "checked_in" ? " · " + T("checkedIn") : "")));
      item.appendChild(text);
      var button = make("button", { type: "button", "class": "cancel",
        "aria-label": T("cancelLabel", { name: name, when: when(b) }) }, T("cancel"));
      button.addEventListener("click", function () { cancel(b, name); });
      item.appendChild(button);
      list.appendChild(item);
    });
    if (!st.mine.length) list.appendChild(make("li", {}, T("noBookings")));
  }
  function renderAll() { renderDesks(); renderMine(); }

  function loadMine() {
    return api("GET", "/api/v1/bookings?active=true&limit=100").then(function (page) {
      st.mine = page.items; renderMine();
    });
  }
  function loadFloor() {
    var q = "?site=" + encodeURIComponent($("site").value) + "&floor=" + encodeURIComponent($("floor").value);
    listen(q);
    return api("GET", "/api/v1/availability" + q).then(function (data) {
      st.spaces = data.spaces;
      data.spaces.forEach(function (s) { st.names[s.space_id] = s.name; });
      st.spaces.forEach(function (s) { s.id = s.space_id; });
      renderDesks();
    });
  }
  function listen(q) {
    // Live availability without reloading; the browser's EventSource retries by itself.
    if (st.es) st.es.close();
    var es = new EventSource("/api/v1/stream" + q + "&token=" + encodeURIComponent(st.token));
    st.es = es;
    es.addEventListener("snapshot", function (ev) { merge(JSON.parse(ev.data), true); });
    es.addEventListener("delta", function (ev) { merge(JSON.parse(ev.data), false); });
    es.onerror = function () { $("live-status").textContent = T("offline"); };
  }
  function merge(data, whole) {
    var byId = {};
    if (!whole) st.spaces.forEach(function (s) { byId[s.id] = s; });
    data.spaces.forEach(function (s) { s.id = s.space_id; byId[s.id] = s; st.names[s.id] = s.name; });
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
      sel.innerHTML = "";
      floors.forEach(function (f) { sel.appendChild(make("option", { value: f.id }, f.name)); });
      return loadFloor();
    });
  }

  function book(space) {
    if (!$("day").value) { showError(T("needDay"), "day-error"); $("day").focus(); return; }
    showError("", "day-error");
    api("POST", "/api/v1/bookings", { space_id: space.id, date: $("day").value, part: $("part").value })
      .then(function (b) {
        // The message comes after the list is fresh, so what it says is on screen.
        return loadMine().then(function () { notify(T("booked_ok", { name: space.name, when: when(b) })); });
      }, function (err) { $("notice").textContent = ""; showError(explain(err)); });
  }
  function cancel(b, name) {
    api("DELETE", "/api/v1/bookings/" + b.id).then(function () {
      return loadMine().then(function () {
        notify(T("cancelled_ok", { name: name, when: when(b) }));
        $("mine-title").setAttribute("tabindex", "-1"); $("mine-title").focus(); });
    }, function (err) { showError(explain(err)); });
  }

  function enter() {
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("logout").hidden = false;
    fillDays();
    return api("GET", "/api/v1/me").then(function (me) {
      st.user = me;
      $("hello").textContent = T("hello", { name: me.display_name });
      return api("GET", "/api/v1/sites");
    }).then(function (sites) {
      st.sites = sites;
      var sel = $("site");
      sel.innerHTML = "";
      sites.forEach(function (s) { sel.appendChild(make("option", { value: s.id }, s.name)); });
      return Promise.all([loadFloors(), loadMine()]);
    }).catch(function (err) { showError(explain(err)); });
  }
  function logout() {
    st.token = ""; st.user = null;
    sessionStorage.removeItem("werkplek.token");
    if (st.es) st.es.close();
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
  $("site").addEventListener("change", function () { loadFloors().catch(function (e) { showError(explain(e)); }); });
  $("floor").addEventListener("change", function () { loadFloor().catch(function (e) { showError(explain(e)); }); });
  $("quiet").addEventListener("change", renderDesks);
  $("logout").addEventListener("click", function () { logout(); notify(T("loggedOut")); $("username").focus(); });
  $("lang-switch").addEventListener("click", function () {
    st.lang = st.lang === "nl" ? "en" : "nl";
    localStorage.setItem("werkplek.lang", st.lang);
    applyLang();
  });

  applyLang();
  if (st.token) enter();
})();
