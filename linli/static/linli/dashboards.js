/* Dashboards: draw each [data-chart] box from the JSON the page put beside it (json_script).
   The numbers are also in a table under each chart, so nothing is lost without JavaScript.
   Charts follow their box's width (ResizeObserver) and use bigger type in elder mode. */
(function () {
  "use strict";
  if (!window.echarts) return;

  var elder = document.documentElement.classList.contains("elder");
  var FONT = elder ? 18 : 12;
  var COLORS = ["#067a3d", "#1a4b8c", "#b3261e", "#7a4a00", "#5b2a86", "#455577"];
  var TEXT = "#1a1a1a";
  var MUTED = elder ? "#333" : "#595959";

  function base(extra) {
    var option = {
      color: COLORS,
      aria: { enabled: true },
      animation: false,
      textStyle: { fontSize: FONT, color: TEXT },
      tooltip: { trigger: "axis", textStyle: { fontSize: FONT }, confine: true },
      grid: { left: 8, right: 8, top: elder ? 64 : 48, bottom: 8 }
    };
    for (var key in extra) option[key] = extra[key];
    return option;
  }

  function axisLabel() {
    return { fontSize: FONT, color: MUTED, hideOverlap: true };
  }

  var BUILD = {
    // Bars (orders per month) with rate lines on a 0–100 % axis.
    trend: function (d) {
      var series = d.bars.map(function (s) {
        return { type: "bar", name: s.name, data: s.data, yAxisIndex: 0, barMaxWidth: 28 };
      });
      d.lines.forEach(function (s) {
        series.push({ type: "line", name: s.name, data: s.data, yAxisIndex: 1, connectNulls: false,
          symbolSize: elder ? 8 : 5, lineStyle: { width: elder ? 3 : 2 } });
      });
      return base({
        legend: { top: 0, left: 0, textStyle: { fontSize: FONT }, itemGap: 8 },
        xAxis: { type: "category", data: d.x.map(function (m) { return m.slice(2); }), axisLabel: axisLabel() },
        yAxis: [
          { type: "value", minInterval: 1, axisLabel: axisLabel(), splitLine: { lineStyle: { color: "#e2e2e2" } } },
          { type: "value", min: 0, max: 100, axisLabel: { fontSize: FONT, color: MUTED, formatter: "{value}%" },
            splitLine: { show: false } }
        ],
        series: series
      });
    },
    // Horizontal bars (orders per category), largest on top.
    hbar: function (d) {
      return base({
        grid: { left: 8, right: 24, top: 8, bottom: 8 },
        xAxis: { type: "value", minInterval: 1, axisLabel: axisLabel() },
        yAxis: { type: "category", inverse: true, data: d.y,
          axisLabel: { fontSize: FONT, color: TEXT, width: elder ? 110 : 90, overflow: "truncate" } },
        series: [{ type: "bar", name: d.name, data: d.data, barMaxWidth: 22,
          label: { show: true, position: "right", fontSize: FONT } }]
      });
    },
    // Vertical bars (members per hours bucket).
    bar: function (d) {
      return base({
        grid: { left: 8, right: 8, top: 24, bottom: d.unit ? (elder ? 40 : 32) : 8 },
        xAxis: { type: "category", data: d.x, name: d.unit || "", nameLocation: "middle", nameGap: elder ? 34 : 26,
          nameTextStyle: { fontSize: FONT, color: MUTED },
          axisLabel: { fontSize: FONT, color: MUTED, interval: 0, width: 60, overflow: "break" } },
        yAxis: { type: "value", minInterval: 1, axisLabel: axisLabel() },
        series: [{ type: "bar", name: d.name, data: d.data, barMaxWidth: 40,
          label: { show: true, position: "top", fontSize: FONT } }]
      });
    }
  };

  function draw(box) {
    var source = document.getElementById(box.getAttribute("data-chart"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var build = BUILD[data.kind];
    if (!build) return;
    if (data.kind === "hbar") {
      // One row per category: the box grows with the list instead of squeezing or stretching bars.
      box.style.height = Math.max(160, 56 + data.y.length * (elder ? 40 : 30)) + "px";
    }
    var chart = echarts.init(box, null, { renderer: "svg" });
    chart.setOption(build(data));
    if (window.ResizeObserver) {
      new ResizeObserver(function () { chart.resize(); }).observe(box);
    } else {
      window.addEventListener("resize", function () { chart.resize(); });
    }
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
