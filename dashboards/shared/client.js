/* Werkplek dashboards: the one client every page shares (floor screen, door panel, booking
 * app, facility and privacy pages). Each page loads it first with
 * <script src="../shared/client.js">; plain JS, no build step, no external assets.
 * - WerkplekClient.http(token): request()/api() over fetch, JSON, the page's bearer token;
 *   a refused answer becomes an Error with the problem detail's status, reason and detail;
 * - WerkplekClient.Stream: asks POST /api/v1/stream-tokens for a short-lived stream token
 *   (the login or screen token never goes into a URL), opens an EventSource with it and
 *   reconnects with exponential backoff plus jitter; optionally probes the API when the
 *   stream has been quiet (SSE pings are comments, invisible to EventSource);
 * - WerkplekClient.now(): the server's clock as learnt from the Werkplek-Time header of every
 *   API answer (the demo's simulated day; in production the browser's clock, give or take);
 * - WerkplekClient.i18n: the page's texts in Dutch (first) or English, {placeholders},
 *   [data-i18n] elements, numbers and dates by Intl in the chosen language. */
(function () {
  "use strict";

  /* ---- the server's clock ---- */

  /* Every API answer says the backend's time: "Werkplek-Time: <unix ms>" and, when its clock
   * runs faster than real time (the demo's --speed), "; rate=<r>". Booking times, "today"
   * and the screens' clocks follow it, so a page agrees with the rules it is judged by. */
  var clock = { serverMs: 0, at: 0, rate: 1 };

  function learnTime(value) {
    var m = /^\s*(\d+)\s*(?:;\s*rate=([0-9.]+))?\s*$/.exec(value || "");
    if (!m) return false;
    var rate = m[2] ? Number(m[2]) : 1;
    clock = { serverMs: Number(m[1]), at: Date.now(), rate: rate > 0 ? rate : 1 };
    return true;
  }

  /* The server's now in unix ms; the browser's own until an answer has said it. */
  function nowMs() {
    if (!clock.at) return Date.now();
    return Math.round(clock.serverMs + (Date.now() - clock.at) * clock.rate);
  }
  function now() { return new Date(nowMs()); }
  /* A wall-clock moment (a sensor's "since", the browser's own Date.now()) on the server's
   * clock, for showing it beside now(): the same in production, the simulated day in the demo. */
  function fromWall(ms) {
    if (!clock.at) return ms;
    return Math.round(clock.serverMs + (ms - clock.at) * clock.rate);
  }

  /* ---- the API ---- */

  /* An Error for a refused answer: the server's words in .message, its reason code in
   * .reason (the pages choose their own words by it), the HTTP status in .status. */
  function failure(status, problem) {
    var detail = problem && problem.detail;
    var text = typeof detail === "string" && detail ? detail : "HTTP " + status;
    var e = new Error(text);
    e.status = status;
    e.reason = (problem && typeof problem.reason === "string" && problem.reason) || "";
    e.detail = typeof detail === "string" ? detail : "";
    return e;
  }

  /* token: a function giving the page's current bearer token ("" or none: no header). */
  function http(token) {
    function request(method, path, body) {
      var headers = { Accept: "application/json" };
      var bearer = token ? token() : "";
      if (bearer) headers.Authorization = "Bearer " + bearer;
      var payload;
      if (body !== undefined && body !== null) {
        headers["Content-Type"] = "application/json";
        payload = typeof body === "string" ? body : JSON.stringify(body);
      }
      return fetch(path, { method: method || "GET", headers: headers, body: payload })
        .catch(function () {
          var e = new Error("network");
          e.status = 0; e.reason = "network"; e.detail = "";
          throw e;
        })
        .then(function (r) {
          if (r.headers && typeof r.headers.get === "function") learnTime(r.headers.get("Werkplek-Time"));
          if (r.ok) return r;
          return r.json().catch(function () { return {}; }).then(function (problem) {
            throw failure(r.status, problem);
          });
        });
    }
    /* The answer's JSON; an empty answer (204) is {}. */
    function api(method, path, body) {
      return request(method, path, body).then(function (r) {
        return r.json().catch(function () { return {}; });
      });
    }
    return { request: request, api: api };
  }

  /* ---- the live stream ---- */

  /* One live stream with reconnects. path: "/api/v1/stream?site=..&floor=..".
   * handlers: snapshot(data), delta(data) and, optional, status() after every change of
   * state() and refused(err) when the stream token is refused (401/403); refused returning
   * true stops the stream, anything else retries later.
   * options: api (the page's api(method, path, body), required), firstMs (1 s), maxMs (30 s),
   * probe: { path, apply(data), quietMs (45 s), everyMs (5 s) }: while the stream is open
   * but nothing came for quietMs, GET path; its answer goes to apply, a failure reconnects. */
  function Stream(path, handlers, options) {
    var o = options || {};
    this.path = path;
    this.handlers = handlers;
    this.api = o.api;
    this.firstMs = o.firstMs || 1000;
    this.maxMs = o.maxMs || 30000;
    this.probe = o.probe || null;
    this.backoff = this.firstMs;
    this.es = null;
    this.retryAt = 0;
    this.timer = 0;
    this.probeTimer = 0;
    this.gen = 0;
    this.stopped = false;
    this.lastData = 0;
  }
  Stream.prototype.status = function () {
    if (this.handlers.status) this.handlers.status();
  };
  Stream.prototype.drop = function () {
    if (this.es) this.es.close();
    this.es = null;
  };
  Stream.prototype.open = function () {
    var self = this, gen = ++self.gen;
    self.stopped = false;
    self.drop();
    self.retryAt = 0;
    clearTimeout(self.timer);
    if (self.probe && !self.probeTimer) {
      self.probeTimer = setInterval(self.check.bind(self), self.probe.everyMs || 5000);
    }
    self.status();
    self.api("POST", "/api/v1/stream-tokens").then(function (answer) {
      if (gen !== self.gen) return;
      var sep = self.path.indexOf("?") < 0 ? "?" : "&";
      var es = new EventSource(self.path + sep + "stream_token=" + encodeURIComponent(answer.stream_token));
      self.es = es;
      es.addEventListener("snapshot", function (ev) {
        if (self.es !== es) return;
        self.backoff = self.firstMs;
        self.lastData = Date.now();
        self.handlers.snapshot(JSON.parse(ev.data));
      });
      es.addEventListener("delta", function (ev) {
        if (self.es !== es) return;
        self.lastData = Date.now();
        self.handlers.delta(JSON.parse(ev.data));
      });
      // The stream token may have expired or the server restarted: a fresh token, later.
      es.onerror = function () { if (self.es === es) self.later(); };
      self.status();
    }, function (err) {
      if (gen !== self.gen) return;
      var refused = err.status === 401 || err.status === 403;
      if (refused && self.handlers.refused && self.handlers.refused(err) === true) {
        self.stop();
        return;
      }
      self.later();
    });
  };
  /* Close now and reopen after a pause that doubles up to maxMs, spread by +-25 % so that
   * many screens do not come back at the same instant after a server restart. */
  Stream.prototype.later = function () {
    this.drop();
    if (this.stopped) return;
    this.gen += 1;
    var wait = Math.round(this.backoff * (0.75 + Math.random() / 2));
    this.backoff = Math.min(this.backoff * 2, this.maxMs);
    this.retryAt = Date.now() + wait;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.open.bind(this), wait);
    this.status();
  };
  /* For good (logout, another floor): no reconnect, no probe. */
  Stream.prototype.stop = function () {
    this.gen += 1;
    this.stopped = true;
    this.drop();
    clearTimeout(this.timer);
    clearInterval(this.probeTimer);
    this.probeTimer = 0;
    this.retryAt = 0;
  };
  Stream.prototype.check = function () {
    var self = this, gen = self.gen, p = self.probe;
    if (self.state() !== "open" || Date.now() - self.lastData < (p.quietMs || 45000)) return;
    self.api("GET", p.path).then(function (data) {
      self.lastData = Date.now();
      p.apply(data);
    }, function () { if (gen === self.gen) self.later(); });
  };
  /* "open", "connecting" or "offline" (waiting to retry; retryAt says until when). */
  Stream.prototype.state = function () {
    if (this.es && this.es.readyState === 1) return "open";
    if (this.es && this.es.readyState === 0) return "connecting";
    return this.retryAt ? "offline" : "connecting";
  };

  /* ---- texts and formats ---- */

  /* The first of the choices that is a language we have; then the browser's preference
   * when asked (English only when it prefers English), else Dutch. */
  function pickLang(choices, browser) {
    for (var i = 0; i < choices.length; i += 1) {
      if (choices[i] === "nl" || choices[i] === "en") return choices[i];
    }
    if (browser) return /^en\b/i.test(navigator.language || "") ? "en" : "nl";
    return "nl";
  }

  /* table: { nl: {...}, en: {...} }; lang: "nl"/"en" or a function giving the current one.
   * options.browserLocale: format in the browser's own variant of the language (en-US keeps
   * its 12-hour clock); otherwise nl-NL and en-GB. */
  function i18n(table, lang, options) {
    var o = options || {};
    function current() { return typeof lang === "function" ? lang() : lang; }
    function locale() {
      var chosen = current();
      if (o.browserLocale) {
        var langs = navigator.languages || [navigator.language || ""];
        for (var i = 0; i < langs.length; i += 1) {
          if (langs[i] && langs[i].slice(0, 2).toLowerCase() === chosen) return langs[i];
        }
      }
      return chosen === "en" ? "en-GB" : "nl-NL";
    }
    /* A text with its {placeholders} filled; a missing key gives the key, a value that is
     * not a string (a table of names) is given as it is. */
    function t(key, vars) {
      var s = table[current()][key];
      if (s === undefined) return key;
      if (typeof s !== "string") return s;
      return fill(s, vars);
    }
    function has(key) { return table[current()][key] !== undefined; }
    function number(value, formatOptions) {
      return new Intl.NumberFormat(locale(), formatOptions || {}).format(value);
    }
    /* A date or time in the chosen language, in the given time zone (else the browser's). */
    function date(value, formatOptions, zone) {
      var f = {};
      Object.keys(formatOptions || {}).forEach(function (k) { f[k] = formatOptions[k]; });
      if (zone) f.timeZone = zone;
      return new Intl.DateTimeFormat(locale(), f).format(value);
    }
    /* <html lang>, every [data-i18n] element's text and every [data-i18n-label]'s
     * aria-label (other attribute names for pages that use them); unknown keys keep the
     * text written in the HTML. */
    function translate(attrs) {
      var a = attrs || {}, textAttr = a.text || "data-i18n", labelAttr = a.label || "data-i18n-label";
      document.documentElement.lang = current();
      Array.prototype.forEach.call(document.querySelectorAll("[" + textAttr + "]"), function (n) {
        var key = n.getAttribute(textAttr);
        if (has(key)) n.textContent = t(key);
      });
      Array.prototype.forEach.call(document.querySelectorAll("[" + labelAttr + "]"), function (n) {
        var key = n.getAttribute(labelAttr);
        if (has(key)) n.setAttribute("aria-label", t(key));
      });
    }
    return { lang: current, locale: locale, t: t, has: has, number: number, date: date, translate: translate };
  }

  /* "{n} free" with vars {n: 3}: "3 free"; a placeholder without a value becomes "". */
  function fill(text, vars) {
    return String(text).replace(/\{(\w+)\}/g, function (_, k) {
      return vars && k in vars && vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : "";
    });
  }

  window.WerkplekClient = {
    http: http, Stream: Stream, pickLang: pickLang, i18n: i18n, fill: fill,
    now: now, nowMs: nowMs, fromWall: fromWall, learnTime: learnTime
  };
})();
