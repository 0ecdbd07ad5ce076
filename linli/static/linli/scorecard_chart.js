/* Draws a scorecard's 12-month trend with the vendored ECharts, from the JSON the page
   carries. The same numbers are in the table beside it, so the page reads without it. */
(function () {
  "use strict";

  function draw(element) {
    if (typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(document.getElementById(element.dataset.chartSource).textContent);
    element.style.height = "320px";
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + " %"; } },
      legend: { data: data.series.map(function (s) { return s.name; }) },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
      series: data.series.map(function (s, i) {
        return {
          name: s.name,
          type: "line",
          data: s.values,
          connectNulls: false,
          lineStyle: { width: i === 0 ? 3 : 1.5 },
        };
      }),
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.querySelectorAll("[data-chart-source]").forEach(draw);
})();
