// Small progressive enhancement; every page works without it.
(function () {
  "use strict";
  // Ask before destructive actions.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  // Live people search: refresh the results while typing.
  var form = document.querySelector("form[data-live-search]");
  if (!form) { return; }
  var timer = null;
  var last = "";
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var qs = new URLSearchParams(new FormData(form)).toString();
      if (qs === last) { return; }
      last = qs;
      fetch(form.action + "?" + qs, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("results");
          var current = document.getElementById("results");
          if (fresh && current) {
            current.replaceWith(fresh);
            history.replaceState(null, "", form.action + "?" + qs);
          }
        });
    }, 250);
  });
})();
