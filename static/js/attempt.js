/* The NTA exam screen (templates/courses/attempt.html; the contract is docs/exam.md).

   Without JavaScript every button posts a plain form and the page reloads; this script only makes it
   better: questions change in place (no reload, no jump to the top), answers go into a queue kept in
   localStorage and are sent in batches with a per-attempt seq (the server keeps the highest seq per
   question), so a reload or a dropped connection loses nothing. It also counts time per question,
   runs the countdown from the server's deadline, warns at 5 and 1 minutes, and asks before submit. */
(function () {
  "use strict";

  var dataNode = document.getElementById("exam-data");
  var paperNode = document.getElementById("exam-paper");
  if (!dataNode || !paperNode) return;
  // Two parts (courses/exam_screen.py): `exam-paper` is the same for every learner of this paper version
  // (questions in the paper's order and canonical letters, sections, words); `exam-data` is this learner's
  // (their order and option orders, answers, visited, last_seq, URLs).
  var exam = JSON.parse(dataNode.textContent);
  var shared = JSON.parse(paperNode.textContent);
  exam.labels = shared.labels;
  exam.sections = shared.sections;
  var form = document.getElementById("question");
  var PREFIX = "cerebrum:attempt:" + exam.attempt_id + ":";
  var BATCH = 200;
  var LETTERS = ["A", "B", "C", "D"];
  // The page's words in the interface language (courses/exam_screen.py screen_messages): %(name)s is
  // filled in here, and a [one, other] pair is chosen by `count`.
  var M = shared.messages || {};
  function t(key, values, count) {
    var text = M[key];
    if (Array.isArray(text)) text = text[count === 1 ? 0 : 1];
    return String(text).replace(/%\((\w+)\)s/g, function (all, name) {
      return values && name in values ? String(values[name]) : all;
    });
  }

  // --- storage that survives a reload (falls back to memory when localStorage is unavailable) ---
  var memory = {};
  function read(name, fallback) {
    try {
      var raw = window.localStorage.getItem(PREFIX + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return name in memory ? memory[name] : fallback;
    }
  }
  function write(name, value) {
    memory[name] = value;
    try { window.localStorage.setItem(PREFIX + name, JSON.stringify(value)); } catch (error) { /* memory only */ }
  }

  // --- the paper as this learner sees it: their question order, numbered 1..N, and option order
  // ("CADB": their A is the paper's C), as the server numbers and letters it (selectors.question_as_shown) ---
  var byId = {};
  shared.paper.forEach(function (q) { byId[q.id] = q; });
  var paper = (exam.order || shared.paper.map(function (q) { return q.id; })).map(function (id, index) {
    var q = byId[id];
    var letters = (exam.option_orders || {})[id];
    function shown(options) {
      return letters ? letters.split("").map(function (letter) { return options[LETTERS.indexOf(letter)]; }) : options;
    }
    var item = { id: id, n: index + 1, t: q.t, o: shown(q.o), s: q.s };
    if (q.h) item.h = { t: q.h.t, o: shown(q.h.o) };
    return item;
  });

  // --- state: the server's answers overlaid with this device's unsent queue ---
  var indexOf = {};
  paper.forEach(function (q, i) { indexOf[q.id] = i; });
  var answers = {};
  var visited = {};
  var current = form ? indexOf[Number(form.getAttribute("data-question"))] : -1;

  function queue() { return read("queue", []); }

  function rebuildState() {
    answers = {};
    visited = {};
    Object.keys(exam.answers).forEach(function (id) { answers[id] = exam.answers[id]; });
    exam.visited.forEach(function (id) { visited[id] = true; });
    queue().forEach(function (item) {
      var saved = answers[item.question_id];
      if (!saved || !saved.seq || item.seq > saved.seq) {
        answers[item.question_id] = { option: item.option, marked_for_review: item.marked_for_review, seq: item.seq };
      }
      visited[item.question_id] = true;
    });
    if (current >= 0) visited[paper[current].id] = true;
  }

  function nextSeq() {
    var seq = Math.max(exam.last_seq || 0, read("seq", 0));
    queue().forEach(function (item) { seq = Math.max(seq, item.seq); });
    write("seq", seq + 1);
    return seq + 1;
  }

  function saved(id) { return answers[id] || { option: "", marked_for_review: false }; }

  function stateOf(id) {
    var answer = answers[id];
    if (answer && answer.option) return answer.marked_for_review ? "answered_and_marked" : "answered";
    if (answer && answer.marked_for_review) return "marked_for_review";
    return visited[id] ? "not_answered" : "not_visited";
  }

  // --- time on each question: counted while the page is visible, sent with the item for it ---
  var shownAt = null;
  var carried = {};
  function pauseClock() {
    if (shownAt === null || current < 0) return;
    var id = paper[current].id;
    carried[id] = (carried[id] || 0) + (performance.now() - shownAt) / 1000;
    shownAt = null;
  }
  function startClock() { if (shownAt === null && current >= 0 && !document.hidden) shownAt = performance.now(); }
  function takeSeconds(id) {
    if (current >= 0 && paper[current].id === id) { pauseClock(); startClock(); }
    var whole = Math.floor(carried[id] || 0);
    carried[id] = (carried[id] || 0) - whole;
    return whole;
  }

  // --- the queue and its sender ---
  var sending = null;  // the request in flight, if any
  var retryTimer = null;
  var retryDelay = 2000;
  var closed = false;

  function enqueue(id, option, marked) {
    var item = { question_id: id, option: option, marked_for_review: marked, seq: nextSeq(), time_spent_seconds: takeSeconds(id) };
    var items = queue();
    items.push(item);
    write("queue", items);
    answers[id] = { option: option, marked_for_review: marked, seq: item.seq };
    visited[id] = true;
    paint(id);
    say(t("saving"));  // "Saved" again only once the queue is empty
    flush();
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  var banner = document.getElementById("net-banner");
  var status = document.getElementById("save-status");
  function say(text) { if (status) status.textContent = text; }
  function showBanner(text, isError) {
    if (!banner) return;
    banner.textContent = text;
    banner.classList.toggle("error", !!isError);
    banner.hidden = !text;
  }
  function waiting() {
    var n = queue().length;
    return t("waiting", { n: n }, n);
  }

  function retryLater() {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function flush() {
    var items = queue();
    if (sending) return sending.then(function () { return flush(); });
    if (closed) return Promise.resolve(false);
    if (!items.length) { showBanner(""); return Promise.resolve(true); }
    if (navigator.onLine === false) {
      showBanner(t("offline", { waiting: waiting() }));
      say(t("saved_here"));
      return Promise.resolve(false);
    }
    var batch = items.slice(0, BATCH);
    sending = fetch(exam.answer_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ answers: batch }),
    }).then(function (response) {
      var isJson = (response.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
      return (isJson ? response.json() : Promise.resolve(null)).then(function (body) {
        return { response: response, body: body };
      });
    }).then(function (result) {
      sending = null;
      return handle(result.response, result.body, batch);
    }, function () {
      sending = null;
      showBanner(t("connection_lost", { waiting: waiting() }));
      say(t("saved_here"));
      retryLater();
      return false;
    });
    return sending;
  }

  function drop(batch) {
    var sent = {};
    batch.forEach(function (item) { sent[item.seq] = true; });
    write("queue", queue().filter(function (item) { return !sent[item.seq]; }));
  }

  // What the server now holds becomes the page's base state, so a redraw (pageshow) keeps it.
  function acknowledge(batch) {
    batch.forEach(function (item) {
      var known = exam.answers[item.question_id];
      if (!known || !known.seq || item.seq > known.seq) {
        exam.answers[item.question_id] = { option: item.option, marked_for_review: item.marked_for_review, seq: item.seq };
      }
      if (exam.visited.indexOf(item.question_id) === -1) exam.visited.push(item.question_id);
    });
  }

  function handle(response, body, batch) {
    var error = (body && body.error) || {};
    if (response.ok && body) {
      acknowledge(batch);
      drop(batch);
      retryDelay = 2000;
      exam.last_seq = Math.max(exam.last_seq || 0, body.acknowledged_seq || 0);
      if (queue().length) return flush();
      showBanner("");
      say(t("saved"));
      return true;
    }
    if (response.status === 409 || error.code === "attempt_closed") {
      // Submitted elsewhere, or its time is up: submitting is idempotent and scores an overdue attempt
      // at once (its result page would send a not-yet-swept attempt back here).
      closed = true;
      showBanner(t("not_sent", { reason: error.message || t("closed"), n: queue().length }), true);
      write("queue", []);
      submitNow();
      return false;
    }
    if (response.status === 401 || response.status === 403 || !body) {
      var text = response.status === 401 ? error.message
        : t("stale_page");
      showBanner(text, true);
      retryLater();
      return false;
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      drop(batch);
      showBanner(t("not_saved", { reason: error.message || t("refused") }), true);
      rebuildState();
      render();
      paintAll();
      return false;
    }
    showBanner(t("busy", { waiting: waiting() }));
    retryLater();
    return false;
  }

  var timeUp = false;
  window.addEventListener("online", function () {
    retryDelay = 2000;
    if (timeUp && submitForm) finish(document.getElementById("time-warning")); else flush();
  });
  window.addEventListener("offline", function () { flush(); });

  // --- painting the palette, counts and the question ---
  function paint(id) {
    var link = document.querySelector('.palette a.pal[data-q="' + id + '"]');
    var state = stateOf(id);
    if (link) {
      link.className = "pal s-" + state;
      link.setAttribute("aria-label", t("palette_item", { n: indexOf[id] + 1, state: exam.labels[state] }));
    }
    counts();
  }

  function paintAll() { paper.forEach(function (q) { paint(q.id); }); }

  var ORDER = ["answered", "not_answered", "marked_for_review", "answered_and_marked", "not_visited"];

  function summary(section) {
    var totals = { answered: 0, not_answered: 0, marked_for_review: 0, answered_and_marked: 0, not_visited: 0, total: 0 };
    paper.forEach(function (q) {
      if (section === undefined || q.s === section) { totals[stateOf(q.id)] += 1; totals.total += 1; }
    });
    return totals;
  }

  function counts() {
    var totals = summary();
    document.querySelectorAll("[data-count]").forEach(function (node) {
      node.textContent = String(totals[node.getAttribute("data-count")]);
    });
    exam.sections.forEach(function (section, index) {
      var node = document.querySelector('[data-section-count="' + index + '"]');
      if (!node) return;
      var inSection = paper.filter(function (q) { return q.s === index; });
      var done = inSection.filter(function (q) { return stateOf(q.id).indexOf("answered") === 0; }).length;
      node.textContent = done + "/" + inSection.length;
    });
  }

  function option(letter, text, checked) {
    var label = document.createElement("label");
    label.className = "option";
    var input = document.createElement("input");
    input.type = "radio";
    input.name = "option";
    input.value = letter;
    input.checked = checked;
    var mark = document.createElement("span");
    mark.className = "opt-letter";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = letter;
    var body = document.createElement("span");
    body.className = "opt-text";
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = letter + ". ";
    body.appendChild(hidden);
    body.appendChild(document.createTextNode(text));
    label.appendChild(input);
    label.appendChild(document.createTextNode(" "));
    label.appendChild(mark);
    label.appendChild(document.createTextNode(" "));
    label.appendChild(body);
    return label;
  }

  // --- NTA's "View in": the attempt's medium, or the one the learner picked for this question ---
  var viewIn = read("view_in", {});
  function mediumOf(q) { return viewIn[q.id] || exam.medium || "en"; }
  // English where the question has no Hindi version (the server filled English into blank Hindi fields).
  function inMedium(q) { return mediumOf(q) === "hi" && q.h ? q.h : q; }
  var viewSelect = document.getElementById("view-in");
  if (viewSelect && form) {
    document.querySelectorAll(".js-hide").forEach(function (node) { node.hidden = true; });
    document.getElementById("view-in-form").addEventListener("submit", function (event) { event.preventDefault(); });
    viewSelect.addEventListener("change", function () {
      viewIn[paper[current].id] = viewSelect.value;
      write("view_in", viewIn);
      var chosen = form.querySelector("input[name=option]:checked");  // picked but not saved yet: keep it
      render();
      if (chosen) form.querySelector('input[name=option][value="' + chosen.value + '"]').checked = true;
    });
  }

  var titleNumber = current + 1;  // the question number in the page title
  function render() {
    if (!form || current < 0) return;
    var q = paper[current];
    var shown = inMedium(q);
    var answer = saved(q.id);
    form.setAttribute("data-question", q.id);
    form.querySelector("input[name=question_id]").value = q.id;
    document.getElementById("question-number").textContent = String(q.n);
    var section = exam.sections.length > 1 ? " · " + exam.sections[q.s].name : "";
    document.getElementById("question-section").textContent = section;
    var textNode = document.getElementById("question-text");
    textNode.textContent = shown.t;
    if (shown === q) textNode.removeAttribute("lang"); else textNode.setAttribute("lang", "hi");
    var box = document.getElementById("question-options");
    box.textContent = "";
    shown.o.forEach(function (text, i) { box.appendChild(option(LETTERS[i], text, answer.option === LETTERS[i])); });
    if (viewSelect) {
      viewSelect.value = mediumOf(q);
      viewSelect.form.querySelector("input[name=q]").value = q.n;
      document.getElementById("view-in-note").hidden = !(mediumOf(q) === "hi" && !q.h);
    }
    document.getElementById("question-state").lastElementChild.textContent = exam.labels[stateOf(q.id)];
    form.querySelector("button[value=back]").disabled = current === 0;
    document.querySelectorAll(".palette a.pal[aria-current]").forEach(function (a) { a.removeAttribute("aria-current"); });
    var link = document.querySelector('.palette a.pal[data-q="' + q.id + '"]');
    if (link) link.setAttribute("aria-current", "step");
    document.querySelectorAll(".section-tab[data-section]").forEach(function (tab) {
      if (Number(tab.getAttribute("data-section")) === q.s) tab.setAttribute("aria-current", "true");
      else tab.removeAttribute("aria-current");
    });
    // The last "question N": the test's own title comes first and may hold the same words.
    var was = t("title", { n: titleNumber });
    var at = document.title.lastIndexOf(was);
    if (at >= 0) document.title = document.title.slice(0, at) + t("title", { n: q.n }) + document.title.slice(at + was.length);
    titleNumber = q.n;
  }

  function show(index, focusHeading) {
    if (!form) return;
    pauseClock();
    current = Math.max(0, Math.min(paper.length - 1, index));
    visited[paper[current].id] = true;
    render();
    paint(paper[current].id);
    startClock();
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?q=" + (current + 1) + "#question");
    }
    hidePaper();
    if (focusHeading) {
      var heading = document.getElementById("question-heading");
      heading.focus({ preventScroll: true });
      if (heading.getBoundingClientRect().top < 0 || heading.getBoundingClientRect().top > window.innerHeight / 2) {
        form.scrollIntoView({ block: "start" });
      }
    }
  }

  function leave(toIndex) {
    var id = paper[current].id;
    var answer = saved(id);
    enqueue(id, answer.option, answer.marked_for_review);  // the visit (and its time); the answer unchanged
    show(toIndex, true);
  }

  // --- NTA's buttons ---
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var action = (event.submitter && event.submitter.value) || "save_next";
      var id = paper[current].id;
      var chosen = form.querySelector("input[name=option]:checked");
      var letter = chosen ? chosen.value : "";
      if (action === "save_next" || action === "mark_next") {
        enqueue(id, letter, action === "mark_next");
        if (current === paper.length - 1) {
          render();
          say(t("saved_last"));
          document.getElementById("palette").focus();
          return;
        }
        show(current + 1, true);
      } else if (action === "clear") {
        enqueue(id, "", saved(id).marked_for_review);
        render();
        say(t("cleared"));
      } else if (action === "back") {
        leave(current - 1);
      }
    });

    document.querySelectorAll(".palette a.pal, .section-tab[data-section], .paper-go").forEach(function (link) {
      link.addEventListener("click", function (event) { go(event, link); });
    });
  }

  function go(event, link) {
    var target = link.getAttribute("data-q")
      ? indexOf[Number(link.getAttribute("data-q"))]
      : Number(new URL(link.href, window.location.href).searchParams.get("q")) - 1;
    if (isNaN(target) || target < 0) return;
    event.preventDefault();
    if (target === current) { show(current, true); return; }
    leave(target);
  }

  // Keys 1-4 or A-D choose an option (Enter then saves: Save & Next is the form's default button).
  document.addEventListener("keydown", function (event) {
    if (!form || event.ctrlKey || event.metaKey || event.altKey || dialogOpen()) return;
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "TEXTAREA" || (tag === "INPUT" && event.target.type === "text")) return;
    var key = event.key.toUpperCase();
    var index = "1234".indexOf(key) !== -1 ? Number(key) - 1 : LETTERS.indexOf(key);
    if (key.length !== 1 || index < 0) return;
    var radios = form.querySelectorAll("input[name=option]");
    if (!radios[index]) return;
    event.preventDefault();
    radios[index].checked = true;
    radios[index].focus();
  });

  // --- the question paper, in place (the link still works as a page without JavaScript) ---
  var paperPanel = null;
  function hidePaper() {
    if (paperPanel) paperPanel.hidden = true;
    if (form) form.hidden = false;
  }
  var paperLink = document.getElementById("paper-link");
  if (paperLink && form) {
    paperLink.addEventListener("click", function (event) {
      event.preventDefault();
      if (!paperPanel) paperPanel = buildPaper();
      form.hidden = true;
      paperPanel.hidden = false;
      paperPanel.querySelector("h1").focus();
    });
  }

  function buildPaper() {
    var panel = document.createElement("section");
    panel.className = "question-paper";
    panel.setAttribute("aria-labelledby", "paper-heading");
    var heading = document.createElement("h1");
    heading.className = "h3";
    heading.id = "paper-heading";
    heading.tabIndex = -1;
    heading.textContent = t("question_paper");
    panel.appendChild(heading);
    paper.forEach(function (q, index) {
      var article = document.createElement("article");
      article.className = "paper-question";
      var title = document.createElement("h2");
      title.className = "h4";
      var link = document.createElement("a");
      link.href = "?q=" + q.n + "#question";
      link.className = "paper-go";
      link.setAttribute("data-q", q.id);
      link.textContent = t("question", { n: q.n });
      link.addEventListener("click", function (event) { go(event, link); });
      title.appendChild(link);
      var text = document.createElement("p");
      text.textContent = inMedium(q).t;
      var list = document.createElement("ol");
      list.className = "paper-options";
      inMedium(q).o.forEach(function (option, i) {
        var item = document.createElement("li");
        item.textContent = LETTERS[i] + ". " + option;
        list.appendChild(item);
      });
      article.appendChild(title);
      article.appendChild(text);
      article.appendChild(list);
      panel.appendChild(article);
      return index;
    });
    form.parentNode.insertBefore(panel, form.nextSibling);
    return panel;
  }

  // --- submit: NTA's summary first (the button opens a confirmation page without JavaScript) ---
  var dialog = document.getElementById("submit-dialog");
  var submitForm = document.getElementById("submit-form");
  var openForm = document.getElementById("submit-open-form");
  function dialogOpen() { return !!(dialog && dialog.open); }

  function fillSummary() {
    var totals = summary();
    var body = document.querySelector("#submit-dialog #submit-summary tbody");
    body.textContent = "";
    ORDER.forEach(function (code) {
      var row = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      var mark = document.createElement("span");
      mark.className = "pal s-" + code;
      mark.setAttribute("aria-hidden", "true");
      th.appendChild(mark);
      th.appendChild(document.createTextNode(" " + exam.labels[code]));
      var td = document.createElement("td");
      td.setAttribute("data-summary", code);
      td.textContent = String(totals[code]);
      row.appendChild(th);
      row.appendChild(td);
      body.appendChild(row);
    });
    fillSections();
    var pending = queue().length;
    document.getElementById("submit-pending").textContent = pending
      ? t("pending", { n: pending }, pending)
      : "";
  }

  // NTA's per-section table (rows become cards on a narrow screen, as on the result page).
  function fillSections() {
    var box = document.getElementById("submit-sections");
    if (!box || exam.sections.length < 2) return;
    var table = document.createElement("table");
    table.className = "stack-table summary-sections";
    var caption = table.createCaption();
    caption.textContent = t("by_section");
    var head = table.createTHead().insertRow();
    [t("section"), t("questions")].concat(ORDER.map(function (code) { return exam.labels[code]; })).forEach(function (text) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      head.appendChild(th);
    });
    var body = table.createTBody();
    exam.sections.forEach(function (section, index) {
      var totals = summary(index);
      var row = body.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = section.name;
      row.appendChild(th);
      [[t("questions"), totals.total]].concat(ORDER.map(function (code) { return [exam.labels[code], totals[code], code]; }))
        .forEach(function (cell) {
          var td = row.insertCell();
          td.setAttribute("data-label", cell[0]);
          if (cell[2]) td.setAttribute("data-section-summary", cell[2]);
          td.textContent = String(cell[1]);
        });
    });
    box.textContent = "";
    box.appendChild(table);
  }

  if (dialog && openForm && typeof dialog.showModal === "function") {
    openForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form && current >= 0) enqueue(paper[current].id, saved(paper[current].id).option, saved(paper[current].id).marked_for_review);
      fillSummary();
      dialog.showModal();
      document.getElementById("submit-cancel").focus();
      flush().then(fillSummary);
    });
    document.getElementById("submit-cancel").addEventListener("click", function () { dialog.close(); });
    submitForm.addEventListener("submit", function (event) {
      event.preventDefault();
      finish(document.getElementById("submit-pending"));
    });
  }

  function finish(note) {
    pauseClock();
    flush().then(function () {
      if (queue().length && !closed) {
        if (note) note.textContent = t("submit_offline", { waiting: waiting() });
        return;
      }
      submitNow();
    });
  }

  var submitted = false;
  function submitNow() {
    if (submitted || !submitForm) {
      if (!submitForm) window.location.assign(exam.result_url);
      return;
    }
    submitted = true;
    var confirm = document.createElement("input");
    confirm.type = "hidden";
    confirm.name = "confirm";
    confirm.value = "1";
    submitForm.appendChild(confirm);
    HTMLFormElement.prototype.submit.call(submitForm);
  }

  // --- the countdown: from the server's deadline (extra time included), so a reload cannot reset it ---
  var timer = document.getElementById("timer");
  if (timer) {
    var deadline = Date.parse(timer.getAttribute("data-deadline"));
    var skew = Date.parse(timer.getAttribute("data-server-now")) - Date.now();
    var warning = document.getElementById("time-warning");
    var warned = read("warned", 0);
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - (Date.now() + skew)) / 1000));
      var hours = Math.floor(left / 3600);
      var minutes = Math.floor((left % 3600) / 60);
      var seconds = left % 60;
      timer.textContent = hours + ":" + (minutes < 10 ? "0" : "") + minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      timer.parentNode.classList.toggle("warn", left <= 300);
      [300, 60].forEach(function (mark) {
        if (left <= mark && left > 0 && (!warned || warned > mark)) {
          warned = mark;
          write("warned", mark);
          if (warning) warning.textContent = t("minutes_left", { n: mark / 60 }, mark / 60);
        }
      });
      if (left === 0) {
        timeUp = true;
        if (warning) warning.textContent = t("time_up");
        if (submitForm) finish(warning);
        return;
      }
      window.setTimeout(tick, 1000 - ((Date.now() + skew) % 1000) + 20);
    };
    tick();
  }

  // --- start, and after Back/Forward (bfcache): show what is saved or queued, never a stale tick ---
  exam.answer_url = exam.answer_url || (form ? form.action : "");
  function sync() {
    rebuildState();
    render();
    paintAll();
    startClock();
    flush();
  }
  document.querySelectorAll(".js-only").forEach(function (node) { node.hidden = false; });
  window.addEventListener("pageshow", function (event) { if (event.persisted) sync(); });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) pauseClock(); else { startClock(); flush(); }
  });
  sync();
})();
