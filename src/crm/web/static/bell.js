// The agent's notification bell: live notifications by server-sent events (GET /notifications/stream).
// The list survives page changes in sessionStorage; opening the list marks everything read.
(() => {
  const bell = document.getElementById("bell");
  if (!bell || !window.EventSource) return;
  const button = bell.querySelector("button");
  const panel = bell.querySelector("#bell-panel");
  const list = bell.querySelector("[data-list]");
  const empty = bell.querySelector("[data-empty]");
  const count = bell.querySelector("[data-unread]");
  const countText = bell.querySelector("[data-unread-text]");
  const announce = bell.querySelector("[data-announce]");
  const key = "crm-bell:" + bell.dataset.key;
  const MAX = 50;
  let state = { items: [], read: [] };
  try { state = JSON.parse(sessionStorage.getItem(key)) || state; } catch (e) { /* a fresh list */ }

  const save = () => sessionStorage.setItem(key, JSON.stringify(state));
  const unread = () => state.items.filter((item) => !state.read.includes(item.id)).length;

  function draw() {
    list.replaceChildren(...state.items.map((item) => {
      const li = document.createElement("li");
      li.className = "bell-item " + item.kind.toLowerCase().replaceAll("_", "-");
      const link = document.createElement("a");
      link.href = item.href;
      const label = document.createElement("strong");
      label.textContent = item.label;
      link.append(label, " ", item.text);
      if (!state.read.includes(item.id)) {
        li.classList.add("unread");
        const fresh = document.createElement("span");
        fresh.className = "badge open";
        fresh.textContent = bell.dataset.new;
        link.prepend(fresh, " ");
      }
      const at = document.createElement("span");
      at.className = "muted small";
      at.textContent = item.at;
      li.append(link, at);
      return li;
    }));
    empty.hidden = state.items.length > 0;
    drawCount();
  }

  function drawCount() {
    const n = unread();
    count.textContent = String(n);
    count.hidden = n === 0;
    countText.textContent = n ? bell.dataset.unreadLabel.replace("{n}", n) : "";
  }

  function add(item) {
    if (state.items.some((known) => known.id === item.id)) return;
    state.items.unshift(item);
    state.items = state.items.slice(0, MAX);
    const ids = state.items.map((known) => known.id);
    state.read = state.read.filter((id) => ids.includes(id));
    save();
    draw();
    announce.textContent = item.label + ": " + item.text;
    // What the page shows may have changed (My day's counts): it listens for this.
    document.body.dispatchEvent(new CustomEvent("crm:notification", { detail: item }));
  }

  function show(open) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) {  // shown with their "New" marks, counted as read from now on
      draw();
      state.read = state.items.map((item) => item.id);
      save();
      drawCount();
    }
  }

  button.addEventListener("click", () => show(panel.hidden));
  bell.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) { show(false); button.focus(); }
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !bell.contains(event.target)) show(false);
  });

  draw();
  // The previous page's stream was ready at state.since: what reached the server since (while the
  // browser moved between pages) comes first; those already listed are dropped by add().
  const url = bell.dataset.stream + (state.since ? "?since=" + encodeURIComponent(state.since) : "");
  const source = new EventSource(url);
  source.addEventListener("notification", (event) => add(JSON.parse(event.data)));
  source.addEventListener("ready", (event) => {
    bell.dataset.live = "true";
    try { state.since = JSON.parse(event.data).at || state.since; } catch (e) { /* keep the last */ }
    save();
  });
  source.addEventListener("error", () => { bell.dataset.live = "false"; });
  window.addEventListener("pagehide", () => source.close());
})();
