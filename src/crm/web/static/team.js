// Team dashboard charts (Chart.js 4). The figures come as JSON in <script type="application/json">
// elements; every chart repeats figures that are also in a table of the page (for screen readers).
(function () {
  "use strict";
  const COLOURS = { made: "#0b4f8a", kept: "#1b6e35", broken: "#a3212a", rate: "#8a5a00", bars: "#4d5766" };

  function read(id, root) {
    const node = (root || document).querySelector("#" + id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function draw(canvasId, config, root) {
    const canvas = (root || document).querySelector("#" + canvasId);
    if (!canvas || typeof Chart === "undefined") return;
    const existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    config.options = Object.assign(
      { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom" } } },
      config.options || {}
    );
    new Chart(canvas, config);
    canvas.dataset.drawn = "true";
  }

  function dashboard(root) {
    const data = read("team-data", root);
    if (!data) return;
    const c = data.charts, t = data.text;
    draw("chart-promises", {
      type: "bar",
      data: {
        labels: c.labels,
        datasets: [
          { label: t.made, data: c.promises.made, backgroundColor: COLOURS.made },
          { label: t.kept, data: c.promises.kept, backgroundColor: COLOURS.kept },
          { label: t.broken, data: c.promises.broken, backgroundColor: COLOURS.broken },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }, root);
    draw("chart-rates", {
      type: "bar",
      data: {
        labels: c.labels,
        datasets: [
          { label: t.contactRate, data: c.contactRate.map(Number), backgroundColor: COLOURS.made },
          { label: t.keptRate, data: c.keptRate.map(Number), backgroundColor: COLOURS.kept },
        ],
      },
      options: { scales: { y: { beginAtZero: true, max: 100 } } },
    }, root);
    // Amounts are exact decimal strings; they become numbers here only to size the bars.
    draw("chart-collected", {
      type: "bar",
      data: { labels: c.labels, datasets: [{ label: t.collected, data: c.collected.map(Number), backgroundColor: COLOURS.kept }] },
      options: {
        indexAxis: "y",
        scales: { x: { beginAtZero: true, ticks: { callback: (v) => Number(v).toLocaleString("vi-VN") } } },
      },
    }, root);
    draw("chart-buckets", {
      type: "bar",
      data: { labels: c.buckets.labels, datasets: [{ label: t.loans, data: c.buckets.counts, backgroundColor: COLOURS.bars }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }, root);
  }

  function trend(root) {
    const data = read("trend-data", root);
    if (!data) return;
    const c = data.chart, t = data.text;
    draw("chart-trend", {
      type: "line",
      data: {
        labels: c.labels,
        datasets: [
          { label: t.made, data: c.made, borderColor: COLOURS.made, backgroundColor: COLOURS.made },
          { label: t.kept, data: c.kept, borderColor: COLOURS.kept, backgroundColor: COLOURS.kept },
          { label: t.broken, data: c.broken, borderColor: COLOURS.broken, backgroundColor: COLOURS.broken, borderDash: [6, 4] },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }, root);
  }

  function drawAll() {
    dashboard(document);
    trend(document);
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.target && event.target.querySelector && event.target.querySelector("#trend-data")) trend(document);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
