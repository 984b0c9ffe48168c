/* pingan page helpers: CSRF for htmx, live push with catch-up, 1-3-5 clocks, confirmations. */
(function () {
  "use strict";
  // The installable app's service worker (pingan/core/pwa.py): the shell offline, and the
  // offline page instead of the browser's when a page cannot load.
  if ("serviceWorker" in navigator && document.body.dataset.sw) {
    navigator.serviceWorker.register(document.body.dataset.sw, { scope: "/" }).catch(function (err) {
      console.warn("service worker not registered", err);
    });
  }
  var csrf = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (e) {
    if (csrf) e.detail.headers["X-CSRFToken"] = csrf.content;
  });

  // --- live push: one socket, {since} on every (re)connect, events drawn once -----------------
  var handlers = [];
  var disputeHandlers = [];
  var refreshing = {};
  var seen = new Set();
  var seenDisputes = new Set();
  var last = Number(document.body.dataset.liveSince || 0);
  // Dispute events have their own sequence (and their own, narrower audience).
  var lastDispute = Number(document.body.dataset.disputeSince || 0);
  // The page was drawn after these ids were committed: a push of one of them arriving now
  // (pushes travel after commit, the page may have loaded first) is already on the page.
  var drawnUpTo = last, drawnDisputesUpTo = lastDispute;
  var backoff = 500;
  var statusEl = document.getElementById("live-status");

  function setStatus(state) {
    if (!statusEl) return;
    statusEl.className = "live-status " + state;
    statusEl.title = state === "online" ? "实时连接正常" : "连接中断，正在重连…";
  }

  function deliver(msg) {
    if (msg.id <= drawnUpTo || seen.has(msg.id)) return;
    seen.add(msg.id);
    if (seen.size > 5000) seen = new Set(Array.from(seen).slice(-2500));
    if (msg.id > last) last = msg.id;
    handlers.forEach(function (fn) {
      try { fn(msg); } catch (err) { console.error(err); }
    });
  }

  function deliverDispute(msg) {
    if (msg.id <= drawnDisputesUpTo || seenDisputes.has(msg.id)) return;
    seenDisputes.add(msg.id);
    if (seenDisputes.size > 5000) seenDisputes = new Set(Array.from(seenDisputes).slice(-2500));
    if (msg.id > lastDispute) lastDispute = msg.id;
    disputeHandlers.forEach(function (fn) {
      try { fn(msg); } catch (err) { console.error(err); }
    });
  }

  function connect() {
    if (!window.WebSocket || !document.body.dataset.live) return;
    // Behind a reverse proxy /ws/ is on the page's own origin; the embedded server answers
    // sockets on a port of their own (data-live-port).
    var port = document.body.dataset.livePort;
    var host = port ? location.hostname + ":" + port : location.host;
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + host + "/ws/live/");
    ws.onopen = function () {
      backoff = 500;
      setStatus("online");
      // Only the timelines this page draws are caught up: a page without a `since` of its
      // own would otherwise be sent the last 500 events of everything in scope on every load.
      var resync = {};
      if (document.body.dataset.liveSince) resync.since = last;
      if (document.body.dataset.disputeSince) resync.dispute_since = lastDispute;
      ws.send(JSON.stringify(resync));
    };
    ws.onmessage = function (e) {
      var msg = JSON.parse(e.data);
      if (msg.type === "push.event") deliver(msg);
      else if (msg.type === "push.dispute") deliverDispute(msg);
    };
    ws.onclose = function () {
      setStatus("offline");
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  // --- clocks: elements with data-since (ISO) count up; data-target marks overdue ------------
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-clock-start]").forEach(function (el) {
      var start = Date.parse(el.dataset.clockStart);
      var end = el.dataset.clockEnd ? Date.parse(el.dataset.clockEnd) : now;
      var s = Math.max(0, Math.floor((end - start) / 1000));
      var target = Number(el.dataset.target || 0);
      el.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
      el.classList.toggle("late", target > 0 && s > target);
      el.classList.toggle("ok", target > 0 && s <= target && !!el.dataset.clockEnd);
    });
  }
  setInterval(tick, 1000);

  window.Pingan = {
    onEvent: function (fn) { handlers.push(fn); },
    onDispute: function (fn) { disputeHandlers.push(fn); },
    // Fetch a server-rendered fragment and swap it in. Not htmx.ajax: that queues requests
    // per source element and silently drops all but the last during a burst of pushes.
    refresh: function (url, target, swap) {
      return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var el = typeof target === "string" ? document.querySelector(target) : target;
          if (el) htmx.swap(el, html, { swapStyle: swap || "outerHTML" });
          return html;
        });
    },
    // Coalesce bursts: one request per key in flight, at most one more queued behind it,
    // so responses cannot land out of order and a burst of pushes costs two requests.
    refreshOnce: function (key, url, target, swap, then) {
      var state = refreshing[key] || (refreshing[key] = { busy: false, again: false });
      if (state.busy) { state.again = true; return; }
      state.busy = true;
      window.Pingan.refresh(url, target, swap).then(then || null).catch(function () {})
        .finally(function () {
          state.busy = false;
          if (state.again) { state.again = false; window.Pingan.refreshOnce(key, url, target, swap, then); }
        });
    },
    tick: tick,
  };
  // --- confirmations (no inline onsubmit/onclick under the CSP): data-confirm on a form is
  // asked before it is sent, on a button before its click does anything ----------------------
  document.addEventListener("submit", function (e) {
    var text = e.target.dataset && e.target.dataset.confirm;
    if (text && !window.confirm(text)) e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button[data-confirm]") : null;
    if (button && !window.confirm(button.dataset.confirm)) e.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () { tick(); connect(); });
  if (document.readyState !== "loading") { tick(); connect(); }
})();
