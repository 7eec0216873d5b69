"""Every action of the browser vocabulary does what its doc says on a real page, or says why not.

Pages are written by the test (`LocalPage`); the actions go through the parser and `Performer` as
in the env. Env-level behaviour (several actions per message, counting invalid actions) is at the end.
"""

from __future__ import annotations

import pytest

from coachgym.envs.actions import ActionError
from coachgym.envs.browser.expert import find_element
from coachgym.envs.browser.perform import TYPE_KEYS_MAX, normalize_keys

RECORD = "<script>window.log = []; const rec = (e) => log.push(e.type + ':' + (e.target.id || ''));</script>"


def test_drag_by_ids_and_by_coordinates(local_page):
    local_page.open(RECORD + """
      <div id=src draggable=true style="width:40px;height:30px;background:#c00">A</div>
      <div id=dst style="width:80px;height:60px;margin-top:40px;background:#0c0">drop here</div>
      <div id=pad style="position:absolute;left:200px;top:20px;width:100px;height:100px;background:#00c"></div>
      <script>
        src.addEventListener('dragstart', (e) => e.dataTransfer.setData('text/plain', 'A'));
        dst.addEventListener('dragover', (e) => e.preventDefault());
        dst.addEventListener('drop', (e) => { e.preventDefault(); dst.textContent = 'got ' + e.dataTransfer.getData('text/plain'); });
        let down = null;
        pad.addEventListener('mousedown', (e) => down = [e.clientX, e.clientY]);
        document.addEventListener('mouseup', (e) => { if (down) log.push('pad ' + down + ' -> ' + [e.clientX, e.clientY]); down = null; });
      </script>""")
    text = local_page.act(f'drag("{local_page.id("generic", "A")}", "{local_page.id("generic", "drop here")}")')
    assert find_element(text, "generic", "got A")
    local_page.act("drag_xy(210, 30, 290, 110)")
    assert local_page.js("log") == ["pad 210,30 -> 290,110"]


def test_hover_opens_a_css_menu_and_mouse_down_move_up(local_page):
    local_page.open(RECORD + """
      <style>.menu ul { display: none; position: absolute; margin: 0 } .menu:hover ul { display: block }</style>
      <div class=menu style="width:120px">More<ul><li>Copy link</li></ul></div>
      <div id=box style="width:100px;height:60px;margin-top:80px;background:#eee">box</div>
      <script>for (const t of ['mousedown', 'mouseup', 'mousemove']) box.addEventListener(t, rec);</script>""")
    assert not find_element(local_page.text, "listitem", "Copy link")
    text = local_page.act(f'hover("{local_page.id("generic", "More")}")')
    assert find_element(text, "listitem", "Copy link")
    box = local_page.snap.boxes[local_page.id("generic", "box")]
    x, y = box[0] + 10, box[1] + 10
    local_page.act(f"mouse_down({x}, {y})\nmouse_move({x + 20}, {y + 5})\nmouse_up({x + 30}, {y + 10})")
    log = [event for event in local_page.js("log") if event != "mousemove:box"]
    assert log == ["mousedown:box", "mouseup:box"] and "mousemove:box" in local_page.js("log")


def test_click_lands_on_an_icon_that_flickers_while_its_hover_image_loads(local_page):
    """MiniWoB's social-media: an icon whose :hover style swaps in an image not loaded yet has no width while
    hovered, so it stops being hovered, comes back under the pointer, and so on until the image is there. A
    press during that lands on the next icon, slid under the pointer, and the release on this one: the click
    event goes to the row."""
    local_page.open(RECORD + """
      <style>span { display: inline-block; height: 14px } #like { width: 14px; margin-left: 15px; background: #c00 }
        #like:hover:not(.loaded) { width: 0 } #more { width: 30px }</style>
      <div id=row style="width:200px;height:20px"><span id=like aria-label=Like></span><span id=more></span></div>
      <script>like.addEventListener('mouseover', () => setTimeout(() => like.classList.add('loaded'), 300),
          {once: true});
        row.addEventListener('click', rec);</script>""")
    local_page.act(f'click("{local_page.id("generic", "Like")}")')
    assert local_page.js("log") == ["click:like"]


def test_click_lands_on_an_icon_a_script_shrinks_while_hovered(local_page):
    """The same flicker driven by a listener on the row (no :hover style on the page): the click hovers first
    because an ancestor of the icon listens for the pointer."""
    local_page.open(RECORD + """
      <style>span { display: inline-block; height: 14px } #like { width: 14px; margin-left: 15px; background: #c00 }
        #more { width: 30px }</style>
      <div id=row style="width:200px;height:20px"><span id=like aria-label=Like></span><span id=more></span></div>
      <script>let loaded = false;
        row.addEventListener('mouseover', (e) => { if (e.target === like && !loaded) like.style.width = '0px'; });
        row.addEventListener('mouseout', (e) => { if (e.target === like) like.style.width = '14px'; });
        like.addEventListener('mouseover', () => setTimeout(() => { loaded = true; like.style.width = '14px'; }, 300),
          {once: true});
        row.addEventListener('click', rec);</script>""")
    local_page.act(f'click("{local_page.id("generic", "Like")}")')
    assert local_page.js("log") == ["click:like"]


@pytest.mark.parametrize("page, reacts", [
    ("<button>Go</button>", False),
    ("<style>button:hover { color: red }</style><button>Go</button>", True),
    ("<div id=bar><button>Go</button></div><script>bar.addEventListener('mouseenter', () => 0)</script>", True),
    ("<button onmouseover='0'>Go</button>", True),
    ("<button>Go</button><p id=far>x</p><script>far.addEventListener('mouseover', () => 0)</script>", False),
])
def test_a_click_hovers_first_only_where_the_page_reacts_to_hover(local_page, page, reacts):
    local_page.open(page)
    assert local_page.snap.reacts_to_hover(local_page.id("button", "Go")) is reacts


def test_select_one_and_several_options(local_page):
    local_page.open("""
      <select id=one aria-label=Size><option>S</option><option value=m>M</option></select>
      <select id=many aria-label=Colors multiple size=4><option>Red</option><option>Green</option><option>Blue</option></select>""")
    one, many = local_page.id("combobox", "Size"), local_page.id("listbox", "Colors")
    text = local_page.act(f'select("{one}", "M")')
    assert f"[{one}] combobox 'Size' value='M'" in text
    text = local_page.act(f'select("{many}", ["Red", "Blue"])')
    assert f"[{many}] listbox 'Colors' value=['Red', 'Blue'] multiselectable" in text
    assert find_element(text, "option", "Blue") and "option 'Blue' selected" in text and "option 'Green' selected" not in text
    with pytest.raises(ActionError, match="takes one option; 2 were given"):
        local_page.act(f'select("{one}", ["S", "M"])')
    with pytest.raises(ActionError, match="has no option 'Purple'"):
        local_page.act(f'select("{many}", ["Red", "Purple"])')
    assert local_page.js("[...many.selectedOptions].map(o => o.text)") == ["Red", "Blue"]  # unchanged by the failure


def test_key_combinations_and_their_spellings(local_page):
    assert normalize_keys("ctrl+a") == "Control+a" and normalize_keys("Cmd+Shift+z") == "Meta+Shift+z"
    with pytest.raises(ActionError, match="empty part"):
        normalize_keys("Control++")
    local_page.open('<input id=f aria-label=Field value="some words">')
    field = local_page.id("textbox", "Field")
    local_page.act(f'press("ctrl+a", "{field}")\npress("Backspace")')
    assert local_page.js("f.value") == ""


def test_scroll_an_element_and_explain_when_it_cannot(local_page):
    local_page.open("""<div id=pane aria-label=Pane tabindex=0 style="height:80px;overflow:auto">
      <div style="height:600px">tall</div><p>bottom line</p></div><p id=plain>plain text</p>""")
    pane = local_page.id("generic", "Pane")
    assert "clipped" in next(line for line in local_page.text.splitlines() if "bottom line" in line)
    text = local_page.act(f'scroll(0, 600, "{pane}")')
    assert local_page.js("pane.scrollTop") > 500
    assert "clipped" not in next(line for line in text.splitlines() if "bottom line" in line)
    with pytest.raises(ActionError, match="did not scroll"):
        local_page.act(f'scroll(0, 100, "{local_page.id("paragraph", "plain text")}")')


def test_wait_lets_a_late_element_appear(local_page):
    local_page.open("<script>setTimeout(() => document.body.insertAdjacentHTML('beforeend', '<button>Late</button>'), 900)"
                    "</script><p>early</p>")
    assert not find_element(local_page.text, "button", "Late")
    assert find_element(local_page.act("wait(1000)"), "button", "Late")


def test_type_is_key_by_key_when_short_and_whole_when_long(local_page):
    local_page.open('<input id=f aria-label=Field value=old><textarea id=t aria-label=Long></textarea><p>note</p>'
                    "<script>window.keys = ''; f.addEventListener('keydown', (e) => keys += e.key + ',')</script>")
    local_page.act(f'type("{local_page.id("textbox", "Field")}", "hello")')
    value, keys = local_page.js("[f.value, keys]")
    assert value == "hello" and keys.endswith("h,e,l,l,o,")  # typed key by key, the old value replaced
    long_text = "word " * 400
    local_page.act(f'type("{local_page.id("textbox", "Long")}", "{long_text}")')
    assert len(long_text) > TYPE_KEYS_MAX and local_page.js("t.value") == long_text
    with pytest.raises(ActionError, match="not a text field"):
        local_page.act(f'type("{local_page.id("paragraph", "note")}", "x")')


def test_type_that_the_page_cuts_short_keeps_what_landed_and_says_so(local_page):
    """Once keys flow, the page's doing is the page's behaviour (MiniWoB's login-user-popup disables the form on
    purpose): nothing is put back, the action stays valid, and the observation says how many keys landed."""
    local_page.open(RECORD + """<input id=f aria-label=Field value=old><input id=g aria-label=Next>
      <script>f.addEventListener('input', () => { if (f.dataset.mode === 'disable' && f.value.length === 3) f.disabled = true;
          if (f.dataset.mode === 'advance' && f.value.length === 2) g.focus(); });
        f.addEventListener('keydown', () => {
          if (f.dataset.mode === 'slow') { const end = Date.now() + 1200; while (Date.now() < end); } });</script>""")
    field = local_page.id("textbox", "Field")
    local_page.js("f.dataset.mode = 'disable'")
    text = local_page.act(f'type("{field}", "abcdefgh", enter=True)')
    assert text.startswith(f"Typing into element {field} was cut short: the page disabled or made read-only it "
                           "after 3 of 8 keys, so the rest went to whatever had the focus and Enter was not pressed")
    assert local_page.js("[f.value, f.disabled]") == ["abc", True]
    local_page.js("f.disabled = false; f.dataset.mode = 'advance'")
    text = local_page.act(f'type("{field}", "12345")')  # a form that moves on to its next field by itself
    assert "the page moved the focus away from it after 2 of 5 keys" in text
    assert local_page.js("[f.value, g.value]") == ["12", "345"]
    local_page.js("f.dataset.mode = 'slow'")  # 3.6 s of key handling: the page's own time, no failure
    assert local_page.act(f'type("{field}", "xyz")').startswith("[") and local_page.js("f.value") == "xyz"
    local_page.js("f.dataset.mode = ''")
    text = local_page.act(f'type("{field}", "héllo → ok")')  # characters off the keyboard are inserted
    assert "cut short" not in text and local_page.js("f.value") == "héllo → ok"


def test_upload_puts_the_agents_bytes_into_a_file_input(local_page):
    local_page.open("""<label>CV <input id=cv type=file></label><p id=out></p>
      <script>cv.addEventListener('change', () => cv.files[0].text().then((t) => out.textContent = 'read ' + t));</script>""")
    text = local_page.act(f'upload("{local_page.id("button", "CV")}", "notes/cv.txt", "Jane Doe")')
    assert "files=['cv.txt']" in text and find_element(text, "paragraph", "read Jane Doe")
    with pytest.raises(ActionError, match="not a file input"):
        local_page.act(f'upload("{local_page.id("paragraph", "read Jane Doe")}", "a.txt", "x")')


def test_unknown_ids_and_bad_arguments_are_explained(local_page):
    local_page.open("<button>Go</button>")
    with pytest.raises(ActionError, match="no element with id '999'"):
        local_page.act('click("999")')
    with pytest.raises(ActionError, match="between 0.0 and 10000.0"):
        local_page.act("wait(60000)")
    with pytest.raises(ActionError, match="outside the 400x300 viewport"):
        local_page.act("drag_xy(10, 10, 500, 10)")


# ----------------------------------------------------------------------------------- through the env
def test_several_actions_in_one_message_all_run_in_order(miniwob_env):
    obs, _ = miniwob_env.reset(seed=1, options={"task_id": "miniwob.click-button-sequence"})
    one, two = find_element(obs["text"], "button", "ONE"), find_element(obs["text"], "button", "TWO")
    _, reward, terminated, _, info = miniwob_env.step(f'Action: click("{one}") click("{two}")')
    assert terminated and reward == 1.0 and info["success"] and info["steps"] == 1


def test_a_failing_action_in_a_message_stops_the_rest_and_shows_the_page_now(miniwob_env):
    obs, _ = miniwob_env.reset(seed=1, options={"task_id": "miniwob.click-checkboxes"})
    box = find_element(obs["text"], "checkbox", "")
    obs, _, terminated, _, info = miniwob_env.step(f'click("{box}")\nclick("9999")\nclick("{box}")')
    assert not terminated and info["invalid_actions"] == 1
    assert "Actions 1-1 of 3 ran; action 2 (click(\"9999\")) failed" in info["action_error"]
    assert f"[{box}] checkbox" in obs["text"] and obs["text"].split(f"[{box}] checkbox")[1].split("\n")[0].count("checked") == 1
    _, _, _, _, info = miniwob_env.step(f'click("{box}") answer() click("{box}")')
    assert "ends the episode" in info["action_error"] and info["invalid_actions"] == 2


def test_the_task_ending_midway_stops_the_remaining_actions(miniwob_env):
    obs, _ = miniwob_env.reset(seed=2, options={"task_id": "miniwob.click-test"})
    button = find_element(obs["text"], "button", "Click Me!")
    obs, reward, terminated, _, _ = miniwob_env.step(f'click("{button}")\nclick("{button}")')
    assert terminated and reward == 1.0
    assert obs["text"].startswith("The task page reports the episode finished. The remaining 1 action(s) did not run.")


def test_a_popup_that_disables_the_form_is_reported_and_can_be_dismissed(miniwob_env):
    """login-user-popup (seed 11) opens its popup when the username field takes the focus, disabling the form:
    the type action is valid, says no key landed, and after Cancel the same action types the whole name."""
    obs, _ = miniwob_env.reset(seed=11, options={"task_id": "miniwob.login-user-popup"})
    user = find_element(obs["text"], "textbox", "")
    obs, _, _, _, info = miniwob_env.step(f'type("{user}", "juan")')
    assert "action_error" not in info
    assert obs["text"].startswith(f"Typing into element {user} was cut short: the page disabled or made read-only "
                                  "it after 0 of 4 keys")
    obs, _, _, _, _ = miniwob_env.step(f'click("{find_element(obs["text"], "button", "Cancel")}")')
    obs, _, _, _, info = miniwob_env.step(f'type("{user}", "juan")')
    assert "action_error" not in info and "cut short" not in obs["text"]
    assert f"[{user}] textbox value='juan'" in obs["text"]
