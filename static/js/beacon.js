/* Cerebrum's first-party analytics beacon: page views, and clicks on elements with data-track="name".
 * Events are batched and sent with navigator.sendBeacon to /api/v1/events (same origin, no cookies
 * beyond our own, nothing from a CDN). Each event has its own UUID so a resent batch is not counted twice.
 *
 * One request per learner per ~30 s, not per page (issue 17 item 3): events wait in memory and go out
 * every 30 s, when 50 are waiting, or when the page is hidden (tab switch, navigation, close). A page
 * hidden less than 30 s after the last send keeps its events in localStorage instead, and the next page
 * sends them with its own; so a learner moving through pages sends one batch per 30 s. A visitor's first
 * page always sends at once when hidden (nothing sent yet), so a bounce is still counted.
 *
 * Kept events carry whose they are (see owner()): on a shared computer a learner's kept events are
 * dropped when they sign out or someone else signs in, never sent under the next person's session. */
(function () {
  "use strict";
  var ENDPOINT = "/api/v1/events";
  var VISITOR_COOKIE = "cb_aid";
  var MAX_BATCH = 100;
  var SEND_EVERY_MS = 30000;
  var SEND_AT = 50;
  var STORE_KEY = "cb_events";
  var SENT_KEY = "cb_events_sent";
  // Read while the script runs (document.currentScript is unset in callbacks); base.html says whether
  // the page is a signed-in one.
  var member = (document.currentScript && document.currentScript.getAttribute("data-member")) === "1";
  var queue = stored();
  var utm = campaign();
  var visitor = visitorId();

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function visitorId() {
    var match = document.cookie.match(/(?:^|; )cb_aid=([^;]+)/);
    if (match) return match[1];
    var id = uuid().replace(/-/g, "");
    document.cookie = VISITOR_COOKIE + "=" + id + "; path=/; max-age=31536000; samesite=lax";
    return id;
  }

  function campaign() {
    var params = new URLSearchParams(location.search);
    var found = {};
    ["utm_source", "utm_medium", "utm_campaign"].forEach(function (key) {
      if (params.get(key)) found[key] = params.get(key).slice(0, 100);
    });
    return found;
  }

  function track(type, name, properties) {
    var event = {
      event_id: uuid(),
      type: type,
      name: String(name).slice(0, 100),
      timestamp: new Date().toISOString(),
      properties: properties || {},
      path: location.pathname.slice(0, 500),
      anonymous_id: visitor
    };
    Object.keys(utm).forEach(function (key) { event[key] = utm[key]; });
    queue.push(event);
    if (queue.length >= SEND_AT) flush();
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }  // off in some private modes
  }

  // Whose kept events these are: a sign-in rotates Django's CSRF cookie and a sign-out makes the page a
  // visitor's, so a signed-in learner's events match only pages of the same sign-in.
  function owner() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return (member ? "m:" : "v:") + (match ? match[1] : "");
  }

  function stored() {
    var store = storage();
    if (!store) return [];
    try {
      var kept = JSON.parse(store.getItem(STORE_KEY) || "null");
      store.removeItem(STORE_KEY);
      if (!kept || !Array.isArray(kept.events)) return [];
      // A visitor's events go with the next page whoever signs in (the sign-in joins the device's visits
      // to that learner anyway); a learner's only with a page of their own sign-in, else they are dropped.
      var by = String(kept.owner || "");
      return by === owner() || by.indexOf("v:") === 0 ? kept.events.slice(-MAX_BATCH) : [];
    } catch (e) { return []; }
  }

  function hidden() {
    var store = storage();
    var sentAt = store ? Number(store.getItem(SENT_KEY) || 0) : 0;
    if (queue.length && store && Date.now() - sentAt < SEND_EVERY_MS) {
      try {
        store.setItem(STORE_KEY, JSON.stringify({ owner: owner(), events: queue.slice(-MAX_BATCH) }));  // the next page sends them
        queue = [];
        return;
      } catch (e) { /* full or refused: send now */ }
    }
    flush();
  }

  function flush() {
    if (!queue.length) return;
    var store = storage();
    if (store) { try { store.setItem(SENT_KEY, String(Date.now())); } catch (e) { /* not kept: sends sooner */ } }
    while (queue.length) {
      var body = JSON.stringify({ events: queue.splice(0, MAX_BATCH) });
      var sent = navigator.sendBeacon && navigator.sendBeacon(ENDPOINT, new Blob([body], { type: "application/json" }));
      if (!sent && window.fetch) {
        fetch(ENDPOINT, { method: "POST", body: body, keepalive: true, credentials: "same-origin",
          headers: { "Content-Type": "application/json" } }).catch(function () {});
      }
    }
  }

  document.addEventListener("click", function (click) {
    var element = click.target.closest && click.target.closest("[data-track]");
    if (element) track("CLICK", element.getAttribute("data-track"), { text: (element.textContent || "").trim().slice(0, 80) });
  });
  // Phones rarely fire unload: "hidden" is the last moment a page is sure to run code (pagehide for Safari).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") hidden();
    else queue = stored().concat(queue);  // back on this tab: what it kept is its own again
  });
  window.addEventListener("pagehide", hidden);
  window.setInterval(flush, SEND_EVERY_MS);

  track("PAGE_VIEW", "page_view", { title: document.title.slice(0, 200) });
  window.cerebrumTrack = track;
})();
