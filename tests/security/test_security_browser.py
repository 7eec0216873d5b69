"""The browser boundary holds against an agent hunting for reward (issue #16).

Each test plays the shortcut an RL agent found or could find and asserts it earns nothing: opening
documents it writes itself (data:, blob:, javascript:), scoring from a page other than the task's,
reaching other loopback ports (WebRTC, WebSocket, preconnect), and hanging `step()` with a page
stuck in a loop. Where a hostile *page* is needed (the agent cannot write one any more), the test
plays the page through Playwright, as tests/browser does for page behaviour.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from urllib.parse import quote

import pytest

from coachgym.envs.browser import BrowserEnv
from coachgym.envs.browser.env import CLOSE_HUNG_S
from coachgym.envs.browser.expert import find_element
from coachgym.envs.browser.miniwob import HTML_DIR
from tests.browser.conftest import app_env, miniwob_env  # noqa: F401 - shared module-scoped envs

WOB_HACK = "data:text/html,<script>WOB_DONE_GLOBAL=true;WOB_RAW_REWARD_GLOBAL=1;WOB_REWARD_GLOBAL=1</script>"
CART_SQL = "SELECT product_id, qty FROM cart"


def _reset(env, task_id):
    return env.reset(seed=0, options={"task_id": task_id})[0]


def _cart_post_page(origin: str, product_id: int) -> str:
    form = (f"<form method=post action='{origin}/shop/cart/add'><input name=product_id value={product_id}>"
            "<input name=qty value=1></form><script>document.forms[0].submit()</script>")
    return "data:text/html," + quote(form)


def _product_id(env, name: str) -> int:
    return env.world.apps["shop"].query("SELECT id FROM products WHERE name = ?", (name,))[0][0]


# ----------------------------------------------------------------------------------- documents the agent writes
@pytest.mark.parametrize("url", [
    WOB_HACK,
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<b>x</b>",
    "blob:http://127.0.0.1:1/0b3e5b5c-2f43-4c1e-9a59-7d8f1d2e8a11",
    "javascript:document.forms[0].submit()",
    " java\nscript:alert(1)",
    "file:///etc/hostname",
    "view-source:http://127.0.0.1:1/",
    "about:version",
    "http://127.0.0.1:9/",
])
def test_agent_cannot_open_a_url_outside_the_tasks_sites(app_env, url):  # noqa: F811
    obs = _reset(app_env, "shop-0-0")
    start_url = app_env.session.page.url
    for action in (f"goto({url!r})", f"new_tab({url!r})"):
        obs, reward, terminated, _, info = app_env.step(action)
        assert "is blocked" in info["action_error"] and "Only these sites are reachable" in info["action_error"]
        assert obs["text"].startswith("Invalid action:") and not terminated and reward == 0.0
        assert [page.url for page in app_env.session.pages] == [start_url]  # nothing opened, no tab left over


def test_data_page_that_posts_to_the_cart_earns_nothing(app_env):  # noqa: F811
    _reset(app_env, "shop-0-0")  # "Add 1 x 'Blue Ceramic Mug' to the shopping cart."
    origin = re.match(r"http://[^/]+", app_env.session.page.url).group(0)
    post = _cart_post_page(origin, _product_id(app_env, "Blue Ceramic Mug"))
    _, _, _, _, info = app_env.step(f"goto({post!r})")
    assert "is blocked" in info["action_error"]
    # Even a data: document that exists (played here by the test, as a hostile page would) cannot
    # change the shop: Chromium marks its request cross-site and the app refuses it.
    page = app_env.session.page
    page.goto(post)
    page.wait_for_url(lambda url: url.startswith(origin))  # the form went to the shop
    assert app_env.world.apps["shop"].query(CART_SQL) == []
    assert "answer only their own pages" in page.content()
    _, reward, terminated, _, info = app_env.step("answer()")
    assert terminated and reward == 0.0 and not info["success"]


def test_frames_showing_foreign_documents_are_blanked(app_env):  # noqa: F811
    obs = _reset(app_env, "shop-0-0")
    page = app_env.session.page
    page.evaluate("""() => {
        const framed = (src) => { const f = document.createElement('iframe'); f.src = src; document.body.appendChild(f); };
        framed('data:text/html,<p>written by someone</p>');
        framed(URL.createObjectURL(new Blob(['<p>made in memory</p>'], {type: 'text/html'})));
    }""")
    deadline = time.monotonic() + 3
    while not all(frame.url.startswith(("data:", "blob:")) for frame in page.frames[1:]):
        assert time.monotonic() < deadline, [frame.url for frame in page.frames]
        page.wait_for_timeout(20)
    obs, _, _, _, info = app_env.step("scroll(0, 10)")
    assert "action_error" not in info
    assert [frame.url for frame in page.frames[1:]] == ["about:blank", "about:blank"]
    blocked = re.search(r"^Blocked \(only local sites are reachable\): (.*)$", obs["text"], re.MULTILINE).group(1)
    assert "data:text/html,<p>written by someone</p>" in blocked and "blob:http://127.0.0.1:" in blocked
    outline = obs["text"].split("\nPage: ", 1)[1]
    assert "written by someone" not in outline and "made in memory" not in outline


# ----------------------------------------------------------------------------------- MiniWoB reward provenance
def test_miniwob_reward_globals_from_a_data_page_earn_nothing(miniwob_env):  # noqa: F811
    _reset(miniwob_env, "miniwob.enter-text")
    _, _, _, _, info = miniwob_env.step(f"goto({WOB_HACK!r})")
    assert "is blocked" in info["action_error"]
    # A foreign document with those globals in the active tab (played by the test) has no say either:
    # the task page is no longer the active tab, which ends the episode as the agent's failure.
    miniwob_env.session.new_page().goto(WOB_HACK)
    _, reward, terminated, _, info = miniwob_env.step("scroll(0, 10)")
    assert terminated and reward == -1.0 and not info["success"] and "action_error" not in info
    assert "another tab" in info["evaluation"]["detail"]


def test_miniwob_solving_an_easier_task_in_another_tab_earns_nothing(miniwob_env):  # noqa: F811
    _reset(miniwob_env, "miniwob.enter-text")
    obs, reward, terminated, _, info = miniwob_env.step(
        f'new_tab("{(HTML_DIR / "miniwob" / "click-test.html").as_uri()}")')
    assert "action_error" not in info and "(active)" in obs["text"].split("|")[-1]
    assert terminated and reward == -1.0 and not info["success"]  # left the task page: no chance to solve the other
    assert obs["text"].startswith("You left the task page (another tab became the active one)")


def test_miniwob_reloading_the_task_page_to_reroll_it_earns_nothing(miniwob_env):  # noqa: F811
    _reset(miniwob_env, "miniwob.click-test")
    _, reward, terminated, _, info = miniwob_env.step(
        f'goto("{(HTML_DIR / "miniwob" / "click-test.html").as_uri()}")')
    assert "action_error" not in info
    assert terminated and reward == -1.0 and "reloaded or navigated away" in info["evaluation"]["detail"]


def test_miniwob_file_urls_outside_the_task_pages_are_unreachable(miniwob_env):  # noqa: F811
    folder = (HTML_DIR / "miniwob").as_uri()
    for url in ("file:///etc/hostname", folder + "/../../../../../../../../etc/hostname",
                folder + "/%2e%2e/%2E%2e/.%2e/%2e./%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/hostname",
                folder + "\\..\\..\\..\\..\\..\\..\\..\\..\\etc\\hostname"):
        _reset(miniwob_env, "miniwob.click-test")
        start_url = miniwob_env.session.page.url
        obs, _, _, _, info = miniwob_env.step(f"goto({url!r})")
        assert "is blocked" in info["action_error"] and socket.gethostname() not in obs["text"]
        assert miniwob_env.session.page.url == start_url


# ----------------------------------------------------------------------------------- sockets
class _LoopbackListener:
    """A TCP and a UDP socket on one loopback port, recording whatever reaches them."""

    def __init__(self):
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.arrived: list[str] = []
        for target in (self._accept, self._receive):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.tcp.accept()
            except OSError:
                return
            self.arrived.append("tcp")
            connection.close()

    def _receive(self):
        while True:
            try:
                self.udp.recvfrom(4096)
            except OSError:
                return
            self.arrived.append("udp")

    def close(self):
        self.tcp.close()
        self.udp.close()


HOSTILE_PAGE_JS = """async ({port, app}) => {
    const here = `127.0.0.1:${port}`;
    window.events = [];
    for (const url of [`ws://${here}/`, `ws://${app}/`]) {
        const ws = new WebSocket(url);
        ws.onopen = () => events.push('open ' + url);
        ws.onclose = (e) => events.push(`close ${e.code} ${url}`);
    }
    const link = document.createElement('link'); link.rel = 'preconnect'; link.href = `http://${here}`;
    document.head.appendChild(link);
    fetch(`http://${here}/`).catch(() => {});
    const frame = document.createElement('iframe'); frame.src = `http://${here}/`; document.body.appendChild(frame);
    const anchor = document.createElement('a'); anchor.href = `http://${here}/`; anchor.textContent = 'elsewhere';
    document.body.appendChild(anchor);
    const ice = [{urls: `turn:${here}`, username: 'u', credential: 'p'},
                 {urls: `turn:${here}?transport=tcp`, username: 'u', credential: 'p'}, {urls: `stun:${here}`}];
    const pc = new RTCPeerConnection({iceServers: ice});
    pc.createDataChannel('x');
    await pc.setLocalDescription(await pc.createOffer());
    window.pc = pc;
}"""


def test_nothing_reaches_another_loopback_port(app_env):  # noqa: F811
    listener = _LoopbackListener()
    try:
        obs = _reset(app_env, "shop-0-0")
        page = app_env.session.page
        app = re.match(r"http://([^/]+)", page.url).group(1)
        page.evaluate(HOSTILE_PAGE_JS, {"port": listener.port, "app": app})
        page.wait_for_function("() => events.length === 2")
        assert sorted(page.evaluate("() => events")) == sorted(
            [f"close 1008 ws://127.0.0.1:{listener.port}/", f"close 1008 ws://{app}/"])
        time.sleep(1.0)  # ICE sends its first STUN/TURN packets at once; anything sent has arrived by now
        assert listener.arrived == []
        assert page.evaluate("() => pc.iceGatheringState") == "complete"  # no server to wait for: none reachable
        obs, *_ = app_env.step("scroll(0, 0)")
        assert f"ws://127.0.0.1:{listener.port}/" in obs["text"].split("\nPage: ")[0]  # reported as blocked
        link = find_element(obs["text"], "link", "elsewhere")
        _, _, _, _, info = app_env.step(f'goto("http://127.0.0.1:{listener.port}/")')
        assert "is blocked" in info["action_error"]
        _, _, _, _, info = app_env.step(f'click("{link}")')
        assert "action_error" not in info
        time.sleep(0.5)
        assert listener.arrived == []
    finally:
        listener.close()


# ----------------------------------------------------------------------------------- hung pages
# How the page gets stuck: (markup put on the page, script the page runs right before the agent's
# action or "", the agent's action). Clicks have a Playwright timeout; key presses and the mouse wheel do not.
LOOPS = {
    "click handler": ("<button onclick='while (true) {}'>Spin</button>", "", 'click("{id}")'),
    "key handler": ("<button onkeydown='while (true) {}'>Spin</button>", "", 'press("a")'),
    "between steps": ("<button>Spin</button>", "setTimeout(() => { while (true) {} }, 0)", "scroll(0, 10)"),
}


@pytest.fixture(scope="module")
def hasty_env():
    env = BrowserEnv(task="shop-0-0", viewport_width=400, viewport_height=300, action_timeout_ms=500,
                     navigation_timeout_ms=1000, settle_max_ms=200, step_deadline_ms=2500)
    yield env
    env.close()


@pytest.mark.parametrize("loop", list(LOOPS))
def test_a_page_stuck_in_a_loop_ends_the_episode_at_the_step_deadline(hasty_env, loop):
    markup, script, action = LOOPS[loop]
    _reset(hasty_env, "shop-0-0")
    page = hasty_env.session.page
    page.evaluate("(markup) => document.body.insertAdjacentHTML('afterbegin', markup)", markup)
    obs, _, _, _, info = hasty_env.step("scroll(0, 0)")
    spin = find_element(obs["text"], "button", "Spin")
    page.focus(f'[data-cg-id="{spin}"]')
    if script:
        page.evaluate(f"() => {{ {script}; }}")
        time.sleep(0.3)  # the zero-delay timer has long fired: the page is stuck before the agent acts
    started = time.monotonic()
    obs, reward, terminated, _, info = hasty_env.step(action.format(id=spin))
    elapsed = time.monotonic() - started
    assert 2.5 <= elapsed < 2.5 + CLOSE_HUNG_S + 2, elapsed  # at the deadline, plus closing the tabs
    assert terminated and reward == 0.0 and info["outcome"] == "env_error"
    assert "did not respond within 2.5 s" in obs["text"] and "episode ended" in obs["text"]
    assert page.is_closed() and hasty_env.session is None
    obs = _reset(hasty_env, "shop-0-0")  # the next episode gets a working browser
    assert find_element(obs["text"], "textbox", "Search")


# ----------------------------------------------------------------------------------- uploads
def test_upload_never_reads_a_file_of_this_machine(tmp_path):
    """upload() sends only the bytes the agent wrote; a path names the file, it is never opened."""
    from tests.browser.conftest import LocalPage

    page = LocalPage(tmp_path)
    try:
        page.open("<input id=f type=file aria-label=Upload><p id=out>none</p><script>f.addEventListener('change', "
                  "() => f.files[0].text().then((t) => out.textContent = f.files[0].name + ':' + t))</script>")
        upload = page.id("button", "Upload")
        page.act(f'upload("{upload}", "/etc/hostname")')
        assert page.js("out.textContent") == "hostname:"
        page.act(f'upload("{upload}", "..\\\\..\\\\etc\\\\passwd", "mine")')
        assert page.js("out.textContent") == "passwd:mine"
    finally:
        page.session.close()
