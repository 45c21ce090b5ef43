/* The front line's service worker (scope /outreach/): the contact list, the visit form and
   their assets are kept, so the pages open with no signal. Network first, the kept copy when
   the server cannot be reached. Posts are never cached or replayed here: the page's queue
   (outreach.js) sends them, each with its own id. */
"use strict";
var CACHE = "outreach-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (ev) { ev.waitUntil(self.clients.claim()); });

self.addEventListener("message", function (ev) {
  var urls = (ev.data && ev.data.cache) || [];
  var source = ev.source;
  ev.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (u) {
      return fetch(u, {credentials: "same-origin"}).then(function (resp) {
        if (resp.ok && !resp.redirected) { return cache.put(u, resp); }
      }).catch(function () {});
    }));
  }).then(function () { if (source) { source.postMessage({cached: true}); } }));
});

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  var url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) { return; }
  var mine = url.pathname.indexOf("/outreach/") === 0 || url.pathname.indexOf("/static/") === 0;
  if (!mine) { return; }
  ev.respondWith(fetch(req).then(function (resp) {
    if (resp.ok && !resp.redirected && url.pathname.indexOf("/outreach/women/") !== 0) {
      var copy = resp.clone();
      caches.open(CACHE).then(function (cache) { cache.put(req, copy); });
    }
    return resp;
  }).catch(function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(req).then(function (hit) {
        return hit || cache.match(req, {ignoreSearch: true});
      }).then(function (hit) {
        return hit || new Response("offline", {status: 503, headers: {"Content-Type": "text/plain"}});
      });
    });
  }));
});
