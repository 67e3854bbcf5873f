// 计生 dashboard: births by month (stacked by sex) and by order and sex, from the figures the page computed.
// Labels come translated from the server in the same JSON, so nothing here needs translating.
(function () {
  "use strict";
  var source = document.getElementById("fp-chart-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];
  function stacked(el, title, categories, values) {
    if (!el) { return; }
    var chart = echarts.init(el);
    chart.setOption({
      title: { text: title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, data: [data.series.male, data.series.female] },
      grid: { left: 8, right: 8, top: 36, bottom: 32, containLabel: true },
      xAxis: { type: "category", data: categories },
      yAxis: { type: "value", minInterval: 1 },
      color: ["#3b82c4", "#e07b91"],
      series: [
        { name: data.series.male, type: "bar", stack: "sex", data: values.male },
        { name: data.series.female, type: "bar", stack: "sex", data: values.female }
      ]
    });
    charts.push(chart);
  }
  stacked(document.getElementById("chart-month"), data.titles.month, data.months, data.by_month);
  stacked(document.getElementById("chart-order"), data.titles.order, data.orders, data.by_order);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  // Printing: the canvas keeps the screen size unless told the page got narrower.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
