/* pingan service worker (pingan/core/pwa.py). Release {{ version }}. */
"use strict";
var SHELL_CACHE = "pingan-shell-{{ version }}";
var SHELL = [{% for url in shell %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
var OFFLINE = "/offline/";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("pingan-shell-") === 0 && name !== SHELL_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (request.mode === "navigate") {
    // Pages come from the network only (they carry personal data and must not outlive a
    // sign-out on a shared phone); without it, the offline page instead of the browser's.
    event.respondWith(
      fetch(request).catch(function () { return caches.match(OFFLINE); })
    );
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    // Static files have hashed names: a cached copy is always right.
    event.respondWith(
      caches.match(request).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok) {
            var copy = response.clone();
            caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
          }
          return response;
        });
      })
    );
  }
});
