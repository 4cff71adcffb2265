"""Pre-sale product questions answered from the shop store's catalogue."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import metadata_value, survives_store_outage
from dianxiaoer.core.policy import get_policy
from dianxiaoer.shop import presale
from dianxiaoer.shop.orders import advise_size
from dianxiaoer.store import repository


def _question(tracker: Tracker) -> str:
    message = tracker.latest_message
    return str(message.get("text") or "")


def _named_products(tracker: Tracker, text: str, names: list[str]) -> list[str]:
    """Catalogue products named in the message, in the order written.

    Both entities (synonyms mapped, e.g. 耳机 -> 蓝牙耳机) and names written out count.
    """
    found = [
        (int(e.get("start") or 0), e["value"])
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == "product" and e.get("value") in names
    ]
    found += [(text.find(n), n) for n in presale.find_product_names(text, names)]
    ordered: list[str] = []
    for _, name in sorted(found, key=lambda pair: pair[0]):
        if name not in ordered:
            ordered.append(name)
    return ordered


#: The question back when the product is unknown, naming what was asked about.
WHICH_PRODUCT = {
    "price": "utter_ask_which_product_price",
    "size": "utter_ask_which_product_size",
    "stock": "utter_ask_which_product_stock",
}


@survives_store_outage
class ActionAnswerProduct(Action):
    """Price, stock by size, size advice and the reply that fits the buyer's motive."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_answer_product"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Answer about the product named now, or the one talked about before."""
        text = _question(tracker)
        products = {p.name: p for p in repository.catalogue()}
        named = _named_products(tracker, text, list(products))
        if len(named) >= 2:
            self._compare(dispatcher, products[named[0]], products[named[1]])
            return [SlotSet("product", named[1])]
        # "这个有货吗" on a product page means that product (the widget's page context)
        page = metadata_value(tracker, "page")
        on_page = page.get("product") if isinstance(page, dict) else None
        name = named[0] if named else on_page if on_page in products else None
        name = name or tracker.get_slot("product")
        motive = presale.buyer_motive(text)
        if motive == "congzhong" and not name:
            name = max(products.values(), key=lambda p: p.monthly_sales).name
        if motive == "qiuxin" and not name:
            # the newest launch; a product without a launch date counts as the oldest
            name = max(
                products.values(),
                key=lambda p: p.launched_at.timestamp() if p.launched_at else float("-inf"),
            ).name
        if not name or name not in products:
            aspect = presale.asked_aspect(text)
            response = WHICH_PRODUCT.get(aspect) if aspect else None
            dispatcher.utter_message(response=response or "utter_ask_which_product")
            return []
        product = products[name]
        values = {
            **get_policy().reply_values(),
            "product": product.name,
            "price": f"{product.price:.2f}",
            "attributes": presale.attributes_text(product.attributes),
            "monthly_sales": product.monthly_sales,
        }
        size = presale.asked_size(text)
        height, weight = presale.height_weight(text)
        advised = advise_size(product.size_chart, height, weight)
        if advised and height is not None and weight is not None:  # advised needs both
            in_stock = product.stock.get(advised, 0) > 0
            dispatcher.utter_message(
                response="utter_size_advice" if in_stock else "utter_size_advice_out_of_stock",
                size=advised,
                height=int(height),
                weight=int(weight),
                **values,
            )
        elif size and size in product.stock:
            response = "utter_stock_size_yes" if product.stock[size] > 0 else "utter_stock_size_no"
            others = "、".join(s for s, q in product.stock.items() if q > 0 and s != size)
            dispatcher.utter_message(response=response, size=size, others=others or "—", **values)
        else:
            total = sum(product.stock.values())
            dispatcher.utter_message(
                response="utter_product_info" if total else "utter_product_sold_out", **values
            )
        if motive:
            dispatcher.utter_message(response=f"utter_motive_{motive}", **values)
        return [SlotSet("product", product.name)]

    @staticmethod
    def _compare(dispatcher: CollectingDispatcher, a, b) -> None:
        """Two products side by side: price, attributes, sales."""
        dispatcher.utter_message(
            response="utter_product_compare",
            a=a.name,
            a_price=f"{a.price:.2f}",
            a_attributes=presale.attributes_text(a.attributes),
            a_sales=a.monthly_sales,
            b=b.name,
            b_price=f"{b.price:.2f}",
            b_attributes=presale.attributes_text(b.attributes),
            b_sales=b.monthly_sales,
            cheaper=a.name if a.price <= b.price else b.name,
            popular=a.name if a.monthly_sales >= b.monthly_sales else b.name,
        )
