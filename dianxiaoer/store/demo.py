"""Demo shop data, with times relative to the moment of loading (Asia/Shanghai).

The eight demo orders behave the same whatever the day: 202611010002 is always a
delayed parcel, 202611010003 always inside the seven-day window, and so on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dianxiaoer.service_hours import SHANGHAI
from dianxiaoer.store.models import (
    Customer,
    Order,
    OrderItem,
    Payment,
    Product,
    Shipment,
    Stock,
    TrackingEvent,
)

DRESS_CHART = {
    "S": {"height": [150, 158], "weight": [40, 48]},
    "M": {"height": [158, 165], "weight": [48, 55]},
    "L": {"height": [165, 172], "weight": [55, 63]},
    "XL": {"height": [170, 178], "weight": [63, 72]},
}
TOP_CHART = {
    "M": {"height": [160, 168], "weight": [50, 60]},
    "L": {"height": [168, 175], "weight": [60, 70]},
    "XL": {"height": [175, 182], "weight": [70, 80]},
    "XXL": {"height": [180, 188], "weight": [80, 92]},
}
SHOE_CHART = {str(s): {"foot_length_mm": [225 + (s - 36) * 5, 230 + (s - 36) * 5]} for s in range(36, 45)}

# id, name, category, price, attributes, size chart, stock per size, flags, sales, days since launch
PRODUCTS = [
    ("P001", "连衣裙", "女装", "199.00", {"材质": "雪纺", "颜色": "碎花蓝", "品牌": "店小二自营"}, DRESS_CHART,
     {"S": 12, "M": 0, "L": 8, "XL": 3}, {}, 1520, 20),
    ("P002", "T恤", "男装", "79.00", {"材质": "100%棉", "颜色": "白/黑"}, TOP_CHART,
     {"M": 30, "L": 25, "XL": 10, "XXL": 0}, {}, 3210, 200),
    ("P003", "牛仔裤", "男装", "169.00", {"材质": "棉 98% 氨纶 2%", "版型": "直筒"}, TOP_CHART,
     {"M": 5, "L": 9, "XL": 4, "XXL": 2}, {}, 860, 150),
    ("P004", "羊毛衫", "女装", "299.00", {"材质": "70%羊毛", "颜色": "米白"}, DRESS_CHART,
     {"S": 4, "M": 6, "L": 6, "XL": 0}, {}, 640, 60),
    ("P005", "羽绒服", "女装", "699.00", {"材质": "白鸭绒 90%", "充绒量": "180g"}, DRESS_CHART,
     {"S": 3, "M": 7, "L": 5, "XL": 2}, {}, 410, 10),
    ("P006", "运动鞋", "鞋靴", "359.00", {"材质": "网面+橡胶底", "品牌": "飞跃"}, SHOE_CHART,
     {str(s): 6 for s in range(36, 45)} | {"42": 0}, {}, 2200, 90),
    ("P007", "帆布鞋", "鞋靴", "129.00", {"材质": "帆布"}, SHOE_CHART,
     {str(s): 10 for s in range(36, 45)}, {}, 1800, 400),
    ("P008", "蓝牙耳机", "数码", "259.00", {"续航": "30小时", "防水": "IPX4", "品牌": "声悦"}, None,
     {"": 40}, {}, 2750, 120),
    ("P009", "充电宝", "数码", "129.00", {"容量": "20000mAh", "快充": "22.5W"}, None,
     {"": 55}, {}, 3900, 300),
    ("P010", "台灯", "家居", "149.00", {"光源": "LED 护眼", "调光": "三档"}, None,
     {"": 0}, {}, 520, 45),
    ("P011", "智能手表", "数码", "899.00", {"续航": "7天", "功能": "心率/血氧/NFC"}, None,
     {"": 12}, {}, 330, 7),
    ("P012", "鲜牛奶", "食品", "39.90", {"规格": "950ml×2", "保质期": "7天冷藏"}, None,
     {"": 80}, {"perishable": True}, 5100, 500),
    ("P013", "坚果礼盒", "食品", "128.00", {"规格": "1.2kg/8袋", "保质期": "9个月"}, None,
     {"": 60}, {}, 1400, 100),
    ("P014", "面膜", "美妆", "99.00", {"规格": "10片", "功效": "补水保湿"}, None,
     {"": 100}, {}, 6200, 250),
    ("P015", "定制刻字保温杯", "定制", "89.00", {"容量": "500ml", "定制": "杯身刻字"}, None,
     {"": 200}, {"customized": True}, 980, 180),
    ("P016", "保温杯", "家居", "69.00", {"容量": "500ml", "材质": "316不锈钢"}, None,
     {"": 150}, {}, 2100, 365),
    ("P017", "定制T恤", "定制", "119.00", {"定制": "图案印制"}, TOP_CHART,
     {"M": 50, "L": 50, "XL": 50, "XXL": 50}, {"customized": True}, 310, 60),
    ("P018", "音乐会员兑换码", "虚拟", "15.00", {"时长": "1个月", "发货": "自动发码"}, None,
     {"": 999}, {"digital": True}, 7300, 600),
    ("P019", "电子书阅读卡", "虚拟", "30.00", {"时长": "3个月"}, None,
     {"": 999}, {"digital": True}, 860, 400),
    ("P020", "时尚杂志", "图书", "20.00", {"期数": "2026年11月刊"}, None,
     {"": 300}, {"periodical": True}, 430, 24),
    ("P021", "双肩包", "箱包", "239.00", {"材质": "防泼水尼龙", "容量": "25L"}, None,
     {"": 35}, {}, 1250, 80),
    ("P022", "连帽卫衣", "男装", "189.00", {"材质": "加绒棉"}, TOP_CHART,
     {"M": 8, "L": 12, "XL": 6, "XXL": 3}, {}, 990, 5),
    ("P023", "羊绒围巾", "配饰", "259.00", {"材质": "100%山羊绒"}, None,
     {"": 20}, {}, 760, 30),
    ("P024", "机械键盘", "数码", "399.00", {"轴体": "茶轴", "连接": "有线/蓝牙"}, None,
     {"": 18}, {}, 540, 40),
]

CUSTOMERS = [
    ("C1001", "张伟", "13800001234", "VIP"),
    ("C1002", "李娜", "13900005678", "金卡会员"),
    ("C1003", "王芳", "13700009999", "普通会员"),
]


def load_demo_data(session: Session, now: datetime | None = None) -> bool:
    """Load the demo catalogue, customers and orders if the store has no orders yet.

    Returns True if data was loaded. `now` (aware) is the reference time; default: now
    in Asia/Shanghai.
    """
    if session.scalar(select(func.count()).select_from(Order)):
        return False
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    products = {}
    for pid, name, cat, price, attrs, chart, stock, flags, sales, age in PRODUCTS:
        product = Product(
            id=pid, name=name, category=cat, price=Decimal(price), attributes=attrs,
            size_chart=chart, monthly_sales=sales, launched_at=now - timedelta(days=age),
            stock=[Stock(size=size, quantity=qty) for size, qty in stock.items()],
            **flags,
        )
        products[name] = product
        session.add(product)
    customers = {}
    for cid, name, phone, level in CUSTOMERS:
        customers[cid] = Customer(
            id=cid, name=name, phone=phone, vip_level=level, created_at=now - timedelta(days=400)
        )
        session.add(customers[cid])

    def order(oid, cid, product, size, status, created, **times) -> Order:
        p = products[product]
        o = Order(
            id=oid, customer_id=cid, status=status, created_at=created, total=p.price,
            address=ADDRESSES[cid],
            items=[OrderItem(product_id=p.id, size=size, quantity=1, price=p.price)],
            **times,
        )
        session.add(o)
        return o

    def paid(o: Order, method: str, at: datetime) -> None:
        o.payments.append(Payment(method=method, status="success", amount=o.total, created_at=at))

    def shipped(o: Order, courier: str, number: str, at: datetime, scans) -> Shipment:
        s = Shipment(courier=courier, tracking_number=number, shipped_at=at)
        s.events = [TrackingEvent(time=t, location=loc, description=d) for t, loc, d in scans]
        o.shipments.append(s)
        return s

    h, d = timedelta(hours=1), timedelta(days=1)
    # 1: dress, in transit by 中通, last scan 6 h ago at 上海转运中心
    o1 = order("202611010001", "C1001", "连衣裙", "M", "shipped", now - 3 * d - h,
               paid_at=now - 3 * d, shipped_at=now - 2 * d, promised_ship_by=now - 3 * d + 48 * h)
    paid(o1, "花呗", now - 3 * d)
    shipped(o1, "中通", "ZT7312345678901", now - 2 * d, [
        (now - 2 * d, "杭州仓", "商家已发货，中通快递已揽收"),
        (now - 2 * d + 8 * h, "杭州转运中心", "快件已到达杭州转运中心"),
        (now - 6 * h, "上海转运中心", "快件已到达上海转运中心，正发往下一站"),
    ])
    # 2: earphones, 圆通, last scan 4 days ago at 杭州转运中心: delayed
    o2 = order("202611010002", "C1001", "蓝牙耳机", "", "shipped", now - 6 * d - h,
               paid_at=now - 6 * d, shipped_at=now - 5 * d, promised_ship_by=now - 6 * d + 48 * h)
    paid(o2, "快捷支付", now - 6 * d)
    shipped(o2, "圆通", "YT9876543210987", now - 5 * d, [
        (now - 5 * d, "杭州仓", "商家已发货，圆通速递已揽收"),
        (now - 4 * d, "杭州转运中心", "快件已到达杭州转运中心"),
    ])
    # 3: shoes 42, signed 3 days ago: inside the seven-day window
    o3 = order("202611010003", "C1002", "运动鞋", "42", "signed", now - 7 * d,
               paid_at=now - 7 * d, shipped_at=now - 6 * d, signed_at=now - 3 * d)
    paid(o3, "支付宝", now - 7 * d)
    s3 = shipped(o3, "顺丰", "SF1234567890123", now - 6 * d, [
        (now - 6 * d, "深圳仓", "顺丰速运已收取快件"),
        (now - 3 * d - 2 * h, "北京朝阳营业部", "快件派送中"),
        (now - 3 * d, "北京朝阳区", "已签收，签收人：本人"),
    ])
    s3.delivered_at = now - 3 * d
    # 4: sweater, signed 10 days ago: outside the window
    o4 = order("202611010004", "C1002", "羊毛衫", "M", "signed", now - 14 * d,
               paid_at=now - 14 * d, shipped_at=now - 13 * d, signed_at=now - 10 * d)
    paid(o4, "支付宝", now - 14 * d)
    s4 = shipped(o4, "中通", "ZT7300011122233", now - 13 * d, [
        (now - 13 * d, "杭州仓", "中通快递已揽收"),
        (now - 10 * d, "北京朝阳区", "已签收，签收人：前台"),
    ])
    s4.delivered_at = now - 10 * d
    # 5: customized cup, signed 2 days ago: excluded from no-reason returns
    o5 = order("202611010005", "C1001", "定制刻字保温杯", "", "signed", now - 6 * d,
               paid_at=now - 6 * d, shipped_at=now - 5 * d, signed_at=now - 2 * d)
    paid(o5, "网银", now - 6 * d)
    s5 = shipped(o5, "中通", "ZT7300044455566", now - 5 * d, [
        (now - 5 * d, "杭州仓", "中通快递已揽收"),
        (now - 2 * d, "上海浦东新区", "已签收，签收人：本人"),
    ])
    s5.delivered_at = now - 2 * d
    # 6: fresh milk, signed 1 day ago: perishable, excluded
    o6 = order("202611010006", "C1002", "鲜牛奶", "", "signed", now - 3 * d,
               paid_at=now - 3 * d, shipped_at=now - 2 * d, signed_at=now - d)
    paid(o6, "支付宝", now - 3 * d)
    s6 = shipped(o6, "顺丰", "SF1234500000666", now - 2 * d, [
        (now - 2 * d, "上海冷链仓", "顺丰冷运已收取快件"),
        (now - d, "北京朝阳区", "已签收，签收人：本人"),
    ])
    s6.delivered_at = now - d
    # 7: power bank, created 1 h ago, unpaid; 快捷支付 failed on the bank's single limit
    o7 = order("202611010007", "C1001", "充电宝", "", "unpaid", now - h,
               auto_cancel_at=now - h + 24 * h)
    o7.payments.append(Payment(method="快捷支付", status="failed", failure_reason="limit",
                               amount=o7.total, created_at=now - 50 * timedelta(minutes=1)))
    # 8: desk lamp, paid 3 days ago, not shipped, promised within 48 h: overdue
    o8 = order("202611010008", "C1002", "台灯", "", "paid", now - 3 * d - h,
               paid_at=now - 3 * d, promised_ship_by=now - 3 * d + 48 * h)
    paid(o8, "支付宝", now - 3 * d)
    session.flush()
    return True


ADDRESSES = {
    "C1001": "上海市浦东新区世纪大道 100 号",
    "C1002": "北京市朝阳区建国路 88 号",
    "C1003": "广州市天河区天河路 1 号",
}
