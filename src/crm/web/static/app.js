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
