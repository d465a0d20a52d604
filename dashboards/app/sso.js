/* Single sign-on on the login pages (booking app and facility pages): offer "log in with
 * your municipality account" when the backend has an OpenID provider configured, pick up
 * the session after the provider sent the browser back (#oidc), and end the session at
 * the backend on logout (offering the provider's own logout too). The backend runs the
 * code flow; no token of the provider ever reaches the page. */
(function () {
  "use strict";
  /* The shared client (../shared/client.js, loaded before this file): problem details as
   * errors with their reason; a bearer token only where one is given. */
  function http(token) { return window.WerkplekClient.http(function () { return token || ""; }); }
  window.WerkplekSso = {
    /* Show `link` (an <a>, hidden until then) when single sign-on is configured. */
    offer: function (page, link) {
      return http().api("GET", "/api/v1/auth/oidc/config")
        .then(function (c) {
          if (c.enabled && c.login_url) { link.href = c.login_url + "?page=" + page; link.hidden = false; }
        }, function () { /* not offered; the password form still works */ });
    },
    /* True when the provider has just sent the browser back here. */
    returned: function () { return location.hash === "#oidc"; },
    /* The session of that login (or its problem detail, rejected), asked for once. */
    collect: function () {
      history.replaceState(null, "", location.pathname + location.search);
      return http().api("POST", "/api/v1/auth/oidc/session");
    },
    /* End the session at the backend; resolves to the provider's logout URL or "". */
    end: function (token, page) {
      return http(token).api("POST", "/api/v1/auth/logout?page=" + page)
        .then(function (d) { return d.end_session_url || ""; }, function () { return ""; });
    },
    /* Our words for a failed single sign-on, by the problem's reason. */
    text: function (texts, err) {
      return texts["err_" + err.reason] || texts.err_oidc;
    }
  };
})();
