// 疫苗接种 dashboard: coverage (%) of each age group for the first dose, the full course and the booster,
// from the figures the page computed. Labels come translated from the server in the same JSON.
(function () {
  "use strict";
  var source = document.getElementById("vc-chart-data");
  var box = document.getElementById("chart-coverage");
  if (!source || !box || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(box);
  chart.setOption({
    title: { text: data.title, left: "center", textStyle: { fontSize: 14 } },
    tooltip: {
      trigger: "axis",
      axisPointer: { type: "shadow" },
      formatter: function (items) {
        var lines = [items[0].axisValue];
        items.forEach(function (it) {
          var counts = data.series[it.seriesIndex].counts;
          lines.push(it.marker + it.seriesName + "：" + it.value + "%（" + counts[it.dataIndex] + "）");
        });
        return lines.join("<br>");
      }
    },
    legend: { bottom: 0, data: data.series.map(function (s) { return s.name; }) },
    grid: { left: 8, right: 8, top: 36, bottom: 32, containLabel: true },
    xAxis: { type: "category", data: data.groups },
    yAxis: { type: "value", min: 0, max: 100 },
    color: ["#7fb3d5", "#2e86c1", "#1a5276"],
    series: data.series.map(function (s) {
      return { name: s.name, type: "bar", data: s.data, label: { show: true, position: "top", fontSize: 10 } };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
  window.addEventListener("beforeprint", function () { chart.resize(); });
})();
