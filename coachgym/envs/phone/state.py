"""The phone's app data: the only thing evaluators read.

Every app keeps its data here as pydantic records, so a task's success is a function of this
state alone (never of pixels or of what the agent says it did), and two episodes can be compared
exactly for determinism. UI bookkeeping (which page is open, typed-but-unsaved text) lives in
`device.py`, not here. This module must not import rendering or app code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Contact(BaseModel):
    name: str
    phone: str
    email: str = ""
    favorite: bool = False


class Message(BaseModel):
    """One SMS; `contact` is the thread key (a contact name, or a number for strangers)."""

    contact: str
    body: str
    outgoing: bool
    time: str


class Event(BaseModel):
    title: str
    date: str  # YYYY-MM-DD
    time: str  # HH:MM, 24h
    location: str = ""

    @property
    def when(self) -> str:
        return f"{self.date} {self.time}"


class Note(BaseModel):
    title: str
    body: str = ""


class Product(BaseModel):
    id: str
    name: str
    category: str
    price: int
    free_shipping: bool
    rating: float


class ShopFilter(BaseModel):
    """The filter the shop list applies; tasks such as "wallets 100-300 with free shipping" check it."""

    category: str = "All"
    min_price: int | None = None
    max_price: int | None = None
    free_shipping: bool = False
    sort: Literal["Relevance", "Price: low to high", "Price: high to low", "Rating"] = "Relevance"

    def admits(self, product: Product) -> bool:
        return (
            (self.category == "All" or product.category == self.category)
            and (self.min_price is None or product.price >= self.min_price)
            and (self.max_price is None or product.price <= self.max_price)
            and (not self.free_shipping or product.free_shipping)
        )

    def apply(self, products: list[Product]) -> list[Product]:
        chosen = [p for p in products if self.admits(p)]
        if self.sort == "Price: low to high":
            chosen.sort(key=lambda p: (p.price, p.name))
        elif self.sort == "Price: high to low":
            chosen.sort(key=lambda p: (-p.price, p.name))
        elif self.sort == "Rating":
            chosen.sort(key=lambda p: (-p.rating, p.name))
        return chosen


class Order(BaseModel):
    product_ids: list[str]
    total: int


class Settings(BaseModel):
    wifi: bool = True
    bluetooth: bool = False
    airplane_mode: bool = False
    dark_mode: bool = False
    do_not_disturb: bool = False
    brightness: int = 60


class Notification(BaseModel):
    app: str
    title: str
    text: str
    thread: str = ""


class PhoneState(BaseModel):
    """Everything an evaluator may look at, plus the agent's final `answer`/`goal_status`."""

    clock: str = "2026-11-23 09:41"
    battery: int = 82
    contacts: list[Contact] = []
    messages: list[Message] = []
    events: list[Event] = []
    notes: list[Note] = []
    products: list[Product] = []
    shop_filter: ShopFilter = ShopFilter()
    cart: list[str] = []
    orders: list[Order] = []
    settings: Settings = Settings()
    notifications: list[Notification] = []
    launcher: list[str] = []
    dock: list[str] = Field(default=["Messages", "Contacts", "Calendar", "Shop"],
                            description="Favourite apps in the home screen's dock, left to right.")
    opened: list[str] = Field(default=[], description="Screens the user opened, as 'App/page/arg' (like "
                              "Android's activity history), for tasks whose goal is to open something.")
    answer: str | None = None
    goal_status: Literal["complete", "infeasible"] | None = None

    @property
    def date(self) -> str:
        return self.clock.split(" ")[0]

    @property
    def time(self) -> str:
        return self.clock.split(" ")[1]

    def contact(self, name: str) -> Contact | None:
        return next((c for c in self.contacts if c.name.casefold() == name.casefold()), None)

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)

    def thread(self, contact: str) -> list[Message]:
        return [m for m in self.messages if m.contact == contact]

    def threads(self) -> list[str]:
        """Thread keys, most recent first."""
        order: list[str] = []
        for message in reversed(self.messages):
            if message.contact not in order:
                order.append(message.contact)
        return order
