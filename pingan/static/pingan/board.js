/* Command board: grids as vector layers, open incidents as markers, rows redrawn one by one. */
(function () {
  "use strict";
  function parse(id) { return JSON.parse(document.getElementById(id).textContent); }
  var made = PinganMap.create(document.getElementById("map"), { grids: parse("grids-json") });
  var markers = {};
  var OPEN = { pending: 1, dispatched: 1, accepted: 1, on_scene: 1 };
  var COLORS = { pending: "#c62828", dispatched: "#e69b00", accepted: "#1565c0", on_scene: "#4527a0" };

  function drawMarker(s) {
    var old = markers[s.code];
    if (!OPEN[s.status]) { if (old) { made.map.removeLayer(old); delete markers[s.code]; } return; }
    var style = { radius: s.priority === 1 ? 9 : 7, color: "#fff", weight: 2,
                  fillColor: COLORS[s.status] || "#555", fillOpacity: 0.95 };
    if (old) { old.setLatLng([s.location.lat, s.location.lng]); old.setStyle(style); }
    else {
      old = markers[s.code] = L.circleMarker([s.location.lat, s.location.lng], style).addTo(made.map);
      old.on("click", function () { location.href = "/console/incidents/" + s.code + "/"; });
    }
    old.bindTooltip(PinganMap.text(s.code + " " + s.category_name + " · " + s.status_label));
  }
  parse("snaps-json").forEach(drawMarker);
  parse("units-json").forEach(function (u) {
    L.circleMarker([u.lat, u.lng], { radius: 4, color: u.busy ? "#e69b00" : "#2e7d32", weight: 2, fillOpacity: 0.6 })
      .bindTooltip(PinganMap.text(u.name)).addTo(made.map);
  });

  function recount() {
    var rows = document.querySelectorAll("#board-rows tr");
    var pending = 0;
    rows.forEach(function (r) { if (r.dataset.status === "pending" || r.dataset.status === "dispatched") pending++; });
    document.getElementById("count-open").textContent = rows.length;
    document.getElementById("board-empty").hidden = rows.length > 0;
    document.getElementById("count-pending").textContent = pending;
  }

  // One row request per incident at a time; a push arriving meanwhile asks for one more.
  // Deciding replace / insert / remove only when the reply lands keeps one row per incident.
  var inFlight = {}, again = {};
  function redrawRow(code) {
    if (inFlight[code]) { again[code] = true; return; }
    inFlight[code] = true;
    fetch("/console/incidents/" + code + "/row/", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        var row = document.getElementById("row-" + code);
        var tmp = document.createElement("tbody");
        tmp.innerHTML = html.trim();
        var fresh = tmp.firstElementChild;
        if (!fresh || !OPEN[fresh.dataset.status]) { if (row) row.remove(); }
        else if (row) { row.replaceWith(fresh); }
        else { document.getElementById("board-rows").prepend(fresh); }
        if (fresh && fresh.isConnected) { htmx.process(fresh); fresh.classList.add("flash"); }
        recount(); Pingan.tick();
      })
      .finally(function () {
        inFlight[code] = false;
        if (again[code]) { again[code] = false; redrawRow(code); }
      });
  }

  Pingan.onEvent(function (m) {
    drawMarker(m.incident);
    redrawRow(m.incident.code);
  });
  document.body.dataset.live = "1";
})();
