// Small sprinkle of JavaScript: htmx requests carry the session's CSRF token; a focus helper.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) event.detail.headers["X-CSRF-Token"] = meta.content;
});
// "/" focuses the page's search box (keyboard-first work), unless the user is typing somewhere.
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
  if (event.key === "/" && !typing) {
    const box = document.querySelector("[data-search]");
    if (box) { event.preventDefault(); box.focus(); }
  }
});
// The language menu applies at once (no inline handler: the pages' CSP allows no inline script).
document.getElementById("language")?.addEventListener("change", (event) => event.target.form.submit());
// A click anywhere on a queue row opens the customer (the row's link is what the keyboard reaches).
document.addEventListener("click", (event) => {
  const row = event.target.closest("table.queue tr[data-href]");
  if (row && !event.target.closest("a") && !window.getSelection().toString()) window.location = row.dataset.href;
});
// Busy indicator: shown once a request has taken ~150 ms (htmx requests, form submits, navigations).
const busy = { requests: new Set(), leaving: false, timer: null };
function showBusy() {
  const on = busy.requests.size > 0 || busy.leaving;
  const bar = document.getElementById("busy");
  if (!on) {
    clearTimeout(busy.timer);
    busy.timer = null;
    if (bar) bar.hidden = true;
    document.body.removeAttribute("aria-busy");
  } else if (!busy.timer) {
    busy.timer = setTimeout(() => {
      if (bar) bar.hidden = false;
      document.body.setAttribute("aria-busy", "true");
    }, 150);
  }
}
document.addEventListener("htmx:beforeSend", (event) => { busy.requests.add(event.detail.xhr); showBusy(); });
for (const name of ["htmx:afterRequest", "htmx:sendError", "htmx:sendAbort", "htmx:timeout"]) {
  document.addEventListener(name, (event) => { busy.requests.delete(event.detail.xhr); showBusy(); });
}
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const url = new URL(link.href, location.href);
  if (link.target || link.hasAttribute("download") || url.origin !== location.origin) return;
  if (/\.[a-z]{2,4}$/i.test(url.pathname)) return; // a file (CSV, PDF): downloaded, the page stays
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  busy.leaving = true;
  showBusy();
});
// Double submit guard: a form already sent is not sent again until its answer came (htmx) or the
// page was left (a plain form). Capture phase: runs before htmx's own submit handler.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.sending) {
    event.preventDefault();
    event.stopImmediatePropagation();
    return;
  }
  form.dataset.sending = "true";
  if (!form.hasAttribute("hx-post") && !form.hasAttribute("hx-get")) {
    setTimeout(() => { if (!event.defaultPrevented) { busy.leaving = true; showBusy(); } });
  }
}, true);
for (const name of ["htmx:afterRequest", "htmx:validation:halted", "htmx:sendError"]) {
  document.addEventListener(name, (event) => {
    const form = event.detail.elt?.closest?.("form") || event.target.closest?.("form");
    if (form) delete form.dataset.sending;
  });
}
// Back to a page from the browser's cache: nothing is being sent any more.
window.addEventListener("pageshow", () => {
  busy.leaving = false;
  busy.requests.clear();
  document.querySelectorAll("form[data-sending]").forEach((form) => delete form.dataset.sending);
  showBusy();
});
// A success notice belongs to the last answer: it goes once the person changes the form again.
document.addEventListener("input", (event) => {
  event.target.closest?.("form")?.parentElement?.querySelector("[data-until-change]")?.remove();
});
