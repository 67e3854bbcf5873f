// Residents and floating population per child unit, from the numbers the page already shows.
(function () {
  var el = document.getElementById("chart");
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  if (!el || !window.echarts) { return; }
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["人口", "流动人口"] },
    grid: { left: 8, right: 8, bottom: 8, containLabel: true },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: data.names, inverse: true },
    series: [
      { name: "人口", type: "bar", data: data.residents },
      { name: "流动人口", type: "bar", data: data.floating }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
