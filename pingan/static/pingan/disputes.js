/* Dispute pages: live redraws on push, party rows added on demand, body kinds per route. */
(function () {
  "use strict";

  // --- live: [data-dispute-live] names the fragment URL that redraws the element -------------
  // The board keeps its filters (location.search); a page about one dispute
  // (data-dispute-code) only listens to that dispute.
  function liveFragment() {
    var el = document.querySelector("[data-dispute-live]");
    if (!el) return;
    var id = el.id, url = el.dataset.disputeLive, only = el.dataset.disputeCode || "";
    Pingan.onDispute(function (m) {
      if (only && m.dispute.code !== only) return;
      Pingan.refreshOnce("dispute:" + id, url + location.search, "#" + id, "outerHTML", function () {
        var card = document.getElementById("dc-" + m.dispute.code);
        if (card) card.classList.add("flash");
      });
    });
  }

  // A status badge in a list follows the pushes without a redraw.
  function liveBadges() {
    if (!document.querySelector("[data-status-of]")) return;
    Pingan.onDispute(function (m) {
      var el = document.querySelector('[data-status-of="' + m.dispute.code + '"]');
      if (el) { el.textContent = m.dispute.status_label; el.className = "badge " + m.dispute.status; }
    });
  }

  // One dispute's file: reload on a change, unless the user is typing in one of its forms;
  // then say what changed and offer the reload. Pages answering a POST (a failed form, the
  // revealed parties) never reload by themselves.
  function liveDetail() {
    var box = document.getElementById("dispute-detail");
    if (!box) return;
    var code = box.dataset.disputeCode, typing = false;
    box.addEventListener("input", function () { typing = true; });
    Pingan.onDispute(function (m) {
      if (m.dispute.code !== code) return;
      if (box.dataset.reloadOnPush && !typing) { location.reload(); return; }
      var note = document.getElementById("changed");
      note.hidden = false;
      note.querySelector("span").textContent = m.kind_label + "：" + m.message;
    });
  }

  // --- party rows: a template row with __i__ / __n__ placeholders ------------------------------
  function partyRows() {
    document.querySelectorAll("[data-add-party]").forEach(function (button) {
      button.addEventListener("click", function () {
        var box = document.querySelector(button.dataset.addParty);
        var template = document.getElementById("party-row-template");
        var next = Number(box.dataset.next || box.children.length);
        box.insertAdjacentHTML("beforeend",
          template.innerHTML.replace(/__i__/g, String(next)).replace(/__n__/g, String(next + 1)));
        box.dataset.next = String(next + 1);
        var name = box.lastElementChild.querySelector("input");
        if (name) name.focus();
      });
    });
  }

  // --- route → body kinds: only the chosen route's group of bodies is offered ----------------
  function routeBodies() {
    document.querySelectorAll('select[name="route"]').forEach(function (route) {
      var body = route.form && route.form.querySelector('select[name="body_kind"]');
      if (!body) return;
      function sync() {
        var label = route.value ? route.options[route.selectedIndex].text : "";
        body.querySelectorAll("optgroup").forEach(function (group) {
          var show = !label || group.label === label;
          group.hidden = !show;
          group.disabled = !show;
        });
        var chosen = body.options[body.selectedIndex];
        if (chosen && chosen.parentElement.disabled) body.value = "";
      }
      route.addEventListener("change", sync);
      sync();
    });
  }

  var live = document.querySelector("[data-dispute-live], [data-status-of], #dispute-detail");
  if (live) document.body.dataset.live = "1";
  liveFragment();
  liveBadges();
  liveDetail();
  partyRows();
  routeBodies();
})();
