/* Werkplek screens: what the floor screen (signage.js) and the door panel (room.js) share.
 * - the screen token lives in the URL fragment (#token=...), which browsers never send,
 *   so it stays out of server and proxy access logs; an old ?token= link is moved there;
 * - the live stream is opened with a 60 s stream token, never with the screen token;
 * - high contrast (&contrast=high or the system setting), clock, times in the site's zone.
 * Plain JS, no build step, no external assets. */
(function () {
  "use strict";
  var query = new URLSearchParams(location.search);
  var fragment = new URLSearchParams(location.hash.slice(1));
  var token = fragment.get("token") || query.get("token") || "";
  if (query.has("token")) {
    // Old bookmark: move the token into the fragment and out of the address bar.
    query.delete("token");
    fragment.set("token", token);
    var rest = query.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + "#" + fragment.toString());
  }
  var lang = (query.get("lang") || fragment.get("lang")) === "en" ? "en" : "nl";
  var MAX_BACKOFF_MS = 30000;

  function param(name) { return query.get(name) || fragment.get(name) || ""; }

  function contrast() {
    var forced = param("contrast") === "high";
    var media = window.matchMedia ? window.matchMedia("(prefers-contrast: more)") : null;
    function apply() {
      document.documentElement.classList.toggle("hc", forced || !!(media && media.matches));
    }
    apply();
    if (media && media.addEventListener) media.addEventListener("change", apply);
  }

  function api(path, options) {
    var opts = options || {};
    var headers = { Authorization: "Bearer " + token };
    if (opts.body) headers["Content-Type"] = "application/json";
    return fetch(path, { method: opts.method || "GET", headers: headers, body: opts.body })
      .then(function (r) {
        if (!r.ok) {
          return r.json().catch(function () { return {}; }).then(function (body) {
            var e = new Error("HTTP " + r.status);
            e.status = r.status;
            e.reason = body.reason || "";
            throw e;
          });
        }
        return r.json();
      });
  }

  /* One live stream with reconnects: on any error the EventSource is closed, a fresh
   * stream token is asked for and the stream reopened after a growing pause. */
  function LiveStream(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.es = null;
    this.backoff = 1000;
    this.retryAt = 0;
    this.timer = 0;
  }
  LiveStream.prototype.open = function () {
    var self = this;
    if (self.es) self.es.close();
    self.es = null;
    self.retryAt = 0;
    clearTimeout(self.timer);
    self.handlers.status();
    api("/api/v1/stream-tokens", { method: "POST" }).then(function (answer) {
      var sep = self.path.indexOf("?") < 0 ? "?" : "&";
      var es = new EventSource(self.path + sep + "stream_token=" + encodeURIComponent(answer.stream_token));
      self.es = es;
      es.addEventListener("snapshot", function (ev) { self.backoff = 1000; self.handlers.snapshot(JSON.parse(ev.data)); });
      es.addEventListener("delta", function (ev) { self.handlers.delta(JSON.parse(ev.data)); });
      es.onerror = function () { if (self.es === es) self.later(); };
      self.handlers.status();
    }, function (err) {
      if (self.handlers.refused && (err.status === 401 || err.status === 403)) self.handlers.refused();
      self.later();
    });
  };
  LiveStream.prototype.later = function () {
    if (this.es) this.es.close();
    this.es = null;
    var wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    this.retryAt = Date.now() + wait;
    this.timer = setTimeout(this.open.bind(this), wait);
    this.handlers.status();
  };
  /* "open", "connecting" or "offline" (waiting to retry). */
  LiveStream.prototype.state = function () {
    if (this.es && this.es.readyState === 1) return "open";
    if (this.es && this.es.readyState === 0) return "connecting";
    return this.retryAt ? "offline" : "connecting";
  };

  function locale() { return lang === "en" ? "en-GB" : "nl-NL"; }
  function clockTime(ms, tz) {
    return new Date(ms).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", timeZone: tz });
  }
  function dayOf(ms, tz) {
    return new Date(ms).toLocaleDateString("en-CA", { timeZone: tz });
  }
  /* "14:00", "morgen 09:00", or "" when further away than tomorrow. */
  function until(ms, tz, words) {
    if (!ms) return "";
    var today = dayOf(Date.now(), tz), then = dayOf(ms, tz);
    if (then === today) return clockTime(ms, tz);
    if (then === dayOf(Date.now() + 86400000, tz)) return words.tomorrow + " " + clockTime(ms, tz);
    return "";
  }
  function fill(text, vars) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return String(vars[k]); });
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function clock(clockEl, dateEl, tz) {
    var now = new Date();
    clockEl.textContent = now.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", timeZone: tz });
    clockEl.setAttribute("datetime", now.toISOString());
    if (dateEl) {
      dateEl.textContent = now.toLocaleDateString(locale(), { weekday: "long", day: "numeric", month: "long", timeZone: tz });
    }
  }
  function translate(words) {
    document.documentElement.lang = lang;
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      node.textContent = words[node.getAttribute("data-i18n")] || node.textContent;
    });
  }

  window.Werkplek = {
    token: token, lang: lang, param: param, contrast: contrast, api: api, LiveStream: LiveStream,
    clockTime: clockTime, until: until, fill: fill, esc: esc, clock: clock, translate: translate
  };
})();
