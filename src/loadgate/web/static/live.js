// The live view of a running run: every event from /runs/ID/events redraws
// the charts and replaces the endpoint table; the last one (the run ended)
// reloads the page, which then shows the stored run.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var updates = 0;
  var source = new EventSource(live.dataset.events);
  var select = document.getElementById("endpoint-select");

  function apply(update) {
    Object.keys(update.figures).forEach(function (chartId) {
      var div = document.getElementById(chartId);
      if (div) { Plotly.react(div, update.figures[chartId].data, update.figures[chartId].layout); }
    });
    // Keep showing the endpoint picked in the selector (report.js listens to it).
    if (select) { select.dispatchEvent(new Event("change")); }
    var section = document.getElementById("endpoints");
    if (section) { section.outerHTML = update.endpoints_html; }
    document.getElementById("live-requests").textContent = update.requests.toLocaleString("en");
    updates += 1;
    live.dataset.updates = String(updates);
  }

  source.addEventListener("update", function (event) { apply(JSON.parse(event.data)); });
  source.addEventListener("ended", function () {
    source.close();
    window.location.reload();
  });
})();
