/* Statistics charts (ECharts), drawn from the page's json_script data (id "stats-chart").
   The page's own <script> tag names the chart set: data-charts="disputes" or "volunteers". */
(function () {
  "use strict";
  var cfg = (document.currentScript && document.currentScript.dataset) || {};
  var source = document.getElementById("stats-chart");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);

  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function disputes() {
    function bars(id, categories, total, settled, rotate) {
      draw(id, {
        tooltip: { trigger: "axis" },
        legend: { data: ["纠纷数", "已化解"], top: 0, left: "center" },
        grid: { left: 40, right: 12, bottom: rotate ? 70 : 30, top: 36 },
        xAxis: { type: "category", data: categories, axisLabel: { rotate: rotate || 0 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: "纠纷数", type: "bar", data: total, itemStyle: { color: "#1565c0" } },
          { name: "已化解", type: "bar", data: settled, itemStyle: { color: "#2e7d32" } },
        ],
      });
    }
    bars("chart-month", data.months, data.month_total, data.month_settled, 0);
    bars("chart-type", data.types, data.type_total, data.type_settled, 30);
  }

  function volunteers() {
    var rotate = data.teams.length > 6 ? 30 : 0;
    draw("chart-teams", {
      tooltip: { trigger: "axis" },
      legend: { data: ["服务时长（小时）", "发放积分", "兑换积分"], top: 0 },
      grid: { left: 48, right: 48, bottom: rotate ? 70 : 30, top: 36 },
      xAxis: { type: "category", data: data.teams, axisLabel: { rotate: rotate } },
      yAxis: [{ type: "value", name: "小时" }, { type: "value", name: "积分", minInterval: 1 }],
      series: [
        { name: "服务时长（小时）", type: "bar", data: data.hours, itemStyle: { color: "#1565c0" } },
        { name: "发放积分", type: "bar", yAxisIndex: 1, data: data.issued, itemStyle: { color: "#2e7d32" } },
        { name: "兑换积分", type: "bar", yAxisIndex: 1, data: data.redeemed, itemStyle: { color: "#e69b00" } },
      ],
    });
    draw("chart-fill", {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
      grid: { left: 40, right: 12, bottom: rotate ? 70 : 30, top: 20 },
      xAxis: { type: "category", data: data.teams, axisLabel: { rotate: rotate } },
      yAxis: { type: "value", max: 100 },
      series: [{ name: "报满率", type: "bar", data: data.fill, itemStyle: { color: "#6a1b9a" } }],
    });
  }

  if (cfg.charts === "disputes") disputes();
  else if (cfg.charts === "volunteers") volunteers();
})();
