/* Live behaviour of the incident pages (no inline script: the Content Security Policy allows
   scripts from our own files only). The page's own <script> tag carries its values:
   data-page names the page, data-code / data-part-url / data-list-url what it redraws. */
(function () {
  "use strict";
  var cfg = (document.currentScript && document.currentScript.dataset) || {};
  document.body.dataset.live = "1";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  var pages = {
    // A commander's incident page: reload on a change, unless they are typing: then offer it.
    "console-incident": function () {
      var typing = false;
      document.querySelectorAll("#detail input, #detail textarea, #detail select").forEach(function (el) {
        el.addEventListener("input", function () { typing = true; });
      });
      Pingan.onEvent(function (m) {
        if (m.incident.code !== cfg.code) return;
        if (!typing) { location.reload(); return; }
        var note = document.getElementById("changed");
        note.hidden = false;
        note.querySelector("span").textContent = m.kind_label + "：" + m.message;
      });
    },

    // A resident's list of reports: each badge follows its incident's status.
    "my-reports": function () {
      Pingan.onEvent(function (m) {
        document.querySelectorAll("[data-status-of]").forEach(function (el) {
          if (el.dataset.statusOf !== m.incident.code) return;
          el.textContent = m.incident.status_label;
          el.className = "badge " + m.incident.status;
        });
      });
    },

    // A resident's report: redraw its body when it changes.
    "my-report": function () {
      Pingan.onEvent(function (m) {
        if (m.incident.code === cfg.code) {
          Pingan.refreshOnce("report", cfg.partUrl, "#report-body", "innerHTML");
        }
      });
    },

    // A unit's assignments: redraw the list once per change; while on duty, report position.
    "unit-home": function () {
      Pingan.onEvent(function (m) {
        Pingan.refreshOnce("list", cfg.listUrl, "#assignments", "innerHTML", function () {
          var card = document.getElementById("card-" + m.incident.code);
          if (card) card.classList.add("flash");
          Pingan.tick();
        });
      });
      if (cfg.reportPosition !== "1") return;
      // Every minute, so dispatch knows where this unit is.
      (function report() {
        if (!navigator.geolocation) return;
        navigator.geolocation.getCurrentPosition(function (p) {
          fetch("/api/units/me/position", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
            body: JSON.stringify({ lat: p.coords.latitude, lng: p.coords.longitude, crs: "wgs84" }),
          }).then(function (r) {
            if (r.ok) document.getElementById("pos-text").textContent = "位置已更新 " + new Date().toLocaleTimeString();
          });
        }, function () {}, { enableHighAccuracy: true, timeout: 15000 });
        setTimeout(report, 60000);
      })();
    },
  };

  if (pages[cfg.page]) pages[cfg.page]();
})();
