// Helpers shared by the pages' scripts (console, callbacks, training, analytics, shop):
// loaded by each page before its own script, as `window.dxe`. Everything from the server
// reaches the DOM as text (textContent), never as markup. Not used by the chat widget,
// which is a bundle of its own (widget/src).
(function () {
  const $ = (id) => document.getElementById(id);

  // an element with text (set as text, never parsed) and a class
  const el = (tag, text, cls) => {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = text;
    if (cls) n.className = cls;
    return n;
  };

  // fetch JSON; a non-2xx answer throws an Error with the server's `error` and `status`
  async function api(method, path, { headers = {}, body } = {}) {
    const r = await fetch(path, {
      method,
      headers: body === undefined ? headers : { "Content-Type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw Object.assign(new Error(data.error || String(r.status)), { status: r.status });
    return data;
  }

  // an image fetched with the login's headers (an <img src> cannot send them): a blob URL
  async function blobUrl(path, headers) {
    const r = await fetch(path, { headers });
    if (!r.ok) throw Object.assign(new Error(String(r.status)), { status: r.status });
    return URL.createObjectURL(await r.blob());
  }

  // what a page says when a login fails: locked out (429) or its own message
  const loginError = (status, otherwise) => (status === 429 ? "登录失败次数过多，请稍后再试" : otherwise);

  const missing = (x) => x === null || x === undefined;
  const pct = (x) => (missing(x) ? "—" : `${(x * 100).toFixed(1)}%`);
  const num = (x) => (missing(x) ? "—" : Number(x).toFixed(1));
  // a time as agents in China read it; `options` adds e.g. a timeZone, `empty` for none
  const when = (iso, options = {}, empty = "—") =>
    (iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false, ...options }) : empty);

  // a table of text cells; `cellClass(value)` may class a cell (e.g. numbers)
  function table(headers, rows, cellClass = () => "") {
    const t = el("table");
    const head = el("tr");
    headers.forEach((h) => head.appendChild(el("th", h)));
    t.appendChild(head);
    rows.forEach((cells) => {
      const tr = el("tr");
      cells.forEach((c) => tr.appendChild(el("td", String(c), cellClass(c))));
      t.appendChild(tr);
    });
    return t;
  }

  // one message of a conversation's transcript (console and callbacks): who, then what
  function messageRow(m) {
    const kind = m.from === "customer" ? "customer" : m.agent ? "agent" : "bot";
    const who = m.from === "customer" ? "客户" : m.agent ? `人工 ${m.agent}` : "店小二";
    const row = el("div", undefined, `m ${kind}`);
    row.append(el("span", who, "who"), el("span", m.text));
    return row;
  }

  // the chat widget: one script tag, configured with the Rasa socket.io address
  function loadWidget(server, title, color) {
    const tag = document.createElement("script");
    tag.src = "/widget.js";
    tag.dataset.server = server;
    tag.dataset.title = title;
    tag.dataset.color = color;
    document.body.appendChild(tag);
  }

  window.dxe = { $, el, api, blobUrl, loginError, pct, num, when, table, messageRow, loadWidget };
})();
