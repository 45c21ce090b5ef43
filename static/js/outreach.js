/* The front line's offline queue (market.outreach). A visit is written into localStorage with
   an id made here, then sent; the server stores each id once, so sending twice is harmless.
   Visits stay queued through lost signal and expired sessions; signing out warns about unsent
   visits and then clears everything this app stored on the phone. */
(function () {
  "use strict";
  var QUEUE = "outreach.queue.v1";
  var CACHE = "outreach-v1";
  var box = document.getElementById("outreach-queue");

  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function save(items) { localStorage.setItem(QUEUE, JSON.stringify(items)); }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function msg(name) { return box ? (box.dataset[name] || "") : ""; }

  function render(note) {
    if (!box) { return; }
    var items = load();
    document.getElementById("queue-count").textContent = String(items.length);
    var list = document.getElementById("queue-list");
    list.textContent = "";
    items.forEach(function (v) {
      var li = document.createElement("li");
      li.className = "queued";
      li.dataset.clientId = v.client_id;
      var name = v.profile_name || ("#" + v.profile_id);
      li.textContent = name + " · " + v.happened_on + " · " + msg("msgWaiting") + (v.error ? " — " + msg("msgError") + " " + v.error : "");
      if (v.error) {
        // Refused by the server (not a lost connection): she may read why and remove it.
        var drop = document.createElement("button");
        drop.type = "button";
        drop.className = "link-button discard";
        drop.textContent = msg("msgDiscard");
        drop.addEventListener("click", function () {
          if (window.confirm(msg("msgDiscardConfirm"))) {
            save(load().filter(function (x) { return x.client_id !== v.client_id; }));
            render();
          }
        });
        li.appendChild(document.createTextNode(" "));
        li.appendChild(drop);
      }
      list.appendChild(li);
    });
    box.classList.toggle("has-queue", items.length > 0);
    if (note !== undefined) { document.getElementById("queue-note").textContent = note; }
  }

  function showSent(text) {
    var p = document.getElementById("sent-note");
    if (!p) { return; }
    p.hidden = false;
    p.textContent = text;
  }

  var sending = false;
  function flush() {
    if (sending || !box) { return Promise.resolve(); }
    var items = load();
    if (!items.length) { render(""); return Promise.resolve(); }
    sending = true;
    var note = "";
    var chain = Promise.resolve();
    items.forEach(function (v) {
      chain = chain.then(function () {
        var body = Object.assign({}, v); delete body.error; delete body.profile_name;
        return fetch(box.dataset.post, {
          method: "POST", credentials: "same-origin", redirect: "manual",
          headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf()},
          body: JSON.stringify(body)
        }).then(function (resp) {
          var type = resp.headers.get("Content-Type") || "";
          if (resp.type === "opaqueredirect" || resp.status === 401 || resp.status === 302 ||
              (resp.status === 400 && type.indexOf("json") < 0)) {
            note = msg("msgSignin");
            return;
          }
          if (type.indexOf("json") < 0) { note = msg("msgOffline"); return; }
          return resp.json().then(function (data) {
            var rest = load();
            if (resp.ok) {
              save(rest.filter(function (x) { return x.client_id !== v.client_id; }));
              showSent(msg("msgSent") + ": " + (v.profile_name || "") + " " + v.happened_on +
                       (data.stale ? " — " + msg("msgStale") : ""));
            } else {
              rest.forEach(function (x) {
                if (x.client_id === v.client_id) { x.error = (data.error && data.error.message) || String(resp.status); }
              });
              save(rest);
            }
          });
        }).catch(function () { note = msg("msgOffline"); });
      });
    });
    return chain.then(function () { sending = false; render(note); },
                      function () { sending = false; render(note); });
  }

  function queueVisit(form) {
    var fd = new FormData(form);
    var sel = form.querySelector('select[name="profile_id"]');
    var v = {
      client_id: newId(),
      profile_id: parseInt(fd.get("profile_id") || "0", 10),
      profile_name: sel && sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : "",
      method: fd.get("method") || "",
      happened_on: fd.get("happened_on") || "",
      step: parseInt(fd.get("step") || "0", 10),
      situation: fd.get("situation") || "",
      difficulties: fd.getAll("difficulties").join(" "),
      difficulty_notes: fd.get("difficulty_notes") || "",
      measures: fd.get("measures") || "",
      consent: fd.get("consent") === "1",
      consent_method: fd.get("consent_method") || "",
      industry: fd.get("industry") || "",
      stage: fd.get("stage") || "",
      written_at: new Date().toISOString()
    };
    var items = load(); items.push(v); save(items);
    form.reset();
    render();
    return flush();
  }

  function clearPhone() {
    localStorage.removeItem(QUEUE);
    var jobs = [];
    if (window.caches) { jobs.push(caches.delete(CACHE)); }
    if (navigator.serviceWorker && navigator.serviceWorker.getRegistrations) {
      jobs.push(navigator.serviceWorker.getRegistrations().then(function (regs) {
        return Promise.all(regs.map(function (r) { return r.unregister(); }));
      }));
    }
    return Promise.all(jobs).catch(function () {});
  }

  // Signing out (from any page that loads this script): warn, then clear.
  document.querySelectorAll('form[action$="/logout"]').forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      if (f.dataset.cleared === "1") { return; }
      ev.preventDefault();
      var warn = box ? box.dataset.msgWarn : "";
      if (load().length && !window.confirm(warn || "Unsent visits will be deleted. Sign out?")) { return; }
      clearPhone().then(function () { f.dataset.cleared = "1"; f.submit(); });
    });
  });

  if (!box) { return; }
  var form = document.getElementById("visit-form");
  if (form) {
    form.addEventListener("submit", function (ev) {
      var file = form.querySelector('input[name="photo"]');
      if (file && file.files && file.files.length) {
        // A photo cannot wait in localStorage: this visit is sent at once, as a plain form.
        form.querySelector('input[name="client_id"]').value = newId();
        form.querySelector('input[name="written_at"]').value = new Date().toISOString();
        return;
      }
      ev.preventDefault();
      queueVisit(form);
    });
  }
  document.getElementById("queue-send").addEventListener("click", function () { flush(); });
  window.addEventListener("online", function () { flush(); });
  setInterval(flush, 3000);
  render();
  flush();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (ev) {
      if (ev.data && ev.data.cached) { document.body.dataset.offlineReady = "1"; }
    });
    navigator.serviceWorker.register(box.dataset.sw, {scope: box.dataset.scope}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var urls = box.dataset.pages.split(" ");
      document.querySelectorAll('link[rel="stylesheet"], script[src], link[rel="manifest"]').forEach(function (el) {
        urls.push(el.getAttribute("href") || el.getAttribute("src"));
      });
      (reg.active || reg.waiting || reg.installing).postMessage({cache: urls});
    }).catch(function () {});
  }
})();
