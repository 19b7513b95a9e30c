// Draws the report's charts from the JSON figures embedded in the page, links
// their time axes, and switches the per-endpoint charts with the selector.
(function () {
  "use strict";
  var config = { displaylogo: false, responsive: true };
  var charts = Array.prototype.slice.call(document.querySelectorAll("div.chart"));
  var timeCharts = charts.filter(function (div) { return div.dataset.timeAxis === "true"; });
  var endpointCharts = charts.filter(function (div) { return div.dataset.perEndpoint === "true"; });

  charts.forEach(function (div) {
    var figure = JSON.parse(document.getElementById(div.id + "-figure").textContent);
    Plotly.newPlot(div, figure.data, figure.layout, config);
  });

  // Zooming one chart over time zooms the others to the same seconds.
  var syncing = false;
  function xUpdate(event) {
    if ("xaxis.range[0]" in event) {
      return { "xaxis.range": [event["xaxis.range[0]"], event["xaxis.range[1]"]] };
    }
    if ("xaxis.range" in event) { return { "xaxis.range": event["xaxis.range"] }; }
    if (event["xaxis.autorange"]) { return { "xaxis.autorange": true }; }
    return null;
  }
  timeCharts.forEach(function (div) {
    div.on("plotly_relayout", function (event) {
      var update = xUpdate(event);
      if (syncing || update === null) { return; }
      syncing = true;
      var others = timeCharts.filter(function (other) { return other !== div; });
      Promise.all(others.map(function (other) { return Plotly.relayout(other, update); }))
        .then(function () { syncing = false; }, function () { syncing = false; });
    });
  });

  // Each per-endpoint trace names its endpoint in `meta`: show only the selected one.
  function showEndpoint(label) {
    endpointCharts.forEach(function (div) {
      var visible = div.data.map(function (trace) { return trace.meta === label; });
      Plotly.restyle(div, { visible: visible });
    });
  }
  var select = document.getElementById("endpoint-select");
  select.addEventListener("change", function () { showEndpoint(select.value); });
  if (select.value) { showEndpoint(select.value); }
})();
