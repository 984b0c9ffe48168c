/* Shared Leaflet set-up: optional tile layer (none offline), grids as vector layers. */
window.PinganMap = (function () {
  "use strict";
  // Leaflet finds its marker images from leaflet.css's own name, which collectstatic hashes
  // (leaflet.<hash>.css): point it at the images folder beside the stylesheet instead.
  if (!L.Icon.Default.imagePath) {
    var css = document.querySelector('link[href*="/leaflet/leaflet"]');
    if (css) L.Icon.Default.imagePath = css.href.replace(/[^/]*$/, "") + "images/";
  }
  // Leaflet puts a string tooltip or popup in as HTML: names (grids, units, categories) come
  // from imports and administrators, so they go in as a text node, never as markup.
  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  }
  function create(el, opts) {
    var cfg = document.body.dataset;
    var map = L.map(el, { preferCanvas: true, zoomControl: true });
    map.attributionControl.setPrefix(false);
    if (cfg.tileUrl) {
      L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution || "", maxZoom: 18 }).addTo(map);
    } else {
      el.style.background = "#eef2f5";
    }
    var grids = null;
    if (opts && opts.grids && opts.grids.features && opts.grids.features.length) {
      grids = L.geoJSON(opts.grids, {
        style: function () { return { color: "#0d3b66", weight: 1, fillColor: "#8fb3d9", fillOpacity: 0.12 }; },
        onEachFeature: function (f, layer) {
          var p = f.properties || {};
          layer.bindTooltip(text(p.name + (p.officer ? "（" + p.officer + "）" : "")), { sticky: true });
        },
      }).addTo(map);
      map.fitBounds(grids.getBounds());
    } else if (opts && opts.center) {
      map.setView(opts.center, opts.zoom || 12);
    } else {
      map.setView([28.0, 115.0], 10);
    }
    return { map: map, grids: grids };
  }
  return { create: create, text: text };
})();
