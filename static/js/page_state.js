/* The learner's own bits of a page that nginx shares between learners (cerebrum/http_cache.py): the course
 * page's "You are enrolled", the test page's "Continue your attempt", a leaderboard's "my rank" and row.
 * They come from small personal JSON (GET /api/v1/me/page-state; a board's rank URL in #my-rank), fetched
 * with the ETag held in sessionStorage, so an unchanged answer is a 304 with no body. Without JavaScript
 * the page still works: "Start test" continues a running attempt, enrolling again leads to the enrollment. */
(function () {
  "use strict";

  function cached(url, use) {
    var key = "cb_json:" + url;
    var held = null;
    try {
      held = JSON.parse(sessionStorage.getItem(key) || "null");
    } catch (error) {
      held = null;
    }
    var headers = { Accept: "application/json" };
    if (held && held.etag) headers["If-None-Match"] = held.etag;
    fetch(url, { credentials: "same-origin", headers: headers })
      .then(function (response) {
        if (response.status === 304 && held) return held.data;
        if (!response.ok) return null;
        return response.json().then(function (data) {
          var etag = response.headers.get("ETag");
          try {
            if (etag) sessionStorage.setItem(key, JSON.stringify({ etag: etag, data: data }));
          } catch (error) {
            /* storage full or off: the next page asks again */
          }
          return data;
        });
      })
      .then(function (data) {
        if (data) use(data);
      })
      .catch(function () {
        /* offline or signed out: the shared page stands as it is */
      });
  }

  // Show the element marked data-<name>="slug" with its link's 0 made the id, and hide data-until-<name>.
  function swap(name, ids) {
    document.querySelectorAll("[data-" + name + "]").forEach(function (shown) {
      var id = ids[shown.getAttribute("data-" + name)];
      if (!id) return;
      var link = shown.querySelector("a");
      link.setAttribute("href", link.getAttribute("href").replace(/\/0\/$/, "/" + id + "/"));
      shown.hidden = false;
      document.querySelectorAll("[data-until-" + name + "]").forEach(function (form) {
        form.hidden = true;
      });
    });
  }

  if (document.querySelector("[data-enrolled], [data-running]")) {
    cached("/api/v1/me/page-state", function (state) {
      swap("enrolled", state.enrolled);
      swap("running", state.running);
    });
  }

  var rank = document.getElementById("my-rank");
  if (rank) {
    cached(rank.getAttribute("data-url"), function (data) {
      var me = data.me === undefined ? data : data.me; // a test's rank, or a topic board with its "me"
      if (!me || me.rank === null || me.rank === undefined) return;
      var values = { rank: me.rank, total: data.total, score: me.score, percentile: me.percentile };
      rank.innerHTML = rank.getAttribute("data-text").replace(/\{(rank|total|score|percentile)\}/g, function (_, name) {
        return String(Number(values[name]));
      });
      rank.hidden = false;
      // By position, not rank: tied learners share a rank, and the first row of it may be another learner's.
      var row = document.querySelector('tr[data-position="' + Number(me.position) + '"]');
      if (row) row.classList.add("me");
    });
  }
})();
