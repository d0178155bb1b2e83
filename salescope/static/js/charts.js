/* Charts of KPI widgets: every element with data-echarts="<id>" is drawn with Apache ECharts
   from the JSON option in the <script id="<id>" type="application/json"> (json_script).
   Also after htmx swaps. A click on a data point opens its drill-down link (data.url).
   option.salescope = {unit, currency, locale} says how values are formatted. */
(function () {
  "use strict";
  var charts = [];

  function formatter(fmt, compact) {
    var locale = fmt.locale || undefined;
    var unit = fmt.unit || "count";
    var opts = {};
    if (unit === "money" || unit === "per_day") {
      opts = { style: "currency", currency: fmt.currency || "EUR", maximumFractionDigits: compact ? 0 : 2 };
      if (compact) { opts.notation = "compact"; opts.maximumFractionDigits = 1; }
    } else if (unit === "count") {
      opts = { maximumFractionDigits: 0 };
      if (compact) { opts.notation = "compact"; }
    } else {
      opts = { maximumFractionDigits: compact ? 1 : 2 };
    }
    var nf;
    try { nf = new Intl.NumberFormat(locale, opts); } catch (e) { nf = new Intl.NumberFormat(); }
    var suffix = { percent: " %", days: " d", hours: " h" }[unit] || "";
    return function (value) {
      if (value === null || value === undefined || value === "-" || isNaN(value)) { return "–"; }
      return nf.format(value) + suffix;
    };
  }

  function prepare(option) {
    var fmt = option.salescope || {};
    delete option.salescope;
    var full = formatter(fmt, false);
    var compact = formatter(fmt, true);
    if (option.tooltip) { option.tooltip.valueFormatter = full; }
    [].concat(option.yAxis || []).forEach(function (axis) {
      if (axis && axis.type === "value" && fmt.unit) {
        axis.axisLabel = axis.axisLabel || {};
        axis.axisLabel.formatter = compact;
      }
    });
    [].concat(option.series || []).forEach(function (series) {
      if (series.type === "funnel") {
        series.label = series.label || {};
        series.label.formatter = function (p) { return (p.data && p.data.label_text) || p.name; };
      } else if (series.type === "pie") {
        series.label = series.label || {};
        series.label.formatter = function (p) {
          return p.name + ": " + ((p.data && p.data.text) || full(p.value)) + " (" + p.percent + " %)";
        };
      }
    });
    return option;
  }

  function draw(el) {
    if (!window.echarts) { return; }
    var source = document.getElementById(el.getAttribute("data-echarts"));
    if (!source) { return; }
    var existing = window.echarts.getInstanceByDom(el);
    if (existing) { existing.dispose(); }
    var option = prepare(JSON.parse(source.textContent));
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    chart.on("click", function (params) {
      var url = params.data && params.data.url;
      if (url) { window.location.href = url; }
    });
    el.setAttribute("data-drawn", "1");
    charts.push(chart);
  }

  function drawAll(root) {
    charts = charts.filter(function (c) {
      var dom = c.getDom();
      if (!dom || !document.body.contains(dom)) { c.dispose(); return false; }
      return true;
    });
    (root || document).querySelectorAll("[data-echarts]").forEach(draw);
  }

  window.salescopeCharts = { drawAll: drawAll };
  // A 400 answer carries the form with its messages: show it (htmx keeps error answers out).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 400 && target && target.closest("[data-swap-400]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target || document); });
  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 120);
  });
})();
