/* "Mijn week" of the booking app: where I plan to work per day (a site or home), copy last
 * week, a default week, how many of my team plan each place (names only of colleagues who
 * share), and one tap to book a desk on a planned office day, near my team when asked.
 * The app starts it after login with its helpers (api, T, notify, locale). */
(function () {
  "use strict";
  var ctx = null, bound = false;
  var st = { week: "", plan: null, teams: null, teamWeeks: [], sites: [], busy: false };

  function $(id) { return document.getElementById(id); }
  function T(key, vars) { return ctx.T(key, vars); }
  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  /* ISO dates as UTC noon, so adding days never crosses a clock change. */
  function addDays(iso, n) {
    var d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function mondayOf(iso) {
    var wd = (new Date(iso + "T12:00:00Z").getUTCDay() + 6) % 7;
    return addDays(iso, -wd);
  }
  function label(iso, opts) {
    var o = { timeZone: "UTC" };
    Object.keys(opts).forEach(function (k) { o[k] = opts[k]; });
    return new Intl.DateTimeFormat(ctx.locale(), o).format(new Date(iso + "T12:00:00Z"));
  }
  function siteName(id) {
    var s = st.sites.filter(function (x) { return x.id === id; })[0];
    return s ? s.name : id;
  }
  function fail(err) { st.busy = false; ctx.showError(ctx.explain(err)); }

  function load() {
    if (!ctx) return Promise.resolve();
    var week = st.week;
    return Promise.all([
      ctx.api("GET", "/api/v1/plans/me?week=" + week),
      ctx.api("GET", "/api/v1/teams/me")
    ]).then(function (got) {
      var teams = got[1];
      return Promise.all(teams.teams.map(function (t) {
        return ctx.api("GET", "/api/v1/teams/" + t.id + "/week?week=" + week);
      })).then(function (weeks) {
        if (!ctx || week !== st.week) return;  // logged out, or another week asked meanwhile
        st.plan = got[0]; st.teams = teams; st.teamWeeks = weeks;
        render();
      });
    }).catch(fail);
  }

  /* The words (and icon: never colour alone) for where a day is planned. */
  function placeText(day) {
    if (day.desk) {
      return "★ " + T("weekDesk", { name: day.desk.space_name, site: day.site_name || "",
        zone: day.desk.zone || "–" });
    }
    if (day.place === "home") return "⌂ " + T("weekAtHome");
    if (day.place === "site") return "▣ " + T("weekAtSite", { site: day.site_name });
    return "– " + T("weekNothing");
  }
  function teamLines(day) {
    var out = [];
    st.teamWeeks.forEach(function (tw) {
      var td = tw.days.filter(function (d) { return d.day === day; })[0];
      (td ? td.places : []).forEach(function (p) {
        var where = p.place === "home" ? T("weekHome") : (p.site_name || p.site_id);
        var text = T("weekTeamCount", { n: p.count, place: where });
        if (st.teamWeeks.length > 1) text = tw.team_name + ": " + text;
        if (p.names.length) text += " — " + p.names.join(", ");
        out.push(text);
      });
    });
    return out;
  }
  function placeSelect(day) {
    var id = "week-place-" + day.day;
    var sel = make("select", { id: id, "data-day": day.day, "aria-describedby": "week-state-" + day.day,
      "aria-labelledby": "week-where-" + day.day + " week-day-" + day.day });
    sel.appendChild(make("option", { value: "" }, T("weekNothing")));
    sel.appendChild(make("option", { value: "home" }, T("weekHome")));
    st.sites.forEach(function (s) { sel.appendChild(make("option", { value: "site:" + s.id }, s.name)); });
    sel.value = day.place === "site" ? "site:" + day.site_id : day.place || "";
    sel.disabled = !!day.desk;  // a booked day follows its booking; cancel it to change
    sel.addEventListener("change", function () { choose(day.day, sel.value); });
    return sel;
  }
  function dayItem(day) {
    var li = make("li", { class: "week-day", "data-day": day.day });
    var title = label(day.day, { weekday: "long", day: "numeric", month: "long" });
    li.appendChild(make("h3", { id: "week-day-" + day.day }, title));
    li.appendChild(make("label", { for: "week-place-" + day.day, id: "week-where-" + day.day }, T("weekWhere")));
    li.appendChild(placeSelect(day));
    li.appendChild(make("p", { id: "week-state-" + day.day, class: "week-state" }, placeText(day)));
    var lines = teamLines(day.day);
    if (lines.length) {
      var ul = make("ul", { class: "week-team", "aria-label": T("weekTeamLabel") });
      lines.forEach(function (t) { ul.appendChild(make("li", {}, t)); });
      li.appendChild(ul);
    }
    if (day.place === "site" && !day.desk) {
      var actions = make("p", { class: "week-actions" });
      var book = make("button", { type: "button", class: "secondary", "data-book": day.day },
        T("weekBook"));
      book.setAttribute("aria-label", T("weekBookLabel", { day: title, site: day.site_name }));
      book.addEventListener("click", function () { bookDay(day, false); });
      actions.appendChild(book);
      if (st.teams && st.teams.teams.length) {
        var near = make("button", { type: "button", "data-book-near": day.day }, T("weekBookNear"));
        near.setAttribute("aria-label", T("weekBookNearLabel", { day: title, site: day.site_name }));
        near.addEventListener("click", function () { bookDay(day, true); });
        actions.appendChild(near);
      }
      li.appendChild(actions);
    }
    return li;
  }

  function render() {
    if (!ctx || !st.plan) return;
    var focused = document.activeElement && document.activeElement.id;
    $("week-label").textContent = T("weekOf", {
      date: label(st.week, { day: "numeric", month: "long", year: "numeric" }) });
    var list = $("week-days");
    list.innerHTML = "";
    st.plan.days.forEach(function (day, i) {
      if (i < 5 || day.place) list.appendChild(dayItem(day));  // a weekend day only when planned
    });
    var hasTeams = st.teams.teams.length > 0;
    $("week-share-box").hidden = !hasTeams;
    $("week-share").checked = st.teams.share_with_team;
    $("week-teams").textContent = hasTeams
      ? T("weekTeams", { names: st.teams.teams.map(function (t) { return t.name; }).join(", ") })
      : T("weekNoTeams");
    if (focused && $(focused)) $(focused).focus();
  }

  function choose(day, value) {
    var req = value === ""
      ? ctx.api("DELETE", "/api/v1/plans/me/days/" + day)
      : ctx.api("PUT", "/api/v1/plans/me/days/" + day, value === "home"
        ? { place: "home" } : { place: "site", site_id: value.slice(5) });
    req.then(function () {
      var where = value === "" ? T("weekNothing") : value === "home" ? T("weekHome") : siteName(value.slice(5));
      ctx.notify(T("weekSaved", { day: label(day, { weekday: "long", day: "numeric", month: "long" }),
        place: where }));
      return load();
    }).catch(fail);
  }

  /* One tap: take the best free desk of the planned site (near the team when asked) and book it. */
  function bookDay(day, nearTeam) {
    if (st.busy) return;
    st.busy = true;
    var path = "/api/v1/plans/me/days/" + day.day + "/desks?near_team=" + (nearTeam ? "true" : "false");
    ctx.api("GET", path).then(function (found) {
      var tries = found.desks.slice(0, 3);
      function next() {
        var desk = tries.shift();
        if (!desk) { st.busy = false; ctx.showError(T("weekNoDesk", { site: found.site_name })); return null; }
        return ctx.api("POST", "/api/v1/bookings", { space_id: desk.space_id, date: day.day, part: "day" })
          .then(function () {
            st.busy = false;
            var key = desk.reason === "near_team" ? "weekBookedNear"
              : desk.reason === "team_zone" ? "weekBookedZone" : "weekBooked";
            ctx.notify(T(key, { name: desk.name, floor: desk.floor_name, zone: desk.zone || "–" }));
            ctx.booked();  // the app reloads its bookings, and with them this week
            return null;
          }, function (err) {
            if (err.status === 409) return next();  // taken a moment ago: the next best one
            throw err;
          });
      }
      return next();
    }).catch(fail);
  }

  function bind() {
    if (bound) return;
    bound = true;
    $("week-prev").addEventListener("click", function () { st.week = addDays(st.week, -7); load(); });
    $("week-next").addEventListener("click", function () { st.week = addDays(st.week, 7); load(); });
    $("week-copy").addEventListener("click", function () {
      ctx.api("POST", "/api/v1/plans/me/copy-last-week", { week: st.week }).then(function () {
        ctx.notify(T("weekCopied")); return load();
      }).catch(fail);
    });
    $("week-pattern-save").addEventListener("click", function () {
      var days = [];  // Monday to Friday as planned now (a booked day counts as its site)
      st.plan.days.forEach(function (d, weekday) {
        if (weekday > 4 || !d.place) return;
        days.push(d.place === "home" ? { weekday: weekday, place: "home" }
          : { weekday: weekday, place: "site", site_id: d.site_id });
      });
      ctx.api("PUT", "/api/v1/plans/me/pattern", { days: days }).then(function () {
        ctx.notify(T("weekPatternSaved"));
      }).catch(fail);
    });
    $("week-pattern-apply").addEventListener("click", function () {
      ctx.api("POST", "/api/v1/plans/me/apply-pattern", { week: st.week }).then(function () {
        ctx.notify(T("weekPatternApplied")); return load();
      }).catch(fail);
    });
    $("week-share").addEventListener("change", function () {
      var on = $("week-share").checked;
      ctx.api("PUT", "/api/v1/teams/me/sharing", { share_with_team: on }).then(function () {
        ctx.notify(T(on ? "weekShareOn" : "weekShareOff")); return load();
      }).catch(fail);
    });
  }

  window.WerkplekWeek = {
    /* c: {api, T, notify, showError, explain, locale, today, sites, booked} */
    start: function (c) {
      ctx = c; st.sites = c.sites; st.week = mondayOf(c.today()); st.plan = null;
      bind();
      return load();
    },
    reload: function () { return load(); },
    render: function () { render(); },
    stop: function () {
      ctx = null; st.plan = null; st.teams = null; st.teamWeeks = [];
      if ($("week-days")) $("week-days").innerHTML = "";
    }
  };
})();
