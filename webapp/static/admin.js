// Shop admin page: FAQ entries (search, add, edit, preview in simplified and traditional,
// disable), policy values and the audit log, behind an admin's agent token
// (webapp/admin.py). Everything from the server is inserted as text, never as HTML.
(function () {
  const { $, el, loginError, when } = window.dxe; // common.js
  // its own key: a console agent's token (not an admin) must not log in here by itself
  let token = sessionStorage.getItem("dxe-admin") || "";
  let faq = { entries: [], retrain: [], topics: [], placeholders: {} };
  let current = null; // the entry being edited (null: a new one)
  let policyFields = [];

  const api = (method, path, body) => window.dxe.api(method, path, { headers: { "X-Agent-Token": token }, body });
  // the server's reasons, one per line ("；" joins them in `error`)
  const reasons = (e) => String(e.message || e).split("；").filter(Boolean);
  const TZ = { timeZone: "Asia/Shanghai" };

  // Words the shop reads for the policy file's sections (config/policy.yml).
  const SECTIONS = {
    shop: "店铺", service: "客服", returns: "退换货", payment: "支付", shipping: "发货物流",
    delivery: "配送签收", delays: "物流延误", compensation: "补偿", verification: "订单验证",
    unpaid: "未付款订单", invoice: "发票", orders: "订单修改", price_protection: "价格保护",
    coupons: "优惠券", promotions: "促销活动", gifts: "赠品", reissue: "补发", shelf_life: "保质期",
    membership: "会员", warranty: "保修", complaints: "投诉处理", followup: "回访", satisfaction: "满意度",
    nlu: "语义理解", knowledge: "知识库检索", training: "员工培训", resilience: "故障时的回复",
    security: "安全", order_api: "订单系统接口",
  };

  // ------------------------------------------------------------------ login and tabs

  async function start() {
    try {
      const me = await api("GET", "/api/admin/me");
      sessionStorage.setItem("dxe-admin", token);
      $("me").textContent = `${me.name}（管理员）`;
      $("login").hidden = true;
      $("desk").hidden = false;
      await Promise.all([loadFaq(), loadPolicy(), loadAudit()]);
      document.body.dataset.loaded = "true";
    } catch (e) {
      sessionStorage.removeItem("dxe-admin");
      $("login-error").textContent = e.status === 403 ? "这个令牌不是管理员（需要 role: admin）" : loginError(e.status, "令牌无效");
    }
  }

  function showTab(name) {
    for (const t of ["faq", "policy", "audit"]) {
      $(`tab-${t}`).setAttribute("aria-selected", String(t === name));
      $(`${t}-panel`).hidden = t !== name;
    }
    if (name === "audit") loadAudit();
  }

  // ------------------------------------------------------------------ FAQ

  async function loadFaq() {
    const q = $("faq-search").value.trim();
    const data = await api("GET", `/api/admin/faq${q ? `?q=${encodeURIComponent(q)}` : ""}`);
    faq = data;
    renderRetrain();
    $("faq-count").textContent = q ? `找到 ${data.entries.length} 条（共 ${data.total} 条）` : `共 ${data.total} 条问答`;
    const list = $("faq-list");
    list.textContent = "";
    data.entries.forEach((entry) => list.appendChild(faqItem(entry)));
    const topics = $("topics");
    topics.textContent = "";
    data.topics.forEach((t) => { const o = el("option"); o.value = t; topics.appendChild(o); });
    renderPlaceholders();
    document.body.dataset.faqLoaded = String(Date.now());
  }

  function renderRetrain() {
    const n = faq.retrain.length;
    $("retrain-note").hidden = n === 0;
    $("retrain-note").textContent = n
      ? `有 ${n} 条问答需要重新训练：新的问法要运行 make train 之后机器人才能识别（答案和检索已立即生效）。`
      : "";
  }

  function badges(entry) {
    const out = [];
    if (entry.origin !== "出厂") out.push(el("span", entry.origin, "badge"));
    if (entry.disabled) out.push(el("span", "已停用", "badge off"));
    if (entry.needs_training) out.push(el("span", "需要重新训练", "badge retrain"));
    return out;
  }

  function faqItem(entry) {
    const li = el("li");
    li.dataset.id = entry.id;
    const b = el("button", undefined, entry.disabled ? "entry off" : "entry");
    b.type = "button";
    b.append(el("span", entry.question, "q"), el("span", `${entry.id} · ${entry.topic}`, "meta"), ...badges(entry));
    b.onclick = () => edit(entry);
    li.appendChild(b);
    return li;
  }

  function renderPlaceholders() {
    const box = $("placeholder-list");
    box.textContent = "";
    Object.entries(faq.placeholders).forEach(([name, value]) => {
      const b = el("button", `{${name}}`, "ph");
      b.type = "button";
      b.title = value;
      b.setAttribute("aria-label", `插入占位符 ${name}：${value}`);
      b.onclick = () => insertPlaceholder(name);
      box.appendChild(b);
    });
  }

  function insertPlaceholder(name) {
    const a = $("f-answer");
    const at = a.selectionStart ?? a.value.length;
    a.value = `${a.value.slice(0, at)}{${name}}${a.value.slice(a.selectionEnd ?? at)}`;
    a.focus();
    schedulePreview();
  }

  function edit(entry) {
    current = entry;
    const form = $("faq-form");
    form.hidden = false;
    $("faq-form-title").textContent = entry ? `编辑：${entry.question}` : "新增问答";
    $("f-id").value = entry ? entry.id : "";
    $("f-id").readOnly = Boolean(entry);
    $("f-topic").value = entry ? entry.topic : "";
    $("f-question").value = entry ? entry.question : "";
    $("f-paraphrases").value = entry ? entry.paraphrases.join("\n") : "";
    $("f-aliases").value = entry ? entry.aliases.join("\n") : "";
    $("f-answer").value = entry ? entry.answer : "";
    $("faq-errors").textContent = "";
    $("faq-saved").textContent = "";
    renderState();
    preview();
    form.scrollIntoView({ block: "nearest" });
  }

  function renderState() {
    const entry = current;
    const state = $("faq-state");
    state.textContent = entry ? `来源：${entry.origin}` : "新问答保存后立即可被检索到；问法需要重新训练后才能被意图模型识别。";
    if (entry) badges(entry).forEach((b) => state.append(" ", b));
    $("faq-toggle").hidden = !entry;
    $("faq-toggle").textContent = entry && entry.disabled ? "启用" : "停用";
    $("faq-revert").hidden = !entry || entry.origin !== "已修改";
  }

  function formEntry() {
    return {
      id: $("f-id").value.trim(),
      topic: $("f-topic").value.trim(),
      question: $("f-question").value.trim(),
      paraphrases: $("f-paraphrases").value,
      aliases: $("f-aliases").value,
      answer: $("f-answer").value,
    };
  }

  let previewTimer = null;
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 250);
  }

  async function preview() {
    const box = $("preview");
    box.dataset.state = "loading";
    try {
      const r = await api("POST", "/api/admin/preview", { answer: $("f-answer").value });
      $("preview-simplified").textContent = r.simplified ?? "（无法预览）";
      $("preview-traditional").textContent = r.traditional ?? "（無法預覽）";
      const notes = $("preview-notes");
      notes.textContent = "";
      r.errors.forEach((m) => notes.appendChild(el("li", m, "error")));
      r.warnings.forEach((m) => notes.appendChild(el("li", m, "warn")));
      box.dataset.state = "ready";
    } catch (e) {
      box.dataset.state = "failed";
    }
  }

  function showErrors(list) {
    const box = $("faq-errors");
    box.textContent = "";
    list.forEach((m) => box.appendChild(el("li", m)));
  }

  async function saveFaq(ev) {
    ev.preventDefault();
    $("faq-saved").textContent = "";
    showErrors([]);
    try {
      const r = current
        ? await api("PUT", `/api/admin/faq/${encodeURIComponent(current.id)}`, formEntry())
        : await api("POST", "/api/admin/faq", formEntry());
      current = r.entry;
      $("f-id").value = r.entry.id;
      $("f-id").readOnly = true;
      $("faq-form-title").textContent = `编辑：${r.entry.question}`;
      const parts = [r.changed ? "已保存，立即生效" : "没有改动"];
      if (r.entry.needs_training) parts.push("问法有改动：需要重新训练（make train）");
      $("faq-saved").textContent = parts.join("；");
      showErrors(r.warnings.map((w) => `提示：${w}`));
      renderState();
      await Promise.all([loadFaq(), loadAudit()]);
    } catch (e) {
      showErrors(reasons(e));
    }
  }

  async function toggleFaq() {
    if (!current) return;
    try {
      const r = await api("PUT", `/api/admin/faq/${encodeURIComponent(current.id)}/status`, { disabled: !current.disabled });
      current = r.entry;
      $("faq-saved").textContent = current.disabled ? "已停用：机器人不再用这条回答" : "已启用";
      renderState();
      await Promise.all([loadFaq(), loadAudit()]);
    } catch (e) {
      showErrors(reasons(e));
    }
  }

  async function revertFaq() {
    if (!current || !window.confirm("恢复为出厂内容？店铺对这条的修改会被撤销（修改记录里仍可查到）。")) return;
    try {
      const r = await api("POST", `/api/admin/faq/${encodeURIComponent(current.id)}/revert`);
      edit(r.entry);
      $("faq-saved").textContent = "已恢复出厂内容";
      await Promise.all([loadFaq(), loadAudit()]);
    } catch (e) {
      showErrors(reasons(e));
    }
  }

  // ------------------------------------------------------------------ policy

  async function loadPolicy() {
    policyFields = (await api("GET", "/api/admin/policy")).fields;
    renderPolicy();
  }

  const shown = (f, v) => (f.kind === "lines" ? v.join("\n") : f.kind === "json" ? JSON.stringify(v) : String(v));

  function renderPolicy() {
    const box = $("policy-list");
    box.textContent = "";
    const q = $("policy-search").value.trim().toLowerCase();
    let section = null;
    policyFields.forEach((f) => {
      const top = f.key.split(".")[0];
      const hay = `${f.key} ${f.note} ${SECTIONS[top] || ""} ${shown(f, f.value)}`.toLowerCase();
      if (q && !hay.includes(q)) return;
      if (top !== section) {
        section = top;
        box.appendChild(el("h2", `${SECTIONS[top] || top}（${top}）`, "section"));
      }
      box.appendChild(policyRow(f));
    });
  }

  function policyRow(f) {
    const row = el("div", undefined, "prow");
    row.dataset.key = f.key;
    const id = `p-${f.key.replace(/[^A-Za-z0-9_-]/g, "-")}`;
    const label = el("label", f.key, "key");
    label.htmlFor = id;
    row.appendChild(label);
    if (f.note) row.appendChild(el("p", f.note, "note"));
    let input;
    if (f.kind === "bool") {
      input = el("select");
      ["true", "false"].forEach((v) => { const o = el("option", v === "true" ? "是 (true)" : "否 (false)"); o.value = v; input.appendChild(o); });
      input.value = String(f.value);
    } else if (f.kind === "lines" || f.kind === "json" || (f.kind === "text" && String(f.value).length > 30)) {
      input = el("textarea");
      input.rows = f.kind === "text" ? 2 : 3;
      input.value = shown(f, f.value);
    } else {
      input = el("input");
      input.value = shown(f, f.value);
      if (f.kind === "int" || f.kind === "number") input.inputMode = "decimal";
    }
    input.id = id;
    input.className = "value";
    input.autocomplete = "off";
    const save = el("button", "保存");
    save.type = "button";
    save.className = "save";
    const state = el("span", "", "state");
    state.setAttribute("aria-live", "polite");
    const controls = el("div", undefined, "controls");
    controls.append(input, save);
    row.appendChild(controls);
    if (f.changed) {
      const back = el("button", "恢复出厂值");
      back.type = "button";
      back.className = "reset";
      back.onclick = () => { input.value = shown(f, f.shipped); savePolicy(f, input, row, state); };
      row.append(el("span", `已修改（出厂值：${shown(f, f.shipped)}）`, "badge"), back);
    }
    row.appendChild(state);
    save.onclick = () => savePolicy(f, input, row, state);
    return row;
  }

  function policyValue(f, input) {
    if (f.kind === "bool") return input.value === "true";
    return input.value; // the server reads numbers, lines and JSON from the text
  }

  async function savePolicy(f, input, row, state) {
    state.className = "state";
    state.textContent = "保存中…";
    try {
      const r = await api("PUT", "/api/admin/policy", { key: f.key, value: policyValue(f, input) });
      const i = policyFields.findIndex((x) => x.key === f.key);
      policyFields[i] = r.field;
      const fresh = policyRow(r.field);
      row.replaceWith(fresh);
      const note = fresh.querySelector(".state");
      note.className = "state ok";
      note.textContent = r.changed ? "已保存，立即生效" : "没有改动";
      // answers quote policy values: the preview and the placeholders change with them
      await Promise.all([loadAudit(), loadFaq()]);
      if (!$("faq-form").hidden) preview();
    } catch (e) {
      state.className = "state error";
      state.textContent = reasons(e).join("；");
    }
  }

  // ------------------------------------------------------------------ audit

  // what changed, short: the fields of an FAQ entry that differ, or a policy value
  function change(row) {
    const fmt = (v) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));
    if (row.kind !== "faq" || !row.before || !row.after) return [fmt(row.before), fmt(row.after)];
    const keys = ["question", "topic", "answer", "paraphrases", "aliases", "disabled"]
      .filter((k) => JSON.stringify(row.before[k]) !== JSON.stringify(row.after[k]));
    const names = { question: "标准问题", topic: "分类", answer: "答案", paraphrases: "问法", aliases: "别名", disabled: "停用" };
    const side = (obj) => keys.map((k) => `${names[k]}：${fmt(obj[k])}`).join("\n") || "—";
    return [side(row.before), side(row.after)];
  }

  async function loadAudit() {
    const data = await api("GET", "/api/admin/audit?limit=100");
    const box = $("audit-list");
    box.textContent = "";
    if (!data.entries.length) {
      box.appendChild(el("p", "还没有修改记录", "muted"));
      return;
    }
    const kinds = { faq: "问答", policy: "政策" };
    const rows = data.entries.map((r) => {
      const [before, after] = change(r);
      return [when(r.time, TZ), `${r.name || ""}（${r.agent}）`, kinds[r.kind] || r.kind, r.target, r.action, before, after];
    });
    const headers = ["时间", "操作人", "类别", "对象", "操作", "修改前", "修改后"];
    const t = window.dxe.table(headers, rows);
    t.id = "audit-table";
    // on a phone each row is a card and every cell says what it is (admin.css)
    t.querySelectorAll("tr").forEach((tr) => [...tr.children].forEach((td, i) => { td.dataset.label = headers[i]; }));
    box.appendChild(t);
  }

  // ------------------------------------------------------------------ wiring

  let searchTimer = null;
  $("faq-search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadFaq, 250);
  });
  $("policy-search").addEventListener("input", renderPolicy);
  $("faq-new").onclick = () => edit(null);
  $("faq-close").onclick = () => { $("faq-form").hidden = true; current = null; };
  $("faq-form").addEventListener("submit", saveFaq);
  $("faq-toggle").onclick = toggleFaq;
  $("faq-revert").onclick = revertFaq;
  $("f-answer").addEventListener("input", schedulePreview);
  for (const t of ["faq", "policy", "audit"]) $(`tab-${t}`).onclick = () => showTab(t);
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token").value.trim();
    start();
  });
  if (token) start();
})();
