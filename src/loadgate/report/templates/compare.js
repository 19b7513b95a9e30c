// Draws the comparison's percentile curves from the JSON figures embedded in the page.
(function () {
  "use strict";
  var config = { displaylogo: false, responsive: true };
  document.querySelectorAll("div.chart").forEach(function (div) {
    var figure = JSON.parse(document.getElementById(div.id + "-figure").textContent);
    Plotly.newPlot(div, figure.data, figure.layout, config);
  });
})();
