// Agent console: queue (ACD order), claim, transcript + what the bot knows, reply,
// canned replies (话术规范), hand back to the bot. Everything rendered as text.
(function () {
  const { $, el, loginError, messageRow } = window.dxe; // common.js
  let token = sessionStorage.getItem("dxe-agent") || "";
  let current = null;
  // Words an agent reads, not the codes the API uses (dianxiaoer/shop/handoff.py).
  const SKILLS = { presale: "售前", insale: "售中", aftersale: "售后", complaint: "投诉" };
  const REASONS = {
    asked: "顾客要求人工",
    fallback: "机器人连续没听懂",
    anger: "顾客连续生气",
    threat: "顾客威胁投诉/差评",
    revenge: "报复型投诉",
    lockout: "订单验证被锁定",
  };
  const skill = (code) => SKILLS[code] || code;
  const reason = (code) => REASONS[code] || code;
  const TITLE = document.title;
  // One title for both lists of the console (callbacks.js counts its own): "(2) 排队
  // (1) 待回电 · 人工客服工作台"; the numbers show in a background tab too.
  function composeTitle() {
    const waiting = Number(document.body.dataset.waiting || 0);
    const callbacks = Number(document.body.dataset.callbacks || 0);
    const parts = [];
    if (waiting) parts.push(`(${waiting}) 排队`);
    if (callbacks) parts.push(`(${callbacks}) 待回电`);
    document.title = parts.length ? `${parts.join(" ")} · ${TITLE}` : TITLE;
  }
  window.dxeComposeTitle = composeTitle;
  let waitingBefore = 0;

  // A short beep when a new customer starts waiting (opt-in: browsers allow sound only
  // after the agent has interacted with the page; the choice is remembered).
  let audio = null;
  function beep() {
    if (localStorage.getItem("dxe-console-sound") !== "on") return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
    } catch (e) {
      /* no audio on this device */
    }
  }
  const api = (method, path, body) => window.dxe.api(method, path, { headers: { "X-Agent-Token": token }, body });

  async function start() {
    try {
      const me = await api("GET", "/api/agent/me");
      sessionStorage.setItem("dxe-agent", token);
      $("me").textContent = `${me.name}（${me.supervisor ? "主管 · 全部技能组" : me.skills.map(skill).join("/")}）`;
      $("login").hidden = true;
      $("desk").hidden = false;
      const canned = await api("GET", "/api/agent/canned");
      Object.values(canned).flat().forEach((t) => {
        const b = el("button", t.length > 14 ? `${t.slice(0, 14)}…` : t);
        b.type = "button";
        b.title = t;
        b.onclick = () => { $("reply").value = t; $("reply").focus(); };
        $("canned").appendChild(b);
      });
      refresh();
      setInterval(refresh, 2000);
    } catch (e) {
      $("login-error").textContent = loginError(e.status, "令牌无效");
    }
  }

  async function refresh() {
    const q = await api("GET", "/api/agent/queue");
    // the count in the tab title is seen even when the console is in a background tab
    document.body.dataset.waiting = String(q.waiting.length);
    composeTitle();
    if (q.waiting.length > waitingBefore) beep();
    waitingBefore = q.waiting.length;
    $("queue-empty").hidden = q.waiting.length > 0;
    $("active-empty").hidden = q.active.length > 0;
    $("queue").replaceChildren(...q.waiting.map((w) => {
      const offer = w.offered_to ? ` → 已分配给 ${w.offered_to}` : "";
      const li = el("li", `#${w.position} ${skill(w.skill_group)} · ${reason(w.reason)} · ${w.conversation_id.slice(0, 8)}${offer}`, `tier${w.tier}`);
      li.dataset.conversation = w.conversation_id;
      li.onclick = async () => {
        try {
          await api("POST", "/api/agent/claim", { conversation_id: w.conversation_id });
        } catch (e) {
          $("facts").textContent = `无法接入该会话：${e.message}`;
          return;
        }
        open(w.conversation_id);
        refresh();
      };
      return li;
    }));
    $("active").replaceChildren(...q.active.map((a) => {
      const li = el("li", a.conversation_id.slice(0, 12));
      li.dataset.conversation = a.conversation_id;
      li.onclick = () => open(a.conversation_id);
      return li;
    }));
    if (current) show(current);
  }

  // conversation ids are whatever the customer's channel chose ("/", "..", Chinese...):
  // always sent encoded in the query string or in the JSON body, never as a path segment
  async function show(id) {
    const c = await api("GET", `/api/agent/conversation?id=${encodeURIComponent(id)}`);
    const f = c.facts;
    const ticket = c.ticket ? ` · 工单 ${c.ticket.number}（${c.ticket.kind}${c.ticket.psychology ? " · " + c.ticket.psychology : ""}）` : "";
    $("facts").textContent = `会话 ${id} · 技能组 ${c.handoff ? skill(c.handoff.skill_group) : "-"} · 原因 ${c.handoff ? reason(c.handoff.reason) : "-"} · 客户 ${f.verified_customer || "未验证"} · 订单 ${f.verified_order || "-"} · 怒气 ${f.anger ?? 0}${ticket}`;
    const box = $("transcript");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 5;
    box.replaceChildren(...c.messages.map(messageRow));
    if (atBottom) box.scrollTop = box.scrollHeight;
  }
  function open(id) { current = id; show(id); }

  $("login-form").onsubmit = (e) => { e.preventDefault(); token = $("token").value.trim(); start(); };
  $("sound").checked = localStorage.getItem("dxe-console-sound") === "on";
  $("sound").onchange = () => {
    localStorage.setItem("dxe-console-sound", $("sound").checked ? "on" : "off");
    if ($("sound").checked) beep();
  };
  $("claim-next").onclick = async () => {
    try { const r = await api("POST", "/api/agent/claim", {}); open(r.conversation_id); refresh(); } catch (e) { /* empty queue */ }
  };
  // "人工客服正在输入…" in the customer's widget, at most one signal every 2 s
  let typingSent = 0;
  $("reply").addEventListener("input", () => {
    if (!current || Date.now() - typingSent < 2000) return;
    typingSent = Date.now();
    api("POST", "/api/agent/typing", { conversation_id: current }).catch(() => {});
  });
  $("reply-form").onsubmit = async (e) => {
    e.preventDefault();
    if (!current || !$("reply").value.trim()) return;
    await api("POST", "/api/agent/reply", { conversation_id: current, text: $("reply").value });
    $("reply").value = "";
    show(current);
  };
  $("handback-form").onsubmit = async (e) => {
    e.preventDefault();
    if (!current) return;
    await api("POST", "/api/agent/handback", { conversation_id: current, summary: $("summary").value });
    $("summary").value = "";
    current = null;
    $("transcript").replaceChildren();
    $("facts").textContent = "";
    refresh();
  };
  if (token) start();
})();
