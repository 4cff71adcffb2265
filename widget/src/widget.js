// 店小二 chat widget. Embed with one tag:
//   <script src="https://shop.example/widget.js" data-server="https://bot.example"
//           data-title="店小二" data-color="#ff5000"></script>
// Optional globals set by the page before the tag: window.DXE_CONTEXT (page context sent
// in every message's metadata, e.g. {product: "连衣裙"}) and window.DXE_CUSTOMER_TOKEN
// (the shop login's signed customer token); on the training page window.DXE_TRAINEE_TOKEN
// (the trainee login's token). Everything the bot or an agent sends is
// rendered as text: no innerHTML anywhere.
import { io } from "socket.io-client";

const script = document.currentScript;
const cfg = {
  server: (script && script.dataset.server) || window.location.origin.replace(/:\d+$/, ":5005"),
  api: (script && script.dataset.api) || new URL(script ? script.src : window.location.href).origin,
  title: (script && script.dataset.title) || "店小二客服",
  color: (script && script.dataset.color) || "#ff5000",
};
// WCAG AA: 4.5:1 for normal text. A shop's colour is used as given when white text on it
// is readable; a light colour (yellow, pastel) keeps its colour with dark text; any other
// is darkened until white text is readable. Text in the shop's colour on white (quick
// replies) uses the colour darkened until it reads on white.
const AA = 4.5;
const WHITE = [255, 255, 255];
const DARK = [26, 26, 26];

function rgb(hex) {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(hex || "").trim());
  if (!m) return null;
  const h = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}
function luminance(c) {
  const [r, g, b] = c.map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
function darkenUntil(c, readableOn) {
  for (let t = 0; t <= 1; t += 0.02) {
    const d = c.map((v) => Math.round(v * (1 - t)));
    if (contrast(d, readableOn) >= AA) return d;
  }
  return DARK;
}
const hex = (c) => `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;

function palette(color) {
  const base = rgb(color) || rgb("#ff5000");
  let fill = base;
  let on = WHITE;
  if (contrast(base, WHITE) < AA) {
    if (luminance(base) > 0.3 && contrast(base, DARK) >= AA) on = DARK;
    else fill = darkenUntil(base, WHITE);
  }
  return { fill: hex(fill), on: hex(on), ink: hex(darkenUntil(base, WHITE)) };
}
const colors = palette(cfg.color);

const STORE = "dxe-session";
const state = JSON.parse(localStorage.getItem(STORE) || "{}");
state.messages = state.messages || [];
state.open = !!state.open;
state.unread = state.unread || 0;
const save = () => {
  state.messages = state.messages.slice(-100);
  localStorage.setItem(STORE, JSON.stringify(state));
};

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v);
  }
  children.forEach((c) => node.appendChild(c));
  return node;
}

const css = `
#dxe-root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif}
#dxe-launcher{width:56px;height:56px;border-radius:50%;border:0;color:${colors.on};background:${colors.fill};font-size:15px;font-weight:600;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.25);position:relative}
#dxe-badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#c00;color:#fff;font-size:12px;line-height:20px;display:none}
#dxe-panel{display:none;flex-direction:column;width:360px;height:520px;max-height:80vh;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;position:absolute;right:0;bottom:70px}
#dxe-panel.open{display:flex}
#dxe-header{background:${colors.fill};color:${colors.on};padding:10px 14px;font-weight:600;display:flex;justify-content:space-between;align-items:center}
#dxe-header button{background:none;border:0;color:${colors.on};font-size:24px;line-height:1;min-width:44px;min-height:44px;margin:-8px -10px -8px 0;cursor:pointer}
#dxe-status{background:#fff7e6;color:#8a5a00;font-size:12px;padding:4px 12px;display:none}
#dxe-log{flex:1;overflow-y:auto;padding:10px;background:#f5f5f5}
.dxe-msg{max-width:80%;margin:6px 0;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere}
.dxe-pending{outline:2px dashed #8a5a00;outline-offset:-2px}
.dxe-pending-note{font-size:11px;color:#8a5a00;text-align:right;margin:0 4px}
.dxe-bot{background:#fff;align-self:flex-start}
.dxe-user{background:${colors.fill};color:${colors.on};margin-left:auto}
.dxe-row{display:flex;flex-direction:column}
.dxe-time{font-size:11px;color:#666;margin:0 4px}
.dxe-row.user .dxe-time{text-align:right}
.dxe-buttons{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0}
.dxe-buttons button{border:1px solid ${colors.ink};color:${colors.ink};background:#fff;border-radius:14px;padding:3px 10px;cursor:pointer;font-size:13px}
.dxe-msg img{max-width:100%;border-radius:6px}
#dxe-typing{display:none;color:#666;font-size:12px;padding:0 12px 4px}
#dxe-form{display:flex;border-top:1px solid #eee}
#dxe-input{flex:1;min-width:0;border:0;padding:12px;font-size:16px;min-height:44px;outline:none}
#dxe-send{border:0;background:${colors.fill};color:${colors.on};padding:0 16px;min-width:64px;min-height:44px;font-size:15px;cursor:pointer}
#dxe-conn{background:#fdecea;color:#8c1d18;font-size:12px;padding:4px 12px;display:none}
@media (max-width:480px),(pointer:coarse){.dxe-buttons button{min-height:44px;min-width:44px;padding:6px 14px;font-size:14px}}
@media (max-width:480px){
#dxe-root{right:10px;bottom:10px}
#dxe-root.dxe-open #dxe-launcher{display:none}
#dxe-panel{position:fixed;left:0;right:0;top:var(--dxe-top,0px);bottom:auto;width:100vw;height:var(--dxe-vh,100%);max-height:none;border-radius:0}
#dxe-header{padding-top:max(10px,env(safe-area-inset-top))}
#dxe-form{padding-bottom:env(safe-area-inset-bottom);padding-left:env(safe-area-inset-left);padding-right:env(safe-area-inset-right)}
}
`;

const root = el("div", { id: "dxe-root" });
const badge = el("span", { id: "dxe-badge" });
const launcher = el(
  "button",
  { id: "dxe-launcher", type: "button", "aria-label": "打开客服", "aria-controls": "dxe-panel", "aria-expanded": "false", text: "客服" },
  [badge],
);
const closeButton = el("button", { id: "dxe-close", type: "button", "aria-label": "收起客服窗口", text: "×" });
const header = el("div", { id: "dxe-header" }, [el("span", { text: cfg.title }), closeButton]);
const status = el("div", { id: "dxe-status", role: "status" });
const connection = el("div", { id: "dxe-conn", role: "status", text: "网络已断开，正在重新连接…消息会在连上后发出" });
const log = el("div", { id: "dxe-log", "aria-live": "polite" });
const typing = el("div", { id: "dxe-typing", role: "status", text: "对方正在输入…" });
const input = el("input", {
  id: "dxe-input",
  placeholder: "请输入您的问题",
  maxlength: "500",
  "aria-label": "输入您的问题",
  enterkeyhint: "send",
});
const send = el("button", { id: "dxe-send", type: "submit", text: "发送" });
const form = el("form", { id: "dxe-form" }, [input, send]);
const panel = el("div", { id: "dxe-panel", role: "dialog", "aria-label": cfg.title }, [
  header,
  status,
  connection,
  log,
  typing,
  form,
]);

function clock(ts) {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

function render(msg) {
  const row = el("div", { class: `dxe-row ${msg.from}` });
  if (msg.id) row.dataset.id = msg.id;
  if (msg.text) {
    const bubble = el("div", { class: `dxe-msg dxe-${msg.from}`, text: msg.text });
    if (msg.pending) bubble.classList.add("dxe-pending");
    row.appendChild(bubble);
  }
  if (msg.pending) row.appendChild(el("div", { class: "dxe-pending-note", text: "等待网络，连上后自动发送" }));
  if (msg.image && /^https?:\/\//.test(msg.image)) {
    const bubble = el("div", { class: "dxe-msg dxe-bot" }, [el("img", { src: msg.image, alt: "" })]);
    row.appendChild(bubble);
  }
  if (msg.buttons && msg.buttons.length) {
    const box = el("div", { class: "dxe-buttons" });
    msg.buttons.forEach((b) => {
      const button = el("button", { type: "button", text: b.title });
      button.addEventListener("click", () => sendMessage(b.payload, b.title));
      box.appendChild(button);
    });
    row.appendChild(box);
  }
  row.appendChild(el("div", { class: "dxe-time", text: clock(msg.ts) }));
  log.appendChild(row);
  log.scrollTop = log.scrollHeight;
}

function updateBadge() {
  badge.textContent = String(state.unread);
  badge.style.display = state.unread > 0 && !state.open ? "block" : "none";
}

function setOpen(open, { focus = true } = {}) {
  state.open = open;
  panel.classList.toggle("open", open);
  root.classList.toggle("dxe-open", open);
  launcher.setAttribute("aria-expanded", String(open));
  if (open) {
    state.unread = 0;
    fitViewport();
    if (focus) input.focus();
  } else if (focus) {
    launcher.focus();
  }
  updateBadge();
  save();
}

// On a phone the on-screen keyboard shrinks the visual viewport, not the layout one: the
// full-screen chat follows the visual viewport so the input row stays above the keyboard.
function fitViewport() {
  const vv = window.visualViewport;
  if (!vv) return;
  root.style.setProperty("--dxe-vh", `${Math.round(vv.height)}px`);
  root.style.setProperty("--dxe-top", `${Math.round(vv.offsetTop)}px`);
}

function add(msg) {
  msg.ts = msg.ts || Date.now();
  state.messages.push(msg);
  if (!state.open && msg.from === "bot") state.unread += 1;
  save();
  render(msg);
  updateBadge();
}

// The conversation id is chosen here (as Rasa would: 32 hex digits) and also sent in the
// connection URL, so a load balancer in front of several Rasa replicas can keep every
// request of this conversation on one replica (docs/scaling.md).
function newSessionId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
}
if (!state.sessionId) state.sessionId = newSessionId();
const socket = io(cfg.server, {
  path: "/socket.io",
  transports: ["websocket", "polling"],
  query: { session_id: state.sessionId },
});
socket.on("connect", () => socket.emit("session_request", { session_id: state.sessionId || null }));
socket.on("session_confirm", (id) => {
  const sessionId = typeof id === "object" && id ? id.session_id : id;
  state.sessionId = sessionId;
  save();
  root.dataset.session = sessionId;
  confirmed = true;
  connection.style.display = "none";
  flushOutbox();
  fetchCallbackReplies();
});
socket.on("disconnect", () => {
  confirmed = false;
  connection.style.display = "block";
});
// Back from another app (the tab was hidden): reconnect at once instead of waiting for
// socket.io's back-off; the session id, history and unread count are in localStorage.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !socket.connected) socket.connect();
});
socket.on("bot_uttered", (data) => {
  typing.style.display = "none";
  add({
    from: "bot",
    text: data.text || "",
    buttons: (data.quick_replies || data.buttons || []).map((b) => ({ title: b.title, payload: b.payload })),
    image: data.attachment && data.attachment.payload ? data.attachment.payload.src : null,
  });
});

function metadata() {
  return {
    page: window.DXE_CONTEXT || {},
    customer_token: window.DXE_CUSTOMER_TOKEN || null,
    trainee_token: window.DXE_TRAINEE_TOKEN || null,
  };
}

// Messages typed while the connection is down wait in `state.outbox` (kept in localStorage,
// so a reload keeps them too) and are emitted once when the session is confirmed again.
// A message is emitted only on a confirmed connection, never into socket.io's own buffer,
// so it cannot go out twice.
let confirmed = false;
state.outbox = state.outbox || [];

function emit(item) {
  socket.emit("user_uttered", { message: item.message, session_id: state.sessionId, metadata: metadata() });
  typing.textContent = "对方正在输入…";
  typing.style.display = "block";
  setTimeout(() => (typing.style.display = "none"), 15000);
}

function flushOutbox() {
  if (!confirmed || !state.outbox.length) return;
  const queued = state.outbox;
  state.outbox = [];
  for (const item of queued) {
    emit(item);
    const msg = state.messages.find((m) => m.id === item.id);
    if (msg) delete msg.pending;
    const row = log.querySelector(`[data-id="${item.id}"]`);
    if (row) {
      row.querySelectorAll(".dxe-pending").forEach((n) => n.classList.remove("dxe-pending"));
      row.querySelectorAll(".dxe-pending-note").forEach((n) => n.remove());
    }
  }
  save();
}

function sendMessage(text, shown) {
  const message = String(text || "").trim();
  if (!message) return;
  const item = { id: newSessionId(), message };
  const online = confirmed && socket.connected;
  add({ from: "user", text: shown || message, id: item.id, pending: !online || undefined });
  if (online) emit(item);
  else {
    state.outbox.push(item);
    save();
  }
}

// An agent's reply to a callback request (asked outside service hours) may come while
// this page was closed; Rasa's socket delivers only to open pages, so the widget asks the
// shop for such replies when it connects and shows those it has not shown yet.
async function fetchCallbackReplies() {
  if (!state.sessionId) return;
  try {
    const r = await fetch(`${cfg.api}/api/callback/messages?conversation=${encodeURIComponent(state.sessionId)}`);
    if (!r.ok) return;
    state.callbacks = state.callbacks || [];
    for (const m of await r.json()) {
      if (state.callbacks.includes(m.id)) continue;
      state.callbacks.push(m.id);
      // delivered live already if the page was open then
      if (!state.messages.some((x) => x.from === "bot" && x.text === m.text)) {
        add({ from: "bot", text: m.text, ts: Date.parse(m.time) || Date.now() });
      }
    }
    save();
  } catch (e) {
    /* the shop's API is unreachable: try again on the next connection */
  }
}

let agentTyping = false;
async function pollStatus() {
  if (!state.sessionId || !state.open) return;
  try {
    const r = await fetch(`${cfg.api}/api/handoff/status?conversation=${encodeURIComponent(state.sessionId)}`);
    const s = await r.json();
    if (s.status === "waiting") status.textContent = `正在为您转接人工客服：排队第${s.position}位，预计等待约${s.wait_minutes}分钟`;
    else if (s.status === "active") status.textContent = `人工客服 ${s.agent} 正在为您服务`;
    status.style.display = s.status === "waiting" || s.status === "active" ? "block" : "none";
    if (s.status === "active" && s.typing) {
      typing.textContent = `${s.agent || "人工客服"}正在输入…`;
      typing.style.display = "block";
      agentTyping = true;
    } else if (agentTyping) {
      typing.style.display = "none";
      agentTyping = false;
    }
  } catch (e) {
    status.style.display = "none";
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  sendMessage(input.value);
  input.value = "";
});
launcher.addEventListener("click", () => setOpen(!state.open));
closeButton.addEventListener("click", () => setOpen(false));
panel.addEventListener("keydown", (e) => {
  if (e.key === "Escape") setOpen(false);
});
if (window.visualViewport) {
  window.visualViewport.addEventListener("resize", fitViewport);
  window.visualViewport.addEventListener("scroll", fitViewport);
}

const style = el("style");
style.textContent = css;
document.head.appendChild(style);
root.appendChild(panel);
root.appendChild(launcher);
document.body.appendChild(root);
state.messages.forEach(render);
setOpen(state.open, { focus: false });
setInterval(pollStatus, 3000);
window.DianxiaoerWidget = {
  open: () => setOpen(true),
  send: sendMessage,
  state,
  // a shop page may pause the chat (and tests simulate a dropped connection with it)
  disconnect: () => socket.disconnect(),
  reconnect: () => socket.connect(),
};
