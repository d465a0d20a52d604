/* The privacy report for the privacy officer and the works council: GET /api/v1/privacy/report
 * with the login token of the facility pages (admins only). Plain JS; every value is shown as
 * text, never as HTML. */
(function () {
  "use strict";
  var TEXT = {
    nl: {
      skip: "Naar de inhoud", title: "Privacy: wat Werkplek bewaart", settings: "Instellingen",
      loginFirst: "Log eerst in op de facilitaire pagina.", toLogin: "Naar inloggen",
      factsTitle: "In werking", influxTitle: "Bewaartermijnen in InfluxDB (zoals de database ze meldt)",
      inventoryTitle: "Gegevensoverzicht",
      inventoryHelp: "(P) = gegevens over een persoon. Dezelfde tabel staat in docs/privacy.md.",
      generated: "Opgesteld {at}.", retentionDays: "Bewaartermijn persoonsgegevens (dagen)",
      sessionHours: "Geldigheid van een login (uren)", overdue: "Oude auditregels nog aan een persoon gekoppeld",
      minGroup: "Kleinste groep in facilitaire rapporten", accounts: "Accounts",
      hidden: "Mensen met 'verberg mij'", deactivated: "Uitgeschakelde accounts (te wissen)",
      idle: "Actieve accounts zonder login in een jaar", perPerson: "Rapport per persoon",
      none: "bestaat niet", noInflux: "Geen InfluxDB ingesteld.", influxError: "InfluxDB gaf geen antwoord: {e}",
      policy: "Beleid", duration: "Duur", forever: "voor altijd", isDefault: "standaard", yes: "ja", no: "nee",
      item: "Gegevens", where: "Waar", personal: "Persoonsvelden", kept: "Bewaard", deleted: "Verwijderd door",
      err_forbidden: "Alleen een beheerder mag dit overzicht zien.", err_generic: "Dat lukte niet: {detail}",
      err_network: "Geen verbinding met de server."
    },
    en: {
      skip: "Skip to content", title: "Privacy: what Werkplek keeps", settings: "Settings",
      loginFirst: "Log in on the facility page first.", toLogin: "Go to login",
      factsTitle: "In force", influxTitle: "Retention in InfluxDB (as the database reports it)",
      inventoryTitle: "Data inventory",
      inventoryHelp: "(P) = data about a person. The same table is in docs/privacy.md.",
      generated: "Generated {at}.", retentionDays: "Retention of personal data (days)",
      sessionHours: "Lifetime of a login (hours)", overdue: "Old audit records still linked to a person",
      minGroup: "Smallest group in facility reports", accounts: "Accounts",
      hidden: "People with 'hide me' set", deactivated: "Deactivated accounts (to erase)",
      idle: "Active accounts without a login for a year", perPerson: "Report per person",
      none: "does not exist", noInflux: "No InfluxDB configured.", influxError: "InfluxDB did not answer: {e}",
      policy: "Policy", duration: "Duration", forever: "forever", isDefault: "default", yes: "yes", no: "no",
      item: "Data", where: "Where", personal: "Personal fields", kept: "Kept", deleted: "Deleted by",
      err_forbidden: "Only an admin may see this report.", err_generic: "That did not work: {detail}",
      err_network: "No connection to the server."
    }
  };
  /* Texts, formats and the API come from the shared client (../shared/client.js), as on the
   * facility page. */
  var CLIENT = window.WerkplekClient;
  var lang = CLIENT.pickLang([new URLSearchParams(location.search).get("lang"), localStorage.getItem("werkplek.lang")]);
  var token = sessionStorage.getItem("werkplek.token") || "";
  var last = null;
  var I18N = CLIENT.i18n(TEXT, function () { return lang; });
  var HTTP = CLIENT.http(function () { return token; });

  function T(key, vars) { return I18N.t(key, vars); }
  function $(id) { return document.getElementById(id); }
  function make(tag, text) {
    var el = document.createElement(tag);
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }
  function table(el, head, rows) {
    el.textContent = "";
    var thead = make("thead"), tr = make("tr");
    head.forEach(function (h) { var th = make("th", h); th.scope = "col"; tr.appendChild(th); });
    thead.appendChild(tr); el.appendChild(thead);
    var body = make("tbody");
    rows.forEach(function (cells) {
      var row = make("tr");
      cells.forEach(function (c, i) {
        var cell = make(i === 0 ? "th" : "td", c);
        if (i === 0) cell.scope = "row";
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
    el.appendChild(body);
  }
  function applyTexts() {
    I18N.translate({ text: "data-t", label: "data-t-label" });
    $("lang-switch").textContent = lang === "nl" ? "English" : "Nederlands";
    $("lang-switch").lang = lang === "nl" ? "en" : "nl";
    document.title = T("title") + " - Werkplek";
  }

  function render(r) {
    $("generated").textContent = T("generated", {
      at: I18N.date(new Date(r.generated_at), { dateStyle: "short", timeStyle: "medium" })
    });
    var facts = [
      ["retentionDays", r.retention.retention_days], ["sessionHours", r.retention.session_hours],
      ["overdue", r.retention.audit_records_past_retention_still_linked],
      ["minGroup", r.facility_reports.min_group], ["accounts", r.accounts.total],
      ["hidden", r.accounts.hide_me_set], ["deactivated", r.accounts.deactivated],
      ["idle", r.accounts.active_without_login_for_a_year],
      ["perPerson", r.per_person_presence_report ? T("yes") : T("none")]
    ];
    var dl = $("facts"); dl.textContent = "";
    facts.forEach(function (f) {
      var dt = make("dt", T(f[0])), dd = make("dd", f[1]);
      dd.dataset.fact = f[0];
      dl.appendChild(dt); dl.appendChild(dd);
    });
    $("statement").textContent = r.statement;
    var influx = r.retention.influxdb;
    $("influx-note").textContent = !influx.configured ? T("noInflux") + " " + (influx.note || "")
      : influx.error ? T("influxError", { e: influx.error }) : influx.database;
    table($("influx"), [T("policy"), T("duration"), T("isDefault")], (influx.policies || []).map(function (p) {
      return [p.name, p.forever ? T("forever") : p.duration, p.default ? T("yes") : T("no")];
    }));
    $("influx").hidden = !(influx.policies || []).length;
    table($("inventory"), [T("item"), T("where"), T("personal"), T("kept"), T("deleted")],
      r.inventory.map(function (i) {
        return [(i.personal.length ? "(P) " : "") + i.name, i.store, i.personal.join(", ") || "-",
          i.kept, i.deleted_by];
      }));
    $("report").hidden = false;
  }

  function load() {
    if (!token) { $("login-hint").hidden = false; return; }
    HTTP.api("GET", "/api/v1/privacy/report").then(function (body) {
      last = body; render(body);
    }, function (err) {
      if (err.status === 401) { $("login-hint").hidden = false; return; }
      $("error").textContent = err.reason === "network" ? T("err_network")
        : err.status === 403 ? T("err_forbidden") : T("err_generic", { detail: err.message });
    });
  }

  $("lang-switch").addEventListener("click", function () {
    lang = lang === "nl" ? "en" : "nl";
    localStorage.setItem("werkplek.lang", lang);
    applyTexts();
    if (last) render(last);
  });
  applyTexts();
  load();
})();
