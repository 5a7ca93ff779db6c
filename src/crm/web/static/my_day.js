// My day: the day's counts are fetched again when the bell hears of something (static/bell.js sends
// "crm:notification"): a payment, a broken promise, a new customer. The bell hears an event as soon
// as it is published; workflow counts it once its consumer has applied it, a moment later: so the
// counts are asked for again a little after, and once more, until they are settled.
(() => {
  const AGAIN_MS = [0, 1500, 5000];
  let timers = [];

  async function refresh() {
    const counts = document.getElementById("my-day-counts");
    if (!counts) return;
    try {
      const response = await fetch(counts.dataset.refresh, {
        headers: { "HX-Request": "true" }, credentials: "same-origin", cache: "no-store",
      });
      if (!response.ok || response.status === 204) return;
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("my-day-counts");
      if (fresh) {
        counts.replaceWith(fresh);
        fresh.dataset.refreshed = String(Number(counts.dataset.refreshed || 0) + 1);
      }
    } catch (e) { /* offline for a moment: the next event or page asks again */ }
  }

  document.body.addEventListener("crm:notification", () => {
    timers.forEach(clearTimeout);
    timers = AGAIN_MS.map((ms) => setTimeout(refresh, ms));
  });
})();

// Which row of the queue the agent opened: "Next customer" (GET /my-day/next) goes on from there
// when that customer has left the queue meanwhile (contacted today). Only a position, no personal data.
document.addEventListener("click", (event) => {
  const row = event.target.closest && event.target.closest("table.queue tr[data-at]");
  if (row) document.cookie = "crm_queue_at=" + Number(row.dataset.at) + "; path=/my-day; samesite=strict";
});
