/* Exam page: a countdown from the server's seconds-left, and answers saved in place.
   Without JavaScript every form still posts and the page reloads; nothing here is required. */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setCount(id, selector) {
    var counter = document.getElementById(id);
    if (counter) counter.textContent = String(document.querySelectorAll(selector).length);
  }

  function paletteUpdate(form) {
    var id = form.getAttribute("data-question");
    var pal = document.getElementById("pal-" + id);
    if (!pal) return;
    var chosen = form.querySelector("input[name=option]:checked");
    var marked = form.querySelector("input[name=marked_for_review]:checked");
    pal.classList.toggle("answered", !!chosen);
    pal.classList.toggle("marked", !!marked);
    pal.setAttribute("aria-label", "Question " + pal.textContent.trim() +
      (chosen ? ", answered" : "") + (marked ? ", marked for review" : ""));
    setCount("answered-count", ".palette .pal.answered");
    setCount("marked-count", ".palette .pal.marked");
  }

  function save(form, clear) {
    var status = form.querySelector(".save-status");
    var body = new FormData(form);
    body.delete("next");
    if (clear) body.set("clear", "1");
    if (status) status.textContent = "Saving…";
    return fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "Accept": "application/json" },
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error((data.error && data.error.message) || "Not saved");
        if (status) status.textContent = "Saved";
        form.setAttribute("data-saved", "true");
        paletteUpdate(form);
      });
    }).catch(function (error) {
      if (status) status.textContent = "Not saved: " + error.message + " Use the Save button.";
    });
  }

  document.querySelectorAll("form.answer-form").forEach(function (form) {
    form.addEventListener("change", function () { save(form, false); });
    var clearButton = form.querySelector("button[name=clear]");
    if (clearButton) {
      clearButton.addEventListener("click", function (event) {
        event.preventDefault();
        form.querySelectorAll("input[name=option]").forEach(function (radio) { radio.checked = false; });
        save(form, true);
      });
    }
  });

  var timer = document.getElementById("timer");
  if (!timer) return;
  var deadline = Date.now() + Number(timer.getAttribute("data-seconds-left")) * 1000;
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    timer.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    if (left === 0) {
      var submit = document.getElementById("submit-form");
      if (submit) submit.submit();
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
