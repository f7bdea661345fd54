/* Cerebrum's first-party analytics beacon: page views, and clicks on elements with data-track="name".
 * Events are batched and sent with navigator.sendBeacon to /api/v1/events (same origin, no cookies
 * beyond our own, nothing from a CDN). Each event has its own UUID so a resent batch is not counted twice. */
(function () {
  "use strict";
  var ENDPOINT = "/api/v1/events";
  var VISITOR_COOKIE = "cb_aid";
  var MAX_BATCH = 100;
  var queue = [];
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
    if (queue.length >= 20) flush();
  }

  function flush() {
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
  // Phones rarely fire unload: "hidden" is the last moment a page is sure to run code.
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") flush(); });
  window.setInterval(flush, 5000);

  track("PAGE_VIEW", "page_view", { title: document.title.slice(0, 200) });
  window.setTimeout(flush, 1000);
  window.cerebrumTrack = track;
})();
