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
