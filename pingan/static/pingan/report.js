/* Citizen report form: pick a point on the map or use the phone's GPS. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  var latEl = document.getElementById("id_lat"), lngEl = document.getElementById("id_lng");
  var crsEl = document.getElementById("id_crs"), text = document.getElementById("pick-text");
  var gridsEl = document.getElementById("grids-data");
  var grids = gridsEl ? JSON.parse(gridsEl.textContent) : null;
  var made = PinganMap.create(document.getElementById("pick-map"), { grids: grids });
  var marker = null;

  function place(lat, lng, crs, label) {
    latEl.value = lat.toFixed(6); lngEl.value = lng.toFixed(6); crsEl.value = crs;
    if (marker) marker.setLatLng([lat, lng]); else marker = L.marker([lat, lng]).addTo(made.map);
    text.textContent = label + "：" + lat.toFixed(5) + ", " + lng.toFixed(5);
  }
  if (latEl.value && lngEl.value) place(Number(latEl.value), Number(lngEl.value), crsEl.value || "wgs84", "已选择位置");
  made.map.on("click", function (e) {
    place(e.latlng.lat, e.latlng.lng, document.body.dataset.tileCrs || "wgs84", "已选择位置");
  });
  document.getElementById("use-location").addEventListener("click", function () {
    if (!navigator.geolocation) { text.textContent = "此设备不支持定位，请在地图上点选"; return; }
    text.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      // Browsers and GPS report WGS-84.
      place(pos.coords.latitude, pos.coords.longitude, "wgs84", "我的位置");
      made.map.setView([pos.coords.latitude, pos.coords.longitude], 15);
    }, function () { text.textContent = "无法获取位置，请在地图上点选"; },
    { enableHighAccuracy: true, timeout: 10000 });
  });
  form.addEventListener("submit", function (e) {
    if (!latEl.value || !lngEl.value) {
      e.preventDefault();
      text.textContent = "请先在地图上选择位置，或点击“使用我的位置”";
      text.style.color = "#c62828";
    }
  });
})();
