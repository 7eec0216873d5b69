"""Shop: product list with filters (category, price range, free shipping, sort), details, cart, checkout."""

from __future__ import annotations

from coachgym.envs.phone.apps.base import App
from coachgym.envs.phone.state import Order, Product, ShopFilter
from coachgym.envs.phone.ui import Handler
from coachgym.envs.phone.widgets import Layout, View
from coachgym.envs.phone.world import CATEGORIES

SORTS = ["Relevance", "Price: low to high", "Price: high to low", "Rating"]


def describe(product: Product) -> str:
    return f"${product.price} · {'Free shipping' if product.free_shipping else 'Shipping $9'} · ★{product.rating}"


def photo(product: Product) -> str:
    return f"product:{product.id}:{product.category}"


def summary(f: ShopFilter, count: int) -> str:
    parts = [f.category]
    if f.min_price is not None or f.max_price is not None:
        parts.append(f"${f.min_price if f.min_price is not None else 0}–"
                     f"{'$' + str(f.max_price) if f.max_price is not None else 'any'}")
    if f.free_shipping:
        parts.append("Free shipping")
    if f.sort != "Relevance":
        parts.append(f.sort)
    return " · ".join(parts) + f" · {count} results"


class ShopApp(App):
    name = "Shop"

    def page_main(self, ui: Layout, view: View) -> None:
        f = self.state.shop_filter
        draft = {"category": f.category, "min": "" if f.min_price is None else str(f.min_price),
                 "max": "" if f.max_price is None else str(f.max_price), "free": "yes" if f.free_shipping else "",
                 "sort": f.sort}
        ui.appbar("Shop", None, [("Filter", "Filter products", self.go("filter", "", draft)),
                                 (f"Cart ({len(self.state.cart)})", "Open cart", self.go("cart"))])
        products = f.apply(self.state.products)
        ui.text(summary(f, len(products)), style="caption", height=84)
        ui.rows(products, lambda p: ui.row(p.name, describe(p), self.go("product", p.id), image=photo(p)))

    def page_filter(self, ui: Layout, view: View) -> None:
        ui.appbar("Filters", self.up())
        ui.text("Category", style="caption", height=72)
        ui.chips(CATEGORIES, view.fields.get("category", "All"), lambda c: self._draft(view, "category", c))
        ui.text("Sort by", style="caption", height=72)
        ui.chips(SORTS, view.fields.get("sort", "Relevance"), lambda s: self._draft(view, "sort", s))
        free = bool(view.fields.get("free"))
        ui.checkbox("Free shipping only", free, self._draft(view, "free", "" if free else "yes"))
        ui.field("min", "Min price ($)")
        ui.field("max", "Max price ($)")
        ui.buttons([("Reset", self._reset), ("Apply", lambda: self._apply(view))])

    def page_product(self, ui: Layout, view: View) -> None:
        product = self.state.product(view.arg)
        assert product is not None, f"unknown product {view.arg}"
        ui.appbar(product.name, self.up(), [(f"Cart ({len(self.state.cart)})", "Open cart", self.go("cart"))])
        ui.picture(photo(product), f"Photo of {product.name}", height=420)
        for line in [f"${product.price}", "Free shipping" if product.free_shipping else "Shipping: $9",
                     f"Rating: ★{product.rating}", f"Category: {product.category}"]:
            ui.text(line)
        ui.buttons([("Add to cart", self._add(product))])

    def page_cart(self, ui: Layout, view: View) -> None:
        ui.appbar("Cart", self.up())
        items = [p for p in (self.state.product(i) for i in self.state.cart) if p is not None]
        total = sum(p.price for p in items)
        ui.text(f"Total: ${total}", style="title_small", height=96)
        ui.buttons([("Checkout", self.confirm("Place order?", f"Pay ${total} for {len(items)} item(s).",
                                               "Place order", self._checkout) if items else self._empty)])
        ui.rows(list(enumerate(items)), lambda pair: ui.row(pair[1].name, f"${pair[1].price} · tap to remove",
                                                            self._remove(pair[0], pair[1]), image=photo(pair[1])))

    def title(self, view: View) -> str:
        if view.page == "product":
            product = self.state.product(view.arg)
            return product.name if product else "Product"
        return {"main": "Shop", "filter": "Filters", "cart": "Cart"}[view.page]

    def _draft(self, view: View, key: str, value: str) -> Handler:
        def choose() -> None:
            view.fields[key] = value
        return choose

    def _reset(self) -> None:
        self.state.shop_filter = ShopFilter()
        self.finish("Filters cleared")

    def _apply(self, view: View) -> None:
        try:
            low, high = (int(v) if v.strip() else None
                         for v in (view.fields.get("min", ""), view.fields.get("max", "")))
        except ValueError:
            self.device.say("Prices must be whole numbers")
            return
        self.state.shop_filter = ShopFilter(category=view.fields.get("category", "All"), min_price=low,
                                            max_price=high, free_shipping=bool(view.fields.get("free")),
                                            sort=view.fields.get("sort", "Relevance"))
        self.finish("Filters applied")

    def _add(self, product: Product) -> Handler:
        def add() -> None:
            self.state.cart.append(product.id)
            self.device.say(f"Added {product.name} to cart")
        return add

    def _remove(self, index: int, product: Product) -> Handler:
        return self.confirm("Remove item?", f"Remove {product.name} from the cart?", "Remove",
                            lambda: self._drop(index))

    def _drop(self, index: int) -> None:
        del self.state.cart[index]

    def _empty(self) -> None:
        self.device.say("Your cart is empty")

    def _checkout(self) -> None:
        total = sum(p.price for p in (self.state.product(i) for i in self.state.cart) if p is not None)
        self.state.orders.append(Order(product_ids=list(self.state.cart), total=total))
        self.state.cart.clear()
        self.device.say("Order placed")
