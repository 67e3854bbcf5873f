// 全员核酸 progress: sampled / missed / not needed per unit, stacked, from the figures the page computed.
// The figures are polled by htmx (#progress-live); the chart is drawn again after each refresh.
(function () {
  "use strict";
  var box = document.getElementById("chart-progress");
  if (!box || !window.echarts) { return; }
  var chart = echarts.init(box);

  function draw() {
    var source = document.getElementById("testing-progress-data");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    chart.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 8, right: 8, top: 16, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: data.names, axisLabel: { interval: 0, rotate: data.names.length > 8 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      color: ["#2e8b57", "#c0392b", "#adb5bd"],
      series: [
        { name: data.labels.sampled, type: "bar", stack: "p", data: data.sampled },
        { name: data.labels.missed, type: "bar", stack: "p", data: data.missed },
        { name: data.labels.not_needed, type: "bar", stack: "p", data: data.not_needed }
      ]
    });
  }

  draw();
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.target && e.target.id === "progress-live") { draw(); }
  });
  window.addEventListener("resize", function () { chart.resize(); });
  window.addEventListener("beforeprint", function () { chart.resize(); });
})();
