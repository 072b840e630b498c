// Draws every chart on the page from its JSON configuration (rendered by the server from the
// same scoped figures as the data table next to it). Chart.js is served from node_modules.
(function () {
  "use strict";

  // The value matrix's thresholds: a dashed vertical and horizontal line splitting the quadrants.
  const quadrantLines = {
    id: "quadrantLines",
    afterDatasetsDraw(chart, _args, options) {
      if (!options || options.x == null || options.y == null) return;
      const { ctx, chartArea: area, scales } = chart;
      const x = scales.x.getPixelForValue(options.x);
      const y = scales.y.getPixelForValue(options.y);
      ctx.save();
      ctx.strokeStyle = "#6b7785";
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      if (x >= area.left && x <= area.right) { ctx.moveTo(x, area.top); ctx.lineTo(x, area.bottom); }
      if (y >= area.top && y <= area.bottom) { ctx.moveTo(area.left, y); ctx.lineTo(area.right, y); }
      ctx.stroke();
      ctx.restore();
    },
  };

  function pointLabel(context) {
    const raw = context.raw || {};
    const value = "(" + Number(raw.x).toLocaleString() + ", " + Number(raw.y).toLocaleString() + ")";
    return (raw.name ? raw.name + " " : "") + value;
  }

  function draw() {
    if (!window.Chart) return;
    Chart.register(quadrantLines);
    Chart.defaults.animation = false; // charts appear at once, and screenshots are stable
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    document.querySelectorAll("script[data-chart-for]").forEach(function (script) {
      const canvas = document.getElementById(script.dataset.chartFor);
      if (!canvas || Chart.getChart(canvas)) return;
      const config = JSON.parse(script.textContent);
      if (config.type === "scatter") {
        config.options.plugins = config.options.plugins || {};
        config.options.plugins.tooltip = { callbacks: { label: pointLabel } };
      }
      new Chart(canvas, config);
      canvas.dataset.chartReady = "true";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
