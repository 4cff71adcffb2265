// Demo shop: product list, product page (page context for the widget), demo login that
// mints the signed customer token (demo mode only: /api/config says `demo`; production has
// no /api/login), "我的订单". All data is rendered with textContent.
(async function () {
  const { $, el } = window.dxe; // common.js
  const cfg = await (await fetch("/api/config")).json();
  if (!cfg.demo) {
    // no demo login here: the buttons go, and so does a token minted earlier in demo mode
    ["login-zhang", "login-li"].forEach((id) => $(id).remove());
    localStorage.removeItem("dxe-login");
  }
  const login = JSON.parse(localStorage.getItem("dxe-login") || "null");
  window.DXE_CUSTOMER_TOKEN = login ? login.token : null;
  window.DXE_CONTEXT = { page: location.pathname };
  $("who").textContent = login ? `您好，${login.name}` : "未登录";
  $("logout").hidden = !login;

  async function doLogin(customer) {
    const r = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ customer }),
    });
    localStorage.setItem("dxe-login", JSON.stringify(await r.json()));
    localStorage.removeItem("dxe-session"); // a new shopper: a new conversation
    location.reload();
  }
  if (cfg.demo) {
    $("login-zhang").onclick = () => doLogin("C1001");
    $("login-li").onclick = () => doLogin("C1002");
  }
  $("logout").onclick = () => {
    localStorage.removeItem("dxe-login");
    localStorage.removeItem("dxe-session");
    location.reload();
  };

  const products = await (await fetch("/api/products")).json();
  function showProduct(p) {
    $("products").hidden = true;
    const box = $("product");
    box.hidden = false;
    box.replaceChildren(el("h2", p.name), el("p", `¥${p.price}`, "price"),
      el("p", p.in_stock ? "有货" : "暂时缺货", "muted"));
    Object.entries(p.attributes || {}).forEach(([k, v]) => box.appendChild(el("p", `${k}：${v}`)));
    const back = el("button", "返回全部商品");
    back.onclick = () => { location.hash = ""; };
    box.appendChild(back);
    window.DXE_CONTEXT = { page: "product", product: p.name };
  }
  function showList() {
    $("product").hidden = true;
    $("products").hidden = false;
    window.DXE_CONTEXT = { page: "home" };
    const grid = $("products");
    grid.replaceChildren();
    products.forEach((p) => {
      const card = el("div", undefined, "card");
      card.dataset.product = p.id;
      card.append(el("h3", p.name), el("div", `¥${p.price}`, "price"), el("div", p.category, "muted"));
      card.onclick = () => { location.hash = `#product-${p.id}`; };
      grid.appendChild(card);
    });
  }
  async function showOrders() {
    $("products").hidden = true;
    const box = $("orders");
    box.hidden = false;
    window.DXE_CONTEXT = { page: "orders" };
    if (!login) { box.replaceChildren(el("p", cfg.demo ? "请先登录演示账号（张伟或李娜）。" : "请先登录。")); return; }
    const r = await fetch("/api/orders", { headers: { Authorization: `Bearer ${login.token}` } });
    const orders = await r.json();
    const table = el("table");
    const head = el("tr");
    ["订单号", "商品", "状态", "金额"].forEach((h) => head.appendChild(el("th", h)));
    table.appendChild(head);
    const names = { unpaid: "待付款", paid: "待发货", shipped: "运输中", signed: "已签收", cancelled: "已取消" };
    orders.forEach((o) => {
      const tr = el("tr");
      [o.id, o.items, names[o.status] || o.status, `¥${o.total}`].forEach((c) => tr.appendChild(el("td", c)));
      table.appendChild(tr);
    });
    box.replaceChildren(el("h2", "我的订单"), table);
  }
  function route() {
    if (location.pathname === "/orders") return showOrders();
    const m = location.hash.match(/^#product-(\w+)$/);
    const p = m && products.find((x) => x.id === m[1]);
    return p ? showProduct(p) : showList();
  }
  window.addEventListener("hashchange", route);
  route();

  // the widget, in the shop's colour; "?color=%231677ff" tries another one (the widget keeps
  // any colour readable: docs in widget/src/widget.js)
  const wanted = new URLSearchParams(window.location.search).get("color");
  const color = /^#[0-9a-fA-F]{6}$/.test(wanted || "") ? wanted : "#ff5000";
  window.dxe.loadWidget(cfg.rasa, `${cfg.shop} · 店小二`, color);
})();
