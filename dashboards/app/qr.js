/* Printable sheet of check-in QR codes for one floor (facility and admin). Uses the login of
 * the app in this tab; each code is an SVG made by the backend, cut out as a sticker. */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var lang = params.get("lang") === "en" ? "en" : "nl", TEXT = window.WERKPLEK_TEXT[lang];
  var token = sessionStorage.getItem("werkplek.token") || "";
  var floor = params.get("floor") || "";
  function $(id) { return document.getElementById(id); }
  // The shared client (../shared/client.js): the app's login token as bearer.
  var http = window.WerkplekClient.http(function () { return token; });
  function get(path) { return http.request("GET", path); }
  document.documentElement.lang = lang;
  Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (n) {
    n.textContent = TEXT[n.getAttribute("data-i18n")];
  });
  document.title = TEXT.qrTitle + " – Werkplek";
  $("print").addEventListener("click", function () { window.print(); });
  if (!token || !floor) { $("error").textContent = TEXT.qrNeedLogin; return; }
  get("/api/v1/floors/" + encodeURIComponent(floor) + "/spaces").then(function (r) { return r.json(); })
    .then(function (spaces) {
      return Promise.all(spaces.map(function (s) {
        return get("/api/v1/spaces/" + encodeURIComponent(s.id) + "/qr.svg")
          .then(function (r) { return r.text(); }).then(function (svg) { return { space: s, svg: svg }; });
      }));
    }).then(function (cards) {
      var list = $("sheet");
      cards.forEach(function (c) {
        var item = document.createElement("li");
        item.setAttribute("data-space-id", c.space.id);
        // The SVG is our backend's own output (segno), not user input; it is shown as an image.
        var img = document.createElement("img");
        img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(c.svg);
        img.alt = "QR-code " + c.space.name;
        img.width = 164; img.height = 164;
        var name = document.createElement("strong");
        name.textContent = c.space.name;
        var hint = document.createElement("span");
        hint.textContent = TEXT.qrScan;
        item.appendChild(img); item.appendChild(name); item.appendChild(hint);
        list.appendChild(item);
      });
    }).catch(function () { $("error").textContent = TEXT.qrNeedLogin; });
})();
