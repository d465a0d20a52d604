/* Werkplek screens: what the floor screen (signage.js) and the door panel (room.js) share.
 * - the screen token lives in the URL fragment (#token=...), which browsers never send,
 *   so it stays out of server and proxy access logs; an old ?token= link is moved there;
 * - the live stream is opened with a 60 s stream token, never with the screen token;
 * - high contrast (&contrast=high or the system setting), clock, times in the site's zone.
 * The API, the stream and the texts come from the shared client (../shared/client.js, loaded
 * before this file). Plain JS, no build step, no external assets. */
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

  /* The shared client (../shared/client.js): the screen token as bearer, problem details
   * as errors with their reason. */
  var http = window.WerkplekClient.http(function () { return token; });
  function api(path, options) {
    var opts = options || {};
    return http.api(opts.method || "GET", path, opts.body);
  }

  /* The live stream of the shared client: a fresh stream token on every (re)open, backoff
   * with jitter; options.probe asks the API when the stream has been quiet. */
  function LiveStream(path, handlers, options) {
    var o = { api: http.api };
    Object.keys(options || {}).forEach(function (k) { o[k] = options[k]; });
    return new window.WerkplekClient.Stream(path, handlers, o);
  }

  /* Dates and times by the shared client's formats: nl-NL or en-GB (a screen is not a
   * person's browser), in the site's time zone. */
  var formats = window.WerkplekClient.i18n({ nl: {}, en: {} }, lang);
  function clockTime(ms, tz) {
    return formats.date(new Date(ms), { hour: "2-digit", minute: "2-digit" }, tz);
  }
  function dayOf(ms, tz) {
    return new Date(ms).toLocaleDateString("en-CA", { timeZone: tz });
  }
  /* "14:00", "morgen 09:00", or "" when further away than tomorrow. */
  function until(ms, tz, words) {
    if (!ms) return "";
    var now = window.WerkplekClient.nowMs(), today = dayOf(now, tz), then = dayOf(ms, tz);
    if (then === today) return clockTime(ms, tz);
    if (then === dayOf(now + 86400000, tz)) return words.tomorrow + " " + clockTime(ms, tz);
    return "";
  }
  var fill = window.WerkplekClient.fill;
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function clock(clockEl, dateEl, tz) {
    var now = window.WerkplekClient.now();  // the server's clock: the demo's simulated day
    clockEl.textContent = clockTime(now.getTime(), tz);
    clockEl.setAttribute("datetime", now.toISOString());
    if (dateEl) dateEl.textContent = formats.date(now, { weekday: "long", day: "numeric", month: "long" }, tz);
  }
  /* <html lang> and every [data-i18n] element in the screen's language (the page's texts). */
  function translate(words) {
    var table = {};
    table[lang] = words;
    window.WerkplekClient.i18n(table, lang).translate();
  }

  window.Werkplek = {
    token: token, lang: lang, param: param, contrast: contrast, api: api, LiveStream: LiveStream,
    clockTime: clockTime, until: until, fill: fill, esc: esc, clock: clock, translate: translate
  };
})();
