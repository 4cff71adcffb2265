// Analytics page: the same metrics and charts as `make report`, behind the agent login.
// Every text from the server is inserted as text (textContent), never as HTML.
(() => {
  const { $, el, pct } = window.dxe; // common.js
  let token = sessionStorage.getItem("dxe-agent") || "";
  const urls = [];

  function query() {
    const p = new URLSearchParams();
    for (const k of ["since", "until", "channel"]) if ($(k).value) p.set(k, $(k).value);
    return p.toString();
  }

  const headers = () => ({ "X-Agent-Token": token });
  const api = (path) => window.dxe.api("GET", path, { headers: headers() });

  const min = (s) => (s === null || s === undefined ? "–" : (s / 60).toFixed(1) + " min");
  const hrs = (s) => (s === null || s === undefined ? "–" : (s / 3600).toFixed(1) + " h");

  // numbers right-aligned (class "n")
  const table = (headers, rows) => window.dxe.table(headers, rows, (c) => (typeof c === "number" ? "n" : ""));

  function section(id, title, chart, tables) {
    const s = el("section", undefined, "block");
    s.id = "section-" + id;
    s.appendChild(el("h2", title));
    if (chart) {
      const img = el("img");
      img.alt = chart;
      img.dataset.chart = chart;
      s.appendChild(img);
      window.dxe.blobUrl(`/api/analytics/charts/${chart}?${query()}`, headers())
        .then((u) => { urls.push(u); img.src = u; })
        .catch(() => { img.alt = chart + " (failed)"; });
    }
    tables.forEach((t) => s.appendChild(t));
    return s;
  }

  function render(m) {
    urls.splice(0).forEach((u) => URL.revokeObjectURL(u));
    const t = m.totals, r = m.resolution, h = m.handoffs, fb = m.fallbacks, cs = m.csat;
    const kpis = [
      ["conversations", "会话", t.conversations],
      ["customer_messages", "顾客消息", t.customer_messages],
      ["resolution_rate", "解决率", pct(r.rate)],
      ["handoff_rate", "转人工率", pct(h.rate)],
      ["fallback_rate", "未识别率", pct(fb.rate)],
      ["csat", "平均满意度", cs.average === null ? "–" : cs.average.toFixed(2)],
    ];
    const box = $("kpis");
    box.textContent = "";
    kpis.forEach(([id, label, value]) => {
      const k = el("div", label, "kpi");
      k.id = "kpi-" + id;
      k.appendChild(el("b", String(value)));
      box.appendChild(k);
    });
    const sel = $("channel"), current = sel.value;
    sel.textContent = "";
    sel.appendChild(new Option("全部", ""));
    m.channels.forEach((c) => sel.appendChild(new Option(c, c)));
    sel.value = current;

    const a = m.agents, co = m.complaints, de = m.delays, rt = m.returns, cb = m.callbacks;
    const parts = [
      section("daily", "每日会话 Conversations per day", "daily", [
        table(["day", "conversations", "customer msgs", "bot msgs", "agent msgs"],
          m.per_day.map((d) => [d.day, d.conversations, d.customer_messages, d.bot_messages, d.agent_messages])),
      ]),
      section("resolution", "解决率 Resolution", "resolution", [
        table(["", "conversations"], [["resolved", r.resolved], ["unresolved", r.unresolved],
          ...Object.entries(r.causes)]),
      ]),
      section("handoffs", "转人工 Handoffs", "handoffs", [
        table(["reason", "handoffs"], Object.entries(h.by_reason)),
        table(["status", "handoffs"], Object.entries(h.by_status)),
        table(["", "count", "mean", "median", "p90"], [
          ["time to agent", h.time_to_agent.count, min(h.time_to_agent.mean_s), min(h.time_to_agent.median_s), min(h.time_to_agent.p90_s)],
          ["first reply", a.first_reply.count, min(a.first_reply.mean_s), min(a.first_reply.median_s), min(a.first_reply.p90_s)],
        ]),
        table(["agent", "claimed", "first replies", "mean first reply"],
          a.per_agent.map((x) => [x.agent, x.handoffs, x.count, min(x.mean_s)])),
      ]),
      section("callbacks", "回电 Callbacks", null, [
        table(["", "count"], [["requested 登记", cb.requested], ["contacted 已联系", cb.contacted],
          ["open 待回电", cb.open], ...Object.entries(cb.by_way).map(([w, n]) => [`contacted by ${w}`, n])]),
        table(["", "count", "mean", "median", "p90"], [["time to contact 回电用时", cb.time_to_contact.count,
          hrs(cb.time_to_contact.mean_s), hrs(cb.time_to_contact.median_s), hrs(cb.time_to_contact.p90_s)]]),
      ]),
      section("fallbacks", "未识别 Fallbacks", "fallbacks", [
        table(["guessed intent", "bot turns", "fallbacks", "rate"],
          fb.per_intent.map((p) => [p.intent, p.turns, p.fallbacks, pct(p.rate)])),
        table(["confused pair", "fallbacks"], fb.confused_pairs.map((p) => [p.pair.join(" / "), p.count])),
      ]),
      section("intents", "热门意图与知识 Top intents and knowledge", "intents", [
        table(["intent", "messages"], m.intents.map((i) => [i.intent, i.count])),
        table(["entry", "kind", "answers"], m.knowledge.map((k) => [k.title, k.kind, k.count])),
      ]),
      section("unanswered", "未能回答的问题 Unanswered questions", "unanswered", [
        table(["question (masked)", "messages", "similar", "examples"],
          m.unanswered.groups.map((g) => [g.text, g.count, g.distinct, g.examples.join(" ｜ ")])),
      ]),
      section("csat", "满意度 CSAT", "csat", [
        table(["score", "ratings"], Object.entries(cs.distribution)),
        table(["journey", "ratings", "average"], cs.per_journey.map((j) => [j.journey, j.count, j.average])),
      ]),
      section("complaints", "投诉 Complaints", "complaints", [
        table(["psychology", "tickets"], Object.entries(co.by_psychology)),
        table(["escalation", "tickets"], Object.entries(co.by_escalation)),
        table(["priority", "tickets"], Object.entries(co.by_priority)),
      ]),
      section("orders", "物流延迟与退货 Delays and returns", "orders", [
        table(["delays", "count"], [["no scan", de.detected.no_scan], ["unshipped", de.detected.unshipped],
          ["urge tickets", de.urge_tickets], ["compensated", de.compensated]]),
        table(["return reason", "requests"], Object.entries(rt.by_reason)),
        table(["refused", "replies"], Object.entries(rt.refused)),
      ]),
    ];
    const sections = $("sections");
    sections.textContent = "";
    parts.forEach((p) => sections.appendChild(p));
  }

  async function load() {
    try {
      const me = await api("/api/agent/me");
      sessionStorage.setItem("dxe-agent", token);
      $("me").textContent = me.name;
      $("login").hidden = true;
      $("board").hidden = false;
      const m = await api("/api/analytics/metrics?" + query());
      $("board-error").textContent = "";
      render(m);
      document.body.dataset.loaded = "true";
    } catch (e) {
      if (e.status === 401 || e.status === 429) {
        sessionStorage.removeItem("dxe-agent");
        $("login").hidden = false;
        $("board").hidden = true;
        $("login-error").textContent = window.dxe.loginError(e.status, token ? "令牌无效 (invalid token)" : "");
      } else {
        $("board-error").textContent = "加载失败：" + e.message;
      }
    }
  }

  $("login-form").onsubmit = (e) => { e.preventDefault(); token = $("token").value.trim(); load(); };
  $("filters").onsubmit = (e) => { e.preventDefault(); load(); };
  if (token) load();
})();
