/* Facility pages, "Werkdagen per soort vestiging": work days per kind of base (central
 * office, field base, satellite, home) per week or month, from check-ins and week plans.
 * A cell with too few people comes from the API as null and is shown as the word "hidden"
 * with a mark, never as a number and never by colour alone. facility.js calls load(). */
(function () {
  "use strict";
  var KINDS = ["central_office", "field_base", "satellite", "home"];

  function $(id) { return document.getElementById(id); }
  function make(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }

  /* c: {api, T, locale, start, end} */
  function load(c) {
    var per = $("sust-period").value || "week";
    var q = "start=" + c.start + "&end=" + c.end + "&period=" + per;
    return c.api("GET", "/api/v1/facility/sustainability?" + q).then(function (body) {
      var number = new Intl.NumberFormat(c.locale());
      var cell = function (v) { return v === null ? "⊘ " + c.T("sustHidden") : number.format(v); };
      var el = $("sust-table");
      el.innerHTML = "";
      var head = make("tr");
      [per === "week" ? c.T("thWeek") : c.T("sustMonth")].concat(
        KINDS.map(function (k) { return c.T("sustKinds")[k]; })
      ).forEach(function (h) { head.appendChild(make("th", { scope: "col" }, h)); });
      var thead = make("thead"); thead.appendChild(head); el.appendChild(thead);
      var rows = {};
      body.rows.forEach(function (r) { (rows[r.period] = rows[r.period] || {})[r.kind] = r; });
      var tbody = make("tbody"), office = 0, home = 0, hidden = 0;
      Object.keys(rows).sort().forEach(function (p) {
        var tr = make("tr");
        tr.appendChild(make("th", { scope: "row" }, p));
        KINDS.forEach(function (k) {
          var r = rows[p][k];
          var td = make("td", { "data-kind": k }, r ? cell(r.work_days) : "–");
          if (r && r.suppressed) { td.classList.add("hidden-cell"); hidden += 1; }
          if (r && r.work_days !== null) { if (k === "home") home += r.work_days; else office += r.work_days; }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      el.appendChild(tbody);
      $("sust-summary").textContent = c.T("sustSummary", {
        office: number.format(office), home: number.format(home), k: body.min_group
      }) + (hidden ? " " + c.T("sustHiddenCount", { n: hidden, k: body.min_group }) : "");
    });
  }

  window.WerkplekSustainability = { load: load };
})();
