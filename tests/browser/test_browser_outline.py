"""The outline gives every interactive or text-bearing element an id, with BrowserGym's states and flags.

Pages are written by the test (`LocalPage`, real Chromium); set-of-marks alignment is checked on a
built-in app page reached by a navigating click, where stylesheets load after the document.
"""

from __future__ import annotations

import re

from coachgym.envs.browser.expert import find_element
from tests.browser.conftest import LocalPage


def _line(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def test_icons_aria_hidden_controls_nested_items_and_shadow_roots_get_ids(local_page):
    text = local_page.open("""
      <style>.row { cursor: pointer } .trash { cursor: pointer; display: inline-block; width: 12px; height: 12px;
        background-image: url(delete.png) }</style>
      <div class=row onclick="">Mail from Ann <span class=trash onclick="this.title='gone'"></span></div>
      <a class=spin-up aria-hidden=true tabindex=-1 style="display:inline-block;width:10px;height:10px"></a>
      <ul><li>Documents<ul><li>report.txt</li><li>notes.txt</li></ul></li></ul>
      <fancy-card></fancy-card>
      <script>
        customElements.define('fancy-card', class extends HTMLElement { constructor() { super();
          this.attachShadow({mode: 'open'}).innerHTML = '<p>Inside the shadow</p><button onclick="this.textContent=\\'pressed\\'">Shadow button</button>'; } });
      </script>""")
    assert re.search(r"\[\d+\] generic class='trash' icon='delete.png'", text)
    assert re.search(r"\[\d+\] generic class='spin-up'", text)
    assert find_element(text, "listitem", "report.txt") and find_element(text, "listitem", "notes.txt")
    assert "'Documents report.txt" not in text  # the folder is not one flattened item
    assert find_element(text, "paragraph", "Inside the shadow")
    text = local_page.act(f'click("{local_page.id("button", "Shadow button")}")')
    assert find_element(text, "button", "pressed")
    trash = re.search(r"\[(\d+)\] generic class='trash'", text).group(1)
    local_page.act(f'click("{trash}")')
    assert local_page.js("document.querySelector('.trash').title") == "gone"


def test_states_and_values(local_page):
    text = local_page.open("""
      <input type=checkbox aria-label=Agree checked> <input type=checkbox aria-label=Some id=mixed>
      <button aria-pressed=true>Bold</button> <button aria-expanded=false>Menu</button>
      <button disabled>Gone</button> <input aria-label=Email required>
      <input type=range aria-label=Volume min=0 max=10 value=3>
      <div role=slider aria-label=Knob aria-valuenow=5 aria-valuemin=1 aria-valuemax=9 tabindex=0 style="width:50px;height:10px"></div>
      <div role=option aria-selected=true>Picked</div>
      <fieldset disabled><button>Inside disabled</button></fieldset>
      <input aria-label=Name readonly value=Ann autofocus>
      <script>mixed.indeterminate = true</script>""")
    assert _line(text, "'Agree'").endswith("checkbox 'Agree' checked")
    assert "checked=mixed" in _line(text, "'Some'")
    assert "pressed" in _line(text, "'Bold'") and "expanded=false" in _line(text, "'Menu'")
    assert "disabled" in _line(text, "'Gone'") and "disabled" in _line(text, "'Inside disabled'")
    assert "required" in _line(text, "'Email'") and "readonly" in _line(text, "'Name'")
    assert "value='3' min='0' max='10'" in _line(text, "'Volume'")
    assert "value='5' min='1' max='9'" in _line(text, "'Knob'")
    assert "selected" in _line(text, "'Picked'")
    text = local_page.act(f'click("{local_page.id("textbox", "Email")}")')
    assert _line(text, "'Email'").endswith("focused")


def test_visibility_flags(local_page):
    text = local_page.open("""
      <button style="opacity:0">Ghost</button>
      <div style="opacity:0.01"><button>Faded child</button></div>
      <button style="position:absolute;top:2000px">Far below</button>
      <div style="height:40px;overflow:hidden"><p style="margin-top:60px">Cut off</p></div>
      <button id=under style="position:absolute;left:10px;top:200px">Under</button>
      <div style="position:absolute;left:0;top:190px;width:200px;height:60px;background:#fff">Overlay</div>
      <button>Plain</button>""")
    assert _line(text, "'Ghost'").endswith("invisible") and _line(text, "'Faded child'").endswith("invisible")
    assert _line(text, "'Far below'").endswith("offscreen")
    assert _line(text, "'Cut off'").endswith("clipped")
    assert _line(text, "'Under'").endswith("covered")
    assert _line(text, "'Plain'").endswith("button 'Plain'")


def test_text_has_an_explicit_budget(tmp_path):
    page = LocalPage(tmp_path, element_text_chars=300, outline_chars=2000)
    try:
        long = " ".join(f"w{i}" for i in range(200))  # 989 characters
        text = page.open(f"<p>{long}</p>" + "".join(f"<button>b{i}</button>" for i in range(200)))
        first = text.splitlines()[0]
        assert "w0 w1" in first and first.endswith(f"…(+{len(long) - 300} chars)'")
        assert len(text) < 2100 and text.splitlines()[-1].startswith("(outline cut at 2000 characters (outline_chars):")
    finally:
        page.session.close()


def test_default_budget_keeps_a_text_areas_last_word(local_page):
    words = " ".join(f"word{i}" for i in range(120)) + " lastword"  # ~900 characters, scroll-text's case
    assert _line(local_page.open(f"<textarea aria-label=Text>{words}</textarea>"), "'Text'").endswith("lastword'")


def test_set_of_marks_boxes_match_the_page_after_a_navigating_click(app_env):
    obs, _ = app_env.reset(seed=0, options={"task_id": "mail-0-0"})
    for _ in range(3):
        obs, *_ = app_env.step(f'click("{find_element(obs["text"], "link", "Compose")}")')
        send = find_element(obs["text"], "button", "Send")
        marked = app_env.snap.boxes[send]
        app_env.session.page.wait_for_timeout(300)  # whatever was still loading has loaded by now
        real = app_env.session.page.locator(f'[data-cg-id="{send}"]').bounding_box()
        assert abs(marked[0] - real["x"]) < 1 and abs(marked[1] - real["y"]) < 1
        obs, *_ = app_env.step("go_back()")
