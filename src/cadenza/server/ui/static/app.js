// cadenza web UI: confirmations, log view following its tail, expired sessions.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Keep the log view at its end while it is there and lines are appended.
  var pinned = true;
  function logView() { return document.getElementById("log-view"); }
  document.addEventListener("htmx:beforeSwap", function () {
    var view = logView();
    if (view) {
      pinned = view.scrollHeight - view.scrollTop - view.clientHeight < 24;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var view = logView();
    if (view && pinned) {
      view.scrollTop = view.scrollHeight;
    }
  });

  // A fragment answered 401: the session expired; reload to reach the login page.
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail && event.detail.xhr && event.detail.xhr.status === 401) {
      window.location.reload();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var view = logView();
    if (view && document.querySelector("#log-tail.live")) {
      view.scrollTop = view.scrollHeight;
    }
  });
})();
