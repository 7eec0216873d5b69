"""The built-in shop: search with filters, product pages, a cart and checkout.

Backend state (evaluators read it): `products`, `cart(product_id, qty)`, `orders` and
`order_items`. Pages are plain server-rendered HTML forms, so every step is a real navigation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coachgym.envs.browser.apps.server import Request, Response, WebApp, esc, redirect

CATALOG = json.loads((Path(__file__).parent / "data" / "shop.json").read_text(encoding="utf-8"))
SHIPPING = {"Standard": 4.0, "Express": 12.0}
SORTS = {"relevance": "p.id", "price-asc": "p.price ASC", "price-desc": "p.price DESC", "rating": "p.rating DESC"}


class ShopApp(WebApp):
    name = "shop"
    title = "Shop"
    nav = [("Home", ""), ("Cart", "cart"), ("Orders", "orders")]
    schema = """
    CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL, color TEXT,
                           rating REAL, stock INTEGER, description TEXT);
    CREATE TABLE cart (product_id INTEGER PRIMARY KEY, qty INTEGER);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT, address TEXT, shipping TEXT, payment TEXT, total REAL);
    CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, qty INTEGER);
    """

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "", self.home),
            ("GET", "search", self.search),
            ("GET", r"product/(\d+)", self.product),
            ("POST", "cart/add", self.cart_add),
            ("GET", "cart", self.cart),
            ("POST", "cart/update", self.cart_update),
            ("POST", "cart/remove", self.cart_remove),
            ("GET", "checkout", self.checkout),
            ("POST", "checkout", self.place_order),
            ("GET", r"order/(\d+)", self.order),
            ("GET", "orders", self.orders),
        ]

    def seed(self, setup: dict[str, Any]) -> None:
        for item in CATALOG:
            self.db.execute("INSERT INTO products (name, category, price, color, rating, stock, description) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(item.values()))
        for name, qty in setup.get("cart", []):
            self.db.execute("INSERT INTO cart SELECT id, ? FROM products WHERE name = ?", (qty, name))

    # ----------------------------------------------------------------- pages
    def _search_form(self, request: Request) -> str:
        categories = [row[0] for row in self.db.execute("SELECT DISTINCT category FROM products ORDER BY category")]
        options = "".join(f'<option{" selected" if c == request.arg("category") else ""}>{esc(c)}</option>'
                          for c in ["All", *categories])
        sorts = "".join(f'<option value="{k}"{" selected" if k == request.arg("sort") else ""}>{esc(k)}</option>'
                        for k in SORTS)
        return f"""<form action="{self.url('search')}" method="get" role="search">
        <div class="field"><label for="q">Search</label><input id="q" name="q" value="{esc(request.arg('q'))}"></div>
        <div class="field"><label for="category">Category</label><select id="category" name="category">{options}</select></div>
        <div class="field"><label for="max_price">Max price</label>
          <input id="max_price" name="max_price" type="number" value="{esc(request.arg('max_price'))}"></div>
        <div class="field"><label for="sort">Sort by</label><select id="sort" name="sort">{sorts}</select></div>
        <button type="submit">Search</button></form>"""

    def _product_table(self, rows: list[tuple[Any, ...]]) -> str:
        if not rows:
            return "<p>No products match.</p>"
        body = "".join(f'<tr><td><a href="{self.url(f"product/{pid}")}">{esc(name)}</a></td><td>{esc(cat)}</td>'
                       f"<td>${price:.2f}</td><td>{rating}</td></tr>" for pid, name, cat, price, rating in rows)
        return f"<table><tr><th>Product</th><th>Category</th><th>Price</th><th>Rating</th></tr>{body}</table>"

    def home(self, request: Request) -> Response:
        rows = self.db.execute("SELECT id, name, category, price, rating FROM products ORDER BY rating DESC LIMIT 6")
        return self.page("Welcome to the Shop", self._search_form(request) + "<h2>Top rated</h2>"
                         + self._product_table(rows.fetchall()))

    def search(self, request: Request) -> Response:
        sql = "SELECT p.id, p.name, p.category, p.price, p.rating FROM products p WHERE p.name LIKE ?"
        params: list[Any] = [f"%{request.arg('q')}%"]
        if request.arg("category") not in ("", "All"):
            sql += " AND p.category = ?"
            params.append(request.arg("category"))
        try:
            if request.arg("max_price"):
                sql += " AND p.price <= ?"
                params.append(float(request.arg("max_price")))
        except ValueError:
            pass
        sql += " ORDER BY " + SORTS.get(request.arg("sort"), "p.id")
        rows = self.db.execute(sql, params).fetchall()
        return self.page("Search results", self._search_form(request) + f"<p>{len(rows)} result(s)</p>"
                         + self._product_table(rows))

    def product(self, request: Request, pid: str) -> Response:
        row = self.db.execute("SELECT name, category, price, color, rating, stock, description FROM products "
                              "WHERE id = ?", (int(pid),)).fetchone()
        if row is None:
            return self.page("Not found", "<p>No such product.</p>", status=404)
        name, category, price, color, rating, stock, description = row
        return self.page(name, f"""<p>{esc(description)}</p>
        <table><tr><th>Price</th><td>${price:.2f}</td></tr><tr><th>Category</th><td>{esc(category)}</td></tr>
        <tr><th>Color</th><td>{esc(color)}</td></tr><tr><th>Rating</th><td>{rating}</td></tr>
        <tr><th>In stock</th><td>{stock}</td></tr></table>
        <form action="{self.url('cart/add')}" method="post"><input type="hidden" name="product_id" value="{pid}">
        <div class="field"><label for="qty">Quantity</label><input id="qty" name="qty" type="number" value="1" min="1"></div>
        <button type="submit">Add to cart</button></form>""")

    def cart_add(self, request: Request) -> Response:
        qty = _positive_int(request.arg("qty"), 1)
        self.db.execute("INSERT INTO cart VALUES (?, ?) ON CONFLICT(product_id) DO UPDATE SET qty = qty + ?",
                        (int(request.arg("product_id") or 0), qty, qty))
        self.db.commit()
        return redirect(self.url("cart"))

    def _cart_rows(self) -> list[tuple[Any, ...]]:
        return self.db.execute("SELECT p.id, p.name, p.price, c.qty FROM cart c JOIN products p ON p.id = c.product_id "
                               "ORDER BY p.name").fetchall()

    def cart(self, request: Request) -> Response:
        rows = self._cart_rows()
        if not rows:
            return self.page("Your cart", '<p>Your cart is empty.</p>')
        body = "".join(f"""<tr><td>{esc(name)}</td><td>${price:.2f}</td><td>
          <form class="inline" action="{self.url('cart/update')}" method="post">
          <input type="hidden" name="product_id" value="{pid}">
          <input name="qty" type="number" min="0" value="{qty}" aria-label="Quantity of {esc(name)}">
          <button type="submit" aria-label="Update {esc(name)}">Update</button></form></td><td>
          <form class="inline" action="{self.url('cart/remove')}" method="post">
          <input type="hidden" name="product_id" value="{pid}">
          <button type="submit" aria-label="Remove {esc(name)}">Remove</button></form></td></tr>"""
                       for pid, name, price, qty in rows)
        total = sum(price * qty for _, _, price, qty in rows)
        return self.page("Your cart", f"<table><tr><th>Product</th><th>Price</th><th>Quantity</th><th></th></tr>"
                         f"{body}</table><p>Subtotal: ${total:.2f}</p>"
                         f'<a href="{self.url("checkout")}">Proceed to checkout</a>')

    def cart_update(self, request: Request) -> Response:
        qty = _positive_int(request.arg("qty"), 0)
        pid = int(request.arg("product_id") or 0)
        if qty == 0:
            self.db.execute("DELETE FROM cart WHERE product_id = ?", (pid,))
        else:
            self.db.execute("UPDATE cart SET qty = ? WHERE product_id = ?", (qty, pid))
        self.db.commit()
        return redirect(self.url("cart"))

    def cart_remove(self, request: Request) -> Response:
        self.db.execute("DELETE FROM cart WHERE product_id = ?", (int(request.arg("product_id") or 0),))
        self.db.commit()
        return redirect(self.url("cart"))

    def checkout(self, request: Request, error: str = "") -> Response:
        rows = self._cart_rows()
        if not rows:
            return self.page("Checkout", "<p>Your cart is empty.</p>")
        shipping = "".join(f'<option value="{k}">{k} (${v:.2f})</option>' for k, v in SHIPPING.items())
        items = "".join(f"<li>{qty} x {esc(name)}</li>" for _, name, _, qty in rows)
        error_html = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        return self.page("Checkout", f"""{error_html}<ul>{items}</ul>
        <form action="{self.url('checkout')}" method="post">
        <div class="field"><label for="name">Full name</label><input id="name" name="name"></div>
        <div class="field"><label for="address">Address</label><input id="address" name="address"></div>
        <div class="field"><label for="shipping">Shipping</label><select id="shipping" name="shipping">{shipping}</select></div>
        <fieldset><legend>Payment</legend>
          <input type="radio" id="pay-card" name="payment" value="Card" checked><label for="pay-card">Card</label>
          <input type="radio" id="pay-cod" name="payment" value="Cash on delivery"><label for="pay-cod">Cash on delivery</label>
        </fieldset><button type="submit">Place order</button></form>""")

    def place_order(self, request: Request) -> Response:
        rows = self._cart_rows()
        if not request.arg("name") or not request.arg("address"):
            return self.checkout(request, error="Please enter your full name and address.")
        if not rows:
            return redirect(self.url("cart"))
        shipping = request.arg("shipping") if request.arg("shipping") in SHIPPING else "Standard"
        total = sum(price * qty for _, _, price, qty in rows) + SHIPPING[shipping]
        order_id = self.db.execute("INSERT INTO orders (name, address, shipping, payment, total) VALUES (?, ?, ?, ?, ?)",
                                   (request.arg("name"), request.arg("address"), shipping,
                                    request.arg("payment") or "Card", round(total, 2))).lastrowid
        self.db.executemany("INSERT INTO order_items VALUES (?, ?, ?)", [(order_id, pid, qty) for pid, _, _, qty in rows])
        self.db.execute("DELETE FROM cart")
        self.db.commit()
        return redirect(self.url(f"order/{order_id}"))

    def order(self, request: Request, order_id: str) -> Response:
        row = self.db.execute("SELECT name, shipping, total FROM orders WHERE id = ?", (int(order_id),)).fetchone()
        if row is None:
            return self.page("Not found", "<p>No such order.</p>", status=404)
        return self.page(f"Order {order_id} confirmed", f"<p>Thank you, {esc(row[0])}. Shipping: {esc(row[1])}. "
                         f"Total: ${row[2]:.2f}</p>")

    def orders(self, request: Request) -> Response:
        rows = self.db.execute("SELECT id, name, total FROM orders ORDER BY id").fetchall()
        items = "".join(f'<li><a href="{self.url(f"order/{oid}")}">Order {oid}</a> for {esc(name)}: ${total:.2f}</li>'
                        for oid, name, total in rows)
        return self.page("Your orders", f"<ul>{items}</ul>" if rows else "<p>No orders yet.</p>")


def _positive_int(text: str, default: int) -> int:
    try:
        return max(0, min(int(float(text)), 999))
    except ValueError:
        return default
