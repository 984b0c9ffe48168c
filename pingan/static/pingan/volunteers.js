/* Volunteer check-in and check-out by position: ask the phone where it is, put the position
   into the form's hidden fields, then post the form. Without this script the form still posts
   (without a position) and the page answers with what to do instead: allow location or scan
   the task's QR code on site, which needs no script at all. */
(function () {
  "use strict";
  var forms = document.querySelectorAll("form.geo-form");
  if (!forms.length) return;

  function say(form, text, bad) {
    var el = form.querySelector(".geo-msg");
    if (!el) return;
    el.textContent = text;
    el.className = "geo-msg" + (bad ? " bad" : "");
  }

  function why(error, verb) {
    var scan = "也可以扫描集合点张贴的任务二维码" + verb + "。";
    if (!error) return "这部手机无法定位。" + scan;
    if (error.code === 1) {
      return "您没有允许本网站使用位置，无法定位" + verb + "。请在浏览器或微信的设置里允许“位置”后再点一次；" + scan;
    }
    if (error.code === 3) return "定位超时，请到开阔处再点一次。" + scan;
    return "暂时无法获取位置，请打开手机的定位（GPS）后再点一次。" + scan;
  }

  Array.prototype.forEach.call(forms, function (form) {
    var verb = form.getAttribute("data-verb") || "签到";
    var lng = form.querySelector("input[name=lng]");
    var lat = form.querySelector("input[name=lat]");
    var crs = form.querySelector("input[name=crs]");
    var button = form.querySelector("button[type=submit]");
    var label = button ? button.textContent : "";
    var busy = false;

    form.addEventListener("submit", function (event) {
      if (lng.value && lat.value) return; // position already filled: post as it is
      event.preventDefault();
      if (busy) return;
      if (!navigator.geolocation) { say(form, why(null, verb), true); return; }
      if (!window.isSecureContext) {
        // Browsers only share the position with https pages.
        say(form, "当前网页不是安全连接（https），手机不允许定位。请扫描集合点的任务二维码" + verb + "。", true);
        return;
      }
      busy = true;
      if (button) { button.disabled = true; button.textContent = "正在定位…"; }
      say(form, "正在获取您的位置，请稍候…", false);
      navigator.geolocation.getCurrentPosition(function (pos) {
        // Browsers report GPS coordinates: WGS-84.
        lng.value = pos.coords.longitude.toFixed(6);
        lat.value = pos.coords.latitude.toFixed(6);
        if (crs) crs.value = "wgs84";
        say(form, "已定位，正在" + verb + "…", false);
        form.submit();
      }, function (error) {
        busy = false;
        if (button) { button.disabled = false; button.textContent = label; }
        say(form, why(error, verb), true);
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
  });
})();

/* The officer's task form: click the map to set the meeting point; typing the numbers moves
   the marker. The map speaks the tile layer's CRS, so a click also sets the CRS field. */
(function () {
  "use strict";
  var el = document.getElementById("task-map");
  if (!el || !window.PinganMap) return;
  var lng = document.getElementById("id_lng"), lat = document.getElementById("id_lat");
  var crs = document.getElementById("id_crs");
  var dataEl = document.getElementById("grids-data");
  var grids = dataEl ? JSON.parse(dataEl.textContent) : null;
  var made = PinganMap.create(el, { grids: grids });
  var marker = null;
  function show(la, ln) {
    if (marker) marker.setLatLng([la, ln]); else marker = L.marker([la, ln]).addTo(made.map);
  }
  function fromFields() {
    var ln = parseFloat(lng.value), la = parseFloat(lat.value);
    if (isFinite(ln) && isFinite(la) && Math.abs(la) <= 90 && Math.abs(ln) <= 180) {
      show(la, ln);
      return true;
    }
    return false;
  }
  if (fromFields()) made.map.setView(marker.getLatLng(), 15);
  made.map.on("click", function (e) {
    lng.value = e.latlng.lng.toFixed(6);
    lat.value = e.latlng.lat.toFixed(6);
    if (crs) crs.value = document.body.dataset.tileCrs || "wgs84";
    show(e.latlng.lat, e.latlng.lng);
  });
  lng.addEventListener("change", fromFields);
  lat.addEventListener("change", fromFields);
})();
