// 疫情防控 dashboard: people under each measure by day and new screenings by day, from the figures the
// page computed. Labels come translated from the server in the same JSON.
(function () {
  "use strict";
  var source = document.getElementById("ob-chart-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];
  var grid = { left: 8, right: 8, top: 36, bottom: 32, containLabel: true };
  var measures = document.getElementById("chart-measures");
  if (measures) {
    var c1 = echarts.init(measures);
    c1.setOption({
      title: { text: data.titles.measures, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: data.measures.map(function (m) { return m.name; }) },
      grid: grid,
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", minInterval: 1 },
      color: ["#c0392b", "#e67e22", "#2e86c1"],
      series: data.measures.map(function (m) {
        return { name: m.name, type: "line", stack: "measure", areaStyle: {}, symbol: "none", data: m.data };
      })
    });
    charts.push(c1);
  }
  var fresh = document.getElementById("chart-new");
  if (fresh) {
    var c2 = echarts.init(fresh);
    c2.setOption({
      title: { text: data.titles.new, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: grid,
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", minInterval: 1 },
      color: ["#3b82c4"],
      series: [{ name: data.new.name, type: "bar", data: data.new.data }]
    });
    charts.push(c2);
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  // Printing: the canvas keeps the screen size unless told the page got narrower.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
