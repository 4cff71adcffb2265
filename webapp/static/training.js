// Staff training page: trainee login (roster name/id + token -> signed trainee token the
// widget sends in every message's metadata), practice buttons that talk through the widget,
// progress (mastery per ★ level and topic, role-play averages, score plot); a trainer view
// (agent token of a `trainer: true` agent) of every trainee. Everything rendered as text.
(function () {
  const { $, el, pct, num, when, table, loginError } = window.dxe; // common.js

  let login = JSON.parse(sessionStorage.getItem("dxe-trainee") || "null");
  let agentToken = sessionStorage.getItem("dxe-trainer") || "";
  let plotUrls = {};
  let selected = null;
  let selectedName = "";

  const traineeHeaders = () => ({ Authorization: `Bearer ${login.token}` });
  const trainerHeaders = () => ({ "X-Agent-Token": agentToken });
  const getJson = (path, headers) => window.dxe.api("GET", path, { headers });
  async function showPlot(img, path, headers) {
    let url;
    try {
      url = await window.dxe.blobUrl(path, headers);
    } catch (e) {
      return; // no plot yet: the page keeps the previous one
    }
    if (plotUrls[img.id]) URL.revokeObjectURL(plotUrls[img.id]);
    plotUrls[img.id] = url;
    img.src = url;
  }
  const bucketRow = (name, b) => [name, `${b.correct}/${b.answered}`, pct(b.share), b.average_score === null ? "—" : num(b.average_score * 100)];

  function renderProgress(box, data) {
    const m = data.mastery;
    const parts = [
      el("p", `测验：答题 ${m.quiz.answered} 次，答对 ${m.quiz.correct} 次，正确率 ${pct(m.quiz.share)}`),
      el("h4", "按星级"),
      table(["星级", "答对/答题", "正确率", "平均得分"], Object.entries(m.levels).map(([k, b]) => bucketRow(data.level_names[k] || k, b))),
    ];
    const topics = Object.entries(m.topics);
    if (topics.length) {
      parts.push(el("h4", "按主题"), table(["主题", "答对/答题", "正确率", "平均得分"], topics.map(([k, b]) => bucketRow(k, b))));
    }
    const rp = m.roleplay;
    parts.push(el("h4", "角色扮演"), el("p", `共 ${rp.sessions} 次，平均总分 ${num(rp.average_total)}`));
    const dims = Object.entries(rp.dimensions);
    if (dims.length) parts.push(table(["维度", "平均分"], dims.map(([k, v]) => [(data.dimension_names || {})[k] || k, num(v)])));
    const boxes = Object.entries(data.boxes || {});
    if (boxes.length) {
      parts.push(el("p", `记忆盒：${boxes.map(([b, n]) => `第${b}盒 ${n} 题`).join("，")}（答错的题回到第0盒，很快会再出）`, "muted"));
    }
    box.replaceChildren(...parts);
  }
  function renderRecent(list, recent) {
    list.replaceChildren(...recent.map((a) => {
      if (a.type === "quiz") {
        return el("li", `${when(a.time)} 测验 ${a.topic} · ${a.correct ? "答对" : "答错"}（${Math.round(a.score * 100)}分）`, a.correct ? "ok" : "miss");
      }
      return el("li", `${when(a.time)} 角色扮演 ${a.scenario_id} · ${a.outcome} · 总分 ${a.total}`);
    }));
    if (!recent.length) list.appendChild(el("li", "还没有练习记录：点上面的按钮开始吧。", "muted"));
  }

  // --- trainee ----------------------------------------------------------------------
  async function refreshTrainee(withPlot) {
    try {
      const data = await getJson("/api/training/progress", traineeHeaders());
      renderProgress($("progress"), data);
      renderRecent($("recent"), data.recent);
      if (withPlot) await showPlot($("plot"), "/api/training/plot.png", traineeHeaders());
    } catch (e) {
      if (e.status === 401) logout("登录已过期，请重新登录");
    }
  }
  async function loadWidget() {
    window.DXE_TRAINEE_TOKEN = login.token;
    window.DXE_CONTEXT = { page: "training" };
    const cfg = await getJson("/api/config", {});
    window.dxe.loadWidget(cfg.rasa, "店小二 · 培训陪练", "#1f2d3d");
  }
  function startTrainee() {
    $("login").hidden = true;
    $("desk").hidden = false;
    $("logout").hidden = false;
    $("me").textContent = `${login.name}（${login.trainee}）`;
    loadWidget();
    refreshTrainee(true);
    setInterval(() => refreshTrainee(false), 10000);
    setInterval(() => refreshTrainee(true), 60000);
  }
  document.querySelectorAll("#practice button").forEach((b) => {
    b.onclick = () => {
      const w = window.DianxiaoerWidget;
      if (!w) { $("practice-error").textContent = "对话窗口还在加载，请稍候再点。"; return; }
      $("practice-error").textContent = "";
      w.open();
      w.send(b.dataset.text);
      setTimeout(() => refreshTrainee(true), 4000);
    };
  });
  $("refresh").onclick = () => refreshTrainee(true);
  $("login-form").onsubmit = async (e) => {
    e.preventDefault();
    const r = await fetch("/api/training/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ trainee: $("trainee").value.trim(), token: $("trainee-token").value.trim() }),
    });
    if (!r.ok) { $("login-error").textContent = loginError(r.status, "姓名/工号或令牌不对"); return; }
    login = await r.json();
    sessionStorage.setItem("dxe-trainee", JSON.stringify(login));
    localStorage.removeItem("dxe-session"); // a new trainee: a new conversation
    startTrainee();
  };

  // --- trainer ----------------------------------------------------------------------
  async function showTrainee(id, name) {
    selected = id;
    selectedName = name || "";
    $("trainer-title").textContent = id ? `${name || id}（${id}）` : "全体学员";
    document.querySelectorAll("#trainees tr[data-trainee]").forEach((tr) => tr.classList.toggle("current", tr.dataset.trainee === (id || "")));
    const q = id ? `?trainee=${encodeURIComponent(id)}` : "";
    renderProgress($("trainer-progress"), await getJson(`/api/training/progress${q}`, trainerHeaders()));
    await showPlot($("trainer-plot"), `/api/training/plot.png${q}`, trainerHeaders());
  }
  async function refreshTrainer() {
    const data = await getJson("/api/training/trainees", trainerHeaders());
    const t = el("table");
    const head = el("tr");
    ["学员", "练习", "测验正确率", "角色扮演均分", "最近练习"].forEach((h) => head.appendChild(el("th", h)));
    const all = el("tr");
    all.dataset.trainee = "";
    all.appendChild(el("td", "全体学员"));
    all.onclick = () => showTrainee(null);
    t.append(head, all);
    data.trainees.forEach((s) => {
      const tr = el("tr");
      tr.dataset.trainee = s.trainee_id;
      [s.name ? `${s.name}（${s.trainee_id}）` : s.trainee_id, s.attempts, pct(s.quiz_accuracy), num(s.roleplay_average), when(s.last_active)]
        .forEach((c) => tr.appendChild(el("td", String(c))));
      tr.onclick = () => showTrainee(s.trainee_id, s.name);
      t.appendChild(tr);
    });
    $("trainees").replaceChildren(...t.childNodes);
  }
  async function startTrainer() {
    try {
      await refreshTrainer();
    } catch (e) {
      sessionStorage.removeItem("dxe-trainer");
      $("trainer-error").textContent = e.status === 403 ? "这个坐席不是培训主管" : loginError(e.status, "令牌无效");
      return;
    }
    sessionStorage.setItem("dxe-trainer", agentToken);
    $("login").hidden = true;
    $("trainer").hidden = false;
    $("logout").hidden = false;
    $("me").textContent = "培训主管";
    showTrainee(null);
    setInterval(() => refreshTrainer().then(() => showTrainee(selected, selectedName)), 30000);
  }
  $("trainer-form").onsubmit = (e) => { e.preventDefault(); agentToken = $("agent-token").value.trim(); startTrainer(); };

  function logout(message) {
    sessionStorage.removeItem("dxe-trainee");
    sessionStorage.removeItem("dxe-trainer");
    if (login) localStorage.removeItem("dxe-session");
    if (message) sessionStorage.setItem("dxe-training-message", message);
    location.reload();
  }
  $("logout").onclick = () => logout();
  $("login-error").textContent = sessionStorage.getItem("dxe-training-message") || "";
  sessionStorage.removeItem("dxe-training-message");

  if (login && login.token) startTrainee();
  else if (agentToken) startTrainer();
})();
