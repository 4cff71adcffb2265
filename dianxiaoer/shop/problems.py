"""Which problem a shopper reports, so the first reply can show it was understood.

A shopper who writes "洗了一次就缩水了" or "少发了一个配件" should not get only "请发一下
订单号": a good agent first names the problem, apologises and says what the shop does
under its policy (return or exchange, reissue, who pays shipping, what evidence to send),
then asks for the order. `problem_kind` finds the kind from cue words in the normalized
message; each kind has its reply in the domain (`utter_problem_<kind>`, wording and policy
placeholders there). Pure Python, no Rasa imports.

The kinds are checked in order: the more specific first (a parcel shown as signed but not
received before a slow delivery; a missing part before a broken product).
"""

from __future__ import annotations

from dianxiaoer.core.text import normalize

#: (kind, cue words). A cue is matched as a substring of the normalized message.
PROBLEM_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "signed_not_received",
        (
            "显示签收",
            "签收了但",
            "签收了可",
            "签收了我没",
            "没收到却",
            "没收到但",
            "没收到货却",
            "没收到显示",
            "被签收",
            "别人签收",
            "不是我签收",
            "谁签收",
        ),
    ),
    (
        "damaged_parcel",
        (
            "外包装破",
            "包装破了",
            "箱子破",
            "箱子烂",
            "纸箱破",
            "压扁",
            "压坏",
            "快递破损",
            "包裹破",
            "盒子破",
            "盒子烂",
            "外箱破",
        ),
    ),
    (
        "wrong_charge",
        (
            "多扣",
            "扣了两次",
            "重复扣款",
            "扣错",
            "扣款两次",
            "付了两次",
            "多收",
            "多付了",
            "钱扣了订单",
            "扣了钱没",
        ),
    ),
    (
        "price_drop",
        (
            "降价",
            "刚买就便宜",
            "买完就便宜",
            "便宜了好多",
            "差价",
            "价保",
            "保价",
            "降了",
            "现在更便宜",
        ),
    ),
    (
        "missing_part",
        (
            "少了一",
            "少了个",
            "少发",
            "漏发",
            "少件",
            "缺了",
            "缺个",
            "缺一",
            "没有配件",
            "配件没",
            "少一个",
            "少一件",
            "少一双",
            "只收到一",
            "赠品没",
            "少寄",
            "漏寄",
            "少给",
            "没给我发",
            "只发了一",
        ),
    ),
    (
        "wrong_item",
        (
            "发错",
            "寄错",
            "不是我买的",
            "不是我要的",
            "颜色不对",
            "尺码不对",
            "型号不对",
            "款式不对",
            "跟我买的不一样",
            "和我买的不一样",
            "货不对",
            "跟我选的不一样",
            "和我选的不一样",
            "跟我拍的不一样",
            "和我拍的不一样",
            "跟我下单的不一样",
        ),
    ),
    (
        "used_item",
        (
            "用过的",
            "二手",
            "旧的",
            "使用痕迹",
            "被人用过",
            "拆封过",
            "拆过的",
            "翻新",
            "有人穿过",
            "穿过的",
            "有划痕",
        ),
    ),
    ("counterfeit", ("假货", "假的", "不是正品", "高仿", "仿冒", "山寨", "盗版")),
    ("shrinking", ("缩水", "缩了", "洗小了", "变小了")),
    ("fading", ("掉色", "褪色", "染色", "串色", "退色")),
    ("leaking", ("漏水", "漏液", "漏了", "渗漏", "洒了", "漏油", "渗出")),
    (
        "smell",
        (
            "异味",
            "臭",
            "味道很大",
            "味道大",
            "刺鼻",
            "霉味",
            "怪味",
            "有味",
            "消毒水味",
            "香精味",
            "塑料味",
            "胶水味",
            "化学味",
            "一股味",
            "一股子味",
            "味儿冲",
            "味道冲",
        ),
    ),
    ("stain", ("污渍", "脏", "污点", "黄斑", "印子", "油渍", "霉点", "斑点")),
    (
        "taste",
        (
            "口感不对",
            "口感很差",
            "味道不对",
            "没什么味道",
            "没有味道",
            "一点味道都没有",
            "哈喇味",
            "变质",
            "发霉",
            "长毛了",
            "受潮",
            "软了不脆",
            "不新鲜",
            "馊了",
            "酸了",
        ),
    ),
    (
        "not_as_described",
        (
            "与描述不符",
            "和描述不符",
            "跟描述不一样",
            "和描述不一样",
            "跟图片不一样",
            "和图片不一样",
            "图片差太多",
            "货不对板",
            "跟宣传的不一样",
            "和宣传的不一样",
            "说好的无添加",
            "说好无添加",
            "虚假宣传",
            "骗人",
        ),
    ),
    (
        "broken",
        (
            "坏了",
            "坏的",
            "碎了",
            "裂了",
            "破了",
            "断了",
            "开胶",
            "开线",
            "不能用",
            "用不了",
            "没反应",
            "开不了机",
            "开不了",
            "不亮",
            "没声",
            "失灵",
            "故障",
            "不转",
            "充不进",
            "起球",
            "做工差",
            "做工粗糙",
            "粗糙",
            "线头",
            "摔坏",
            "摔裂",
            "摔碎",
            "掉毛",
            "质量问题",
            "质量太差",
            "质量差",
            "烧不开",
            "不加热",
            "不制热",
            "不出水",
            "不充电",
            "充不上电",
            "不显示",
            "黑屏",
            "花屏",
            "按不动",
            "按键凹",
            "凹陷",
            "弹不起来",
            "不工作",
            "卡顿",
            "死机",
        ),
    ),
    (
        "stalled",
        (
            "物流不动",
            "物流没动",
            "没更新",
            "没有更新",
            "不更新",
            "卡住",
            "卡在",
            "不动了",
            "停了好几天",
            "一直不动",
            "一直没动",
            "没有物流信息",
            "几天没动",
            "还在揽收",
            "一直揽收",
            "一直显示揽收",
            "一直派送中",
            "显示派送好几天",
            "出库状态",
            "没动静",
            "就是不送",
            "不给送",
            "不派送",
        ),
    ),
    (
        "not_shipped",
        ("还没发货", "怎么还不发", "不发货", "还没发", "没发货", "什么时候发货啊", "几天了还没发"),
    ),
    (
        "slow",
        (
            "太慢",
            "好慢",
            "怎么还没到",
            "还没到",
            "好几天了",
            "这么久",
            "等了好久",
            "还不到",
            "迟迟",
            "慢死",
            "这么慢",
            "怎么这么慢",
            "帮忙加急",
            "帮我加急",
            "都几天了",
            "五六天",
            "一个星期了",
            "一周了",
            "还没送到",
        ),
    ),
)

KINDS = tuple(kind for kind, _ in PROBLEM_CUES)

#: The order journey (`order_topic`) that handles each kind once the order is known.
TOPIC = {
    **{kind: "quality" for kind in KINDS},
    "not_shipped": "urge",
    "slow": "urge",
    "stalled": "urge",
    "signed_not_received": "status",
    "price_drop": "status",
    "wrong_charge": "payment",
}


def problem_kind(text: str | None) -> str | None:
    """The problem a message reports ("shrinking", "missing_part", …), else None."""
    if not text:
        return None
    clean = normalize(text).text
    for kind, cues in PROBLEM_CUES:
        if any(cue in clean for cue in cues):
            return kind
    return None


def response_for(kind: str) -> str:
    """The domain response that acknowledges a problem of this kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown problem kind {kind!r}")
    return f"utter_problem_{kind}"
