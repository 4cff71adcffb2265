// Agent console: 待回电 — callback requests recorded outside service hours (webapp/callbacks.py).
// Shown at the top of the console once an agent is logged in, oldest first, with the
// count in the tab title; one request's detail has what the bot knows and the phone to
// call; the agent marks it done after a call or with a message the customer sees in the
// widget. Everything rendered as text; no inline script or handler (CSP).
(function () {
  const box = document.getElementById("callbacks");
  if (!box) return;
  const baseTitle = document.title;
  const REASONS = {
    asked: "客户要求转人工", anger: "情绪激动", revenge: "投诉升级", fallback: "机器人未能解答",
    lockout: "验证多次失败", complaint: "投诉",
  };
  const PSYCHOLOGY = {
    venting: "发泄型", respect: "尊重型", remedy: "补救型", recognition: "认同型",
    showing: "表现型", revenge: "报复型",
  };
  const { el, messageRow } = window.dxe; // common.js
  const token = () => sessionStorage.getItem("dxe-agent") || "";
  const api = (method, path, body) => window.dxe.api(method, path, { headers: { "X-Agent-Token": token() }, body });
  const when = (iso) => window.dxe.when(iso, { timeZone: "Asia/Shanghai" }, "-");
  const waited = (s) => {
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} 分钟`;
    const h = Math.floor(m / 60);
    return h < 48 ? `${h} 小时 ${m % 60} 分` : `${Math.floor(h / 24)} 天 ${h % 24} 小时`;
  };
  const who = (c) => `${c.customer_name || c.customer_id || "匿名访客"}${c.vip ? "（VIP）" : ""}`;
  const why = (c) => REASONS[c.reason] || c.reason;

  // the section's parts (the page holds only the container)
  const link = el("link");
  link.rel = "stylesheet";
  link.href = "/static/callbacks.css";
  document.head.appendChild(link);
  const count = el("span", "0", "cb-count");
  count.id = "callbacks-count";
  const heading = el("h2", "待回电 ");
  heading.appendChild(count);
  heading.appendChild(el("small", "（非工作时间登记，按登记时间先后）"));
  const list = el("ol");
  list.id = "callback-list";
  const empty = el("p", "没有待回电的请求", "cb-empty");
  empty.id = "callbacks-empty";
  const detail = el("div", undefined, "cb-detail");
  detail.id = "callback-detail";
  detail.hidden = true;
  box.append(heading, list, empty, detail);

  // the console composes one title from its queue and these callbacks (console.js)
  function setCount(n) {
    document.body.dataset.callbacks = String(n);
    if (window.dxeComposeTitle) window.dxeComposeTitle();
    else document.title = n ? `(${n}) 待回电 · ${baseTitle}` : baseTitle;
  }

  let openId = null;
  let loading = false;

  async function refresh() {
    if (!token() || loading) return;
    const desk = document.getElementById("desk");
    if (desk && desk.hidden) return; // not logged in (yet)
    loading = true;
    try {
      const data = await api("GET", "/api/agent/callbacks");
      render(data.callbacks);
    } catch (e) {
      if (e.status === 401) { box.hidden = true; setCount(0); }
    } finally {
      loading = false;
    }
  }

  function render(rows) {
    box.hidden = false;
    box.classList.toggle("cb-has-open", rows.length > 0);
    count.textContent = String(rows.length);
    setCount(rows.length);
    empty.hidden = rows.length > 0;
    list.replaceChildren(...rows.map((c) => {
      const extra = [c.skill_name, why(c), c.psychology ? PSYCHOLOGY[c.psychology] || c.psychology : null,
        c.ticket ? `工单 ${c.ticket}` : null].filter(Boolean).join(" · ");
      const li = el("li", undefined, `tier${c.tier}`);
      li.dataset.callback = String(c.id);
      li.dataset.conversation = c.conversation_id;
      li.append(
        el("b", who(c)),
        el("span", ` ${c.phone || "无手机号"} · ${extra}`),
        el("span", ` · 登记于 ${when(c.queued_at)}（已等 ${waited(c.waiting_s)}）`, "cb-time"),
      );
      if (String(c.id) === String(openId)) li.classList.add("cb-open");
      li.addEventListener("click", () => show(c.id));
      return li;
    }));
  }

  function line(label, value) {
    const p = el("p");
    p.append(el("span", `${label}：`, "cb-label"), el("span", value === null || value === undefined || value === "" ? "-" : String(value)));
    return p;
  }

  async function show(id) {
    openId = id;
    let c;
    try {
      c = await api("GET", `/api/agent/callbacks/${encodeURIComponent(id)}`);
    } catch (e) {
      detail.replaceChildren(el("p", "无法读取该请求（可能已由其他客服处理）", "error"));
      detail.hidden = false;
      return;
    }
    const source = c.phone_source === "order" ? `（订单 ${c.order.id} 预留）` : c.phone_source === "customer" ? "（会员资料）" : "";
    const t = c.ticket_details;
    const parts = [
      el("h4", `回电请求 #${c.id} · ${who(c)}`),
      line("手机", c.phone ? `${c.phone}${source}` : "无手机号：请留言回复"),
      line("客户", c.customer_id || c.verified_customer || "未验证"),
      line("已验证订单", c.order ? `${c.order.id}（${c.order.status}）` : null),
      line("原因", `${why(c)} · 技能组 ${c.skill_name} · 优先级 ${c.tier}`),
      line("投诉心理 / 工单", [c.psychology ? PSYCHOLOGY[c.psychology] || c.psychology : null,
        t ? `${t.number}（${t.kind}${t.psychology ? " · " + (PSYCHOLOGY[t.psychology] || t.psychology) : ""} · ${t.status}）` : c.ticket].filter(Boolean).join(" · ")),
      line("怒气", c.anger ?? 0),
      line("登记时间", `${when(c.queued_at)}（已等 ${waited(c.waiting_s)}）`),
      line("会话", c.conversation_id),
    ];
    const log = el("div", undefined, "cb-messages");
    if (c.tracker_error) log.appendChild(el("p", c.tracker_error, "error"));
    c.messages.forEach((m) => log.appendChild(messageRow(m)));
    parts.push(el("h4", "最近的对话"), log);
    if (c.status === "callback") parts.push(doneForm(c));
    else parts.push(el("p", `已由 ${c.agent_id} 于 ${when(c.contacted_at)} 联系（${c.contact.how === "phone" ? "电话" : "留言"}）`, "cb-ok"));
    detail.replaceChildren(...parts);
    detail.hidden = false;
    log.scrollTop = log.scrollHeight;
    list.querySelectorAll("li").forEach((li) => li.classList.toggle("cb-open", li.dataset.callback === String(id)));
  }

  function doneForm(c) {
    const form = el("form", undefined, "cb-form");
    form.id = "callback-done-form";
    const choice = (value, label, checked) => {
      const l = el("label");
      const r = el("input");
      r.type = "radio";
      r.name = "cb-how";
      r.value = value;
      r.checked = checked;
      l.append(r, el("span", label));
      return l;
    };
    const ways = el("div", undefined, "cb-ways");
    ways.append(choice("phone", "已电话联系", !!c.phone), choice("message", "留言回复（客户回到聊天窗口时可见）", !c.phone));
    const text = el("textarea");
    text.id = "callback-text";
    text.rows = 2;
    text.maxLength = 1000;
    text.placeholder = "留言内容（留空则发送标准回电话术，署您的名字）";
    const note = el("input");
    note.id = "callback-note";
    note.maxLength = 500;
    note.placeholder = "处理备注（仅客服可见）";
    note.autocomplete = "off";
    const submit = el("button", "标记已联系");
    const status = el("p", undefined, "cb-status");
    const sync = () => { text.hidden = form.querySelector("input[name=cb-how]:checked").value !== "message"; };
    ways.addEventListener("change", sync);
    form.append(ways, text, note, submit, status);
    sync();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const how = form.querySelector("input[name=cb-how]:checked").value;
      submit.disabled = true;
      try {
        const r = await api("POST", `/api/agent/callbacks/${encodeURIComponent(c.id)}/done`, {
          how, note: note.value, text: how === "message" ? text.value : "",
        });
        status.textContent = r.message ? `已发送留言：${r.message}` : "已标记为电话联系";
        status.className = "cb-status cb-ok";
        openId = null;
        await refresh();
        form.replaceWith(status);
      } catch (err) {
        status.textContent = err.status === 409 ? "已由其他客服处理" : err.status === 502 ? "留言未能送达，请稍后重试" : `失败：${err.message}`;
        status.className = "cb-status error";
        submit.disabled = err.status === 409;
        if (err.status === 409) refresh();
      }
    });
    return form;
  }

  // the console logs in by itself (console.js); pick the agent up as soon as the desk shows
  const desk = document.getElementById("desk");
  if (desk) new MutationObserver(refresh).observe(desk, { attributes: true, attributeFilter: ["hidden"] });
  refresh();
  setInterval(refresh, 5000);
})();
