"""The shared action parser: every syntax it promises, and no crash on anything."""

import numpy as np
import pytest

from coachgym.envs.actions import MAX_ACTION_CHARS, ActionArg, ActionError, ActionSet, ActionSpec, ParsedAction

ACTIONS = ActionSet(
    [
        ActionSpec(name="click", doc="Click an element.", args=[ActionArg(name="id", type="int")]),
        ActionSpec(name="type", doc="Type text.", args=[ActionArg(name="id", type="int"), ActionArg(name="text")]),
        ActionSpec(name="scroll", doc="Scroll.", args=[ActionArg(name="direction", choices=["up", "down"])]),
        ActionSpec(name="answer", doc="Answer.", args=[ActionArg(name="text")], terminal=True),
        ActionSpec(name="bash", doc="Run a command.", args=[ActionArg(name="command")], block="bash"),
        ActionSpec(name="finish", doc="Stop.", terminal=True),
    ]
)


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("click(3)", "click", {"id": 3}),
        ("Thought: the button.\nAction: click(12)", "click", {"id": 12}),
        ("click('7')", "click", {"id": 7}),
        ('type(2, "hello (world), \\"quoted\\"")', "type", {"id": 2, "text": 'hello (world), "quoted"'}),
        ("type(id=4, text='x')", "type", {"id": 4, "text": "x"}),
        ("type(5, 'multi\nline')", "type", {"id": 5, "text": "multi\nline"}),
        ("scroll(down)", "scroll", {"direction": "down"}),
        ("answer(The file has 3 lines, I think)", "answer", {"text": "The file has 3 lines, I think"}),
        ("answer(Paris)", "answer", {"text": "Paris"}),
        ("I will run it.\n```bash\nls -la /tmp\n```", "bash", {"command": "ls -la /tmp"}),
        ("```\necho hi\n```", "bash", {"command": "echo hi"}),
        ("Action: finish", "finish", {}),
        ("finish()", "finish", {}),
        ("click(1)\nclick(2)", "click", {"id": 2}),
    ],
)
def test_parses_supported_syntaxes(text, name, args):
    parsed = ACTIONS.parse(text)
    assert (parsed.name, parsed.args) == (name, args)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("I don't know what to do", "No action found"),
        ("click()", "missing argument 'id'"),
        ("click(1, 2)", "takes 1 argument"),
        ("click(abc)", "must be an integer"),
        ("click(True)", "must be an integer"),
        ("scroll(sideways)", "one of up, down"),
        ("type(1, text='a', extra=3)", "unexpected argument"),
        ("click(3", "Unclosed parenthesis"),
        ("x" * (MAX_ACTION_CHARS + 1), "limit"),
    ],
)
def test_rejects_malformed_actions_with_an_explanation(text, fragment):
    with pytest.raises(ActionError) as caught:
        ACTIONS.parse(text)
    assert caught.value.kind == "invalid_format"
    assert fragment in caught.value.message


def test_non_string_action_is_a_format_error():
    with pytest.raises(ActionError, match="must be text"):
        ACTIONS.parse(None)


def test_describe_and_format_derive_from_the_same_specs():
    described = ACTIONS.describe()
    for spec in ACTIONS.specs.values():
        assert spec.signature() in described
    text = ACTIONS.format("type", 3, 'say "hi" (now)')
    assert ACTIONS.parse(text).args == {"id": 3, "text": 'say "hi" (now)'}
    assert ACTIONS.parse(ACTIONS.format("bash", "echo 1")).args == {"command": "echo 1"}


def test_dialects_run_before_generic_syntaxes_and_are_validated():
    def webarena(text):
        if text.startswith("click ["):
            return ParsedAction(name="click", args={"id": text[7:].rstrip("]")}, raw=text)
        return None

    actions = ActionSet(list(ACTIONS.specs.values()), dialects=[webarena])
    assert actions.parse("click [42]").args == {"id": 42}
    with pytest.raises(ActionError):
        actions.parse("click [not-a-number]")


def test_sampled_actions_are_always_well_formed():
    rng = np.random.default_rng(0)
    for _ in range(200):
        ACTIONS.parse(ACTIONS.sample(rng))


def test_fuzz_never_raises_anything_but_action_error():
    rng = np.random.default_rng(7)
    alphabet = list("click(type)answer'\"[]{},.:\n\t `bash#$%\\0123456789éж中🙂\x00") + ["```", "Action:", "(("]
    for _ in range(2000):
        length = int(rng.integers(0, 80))
        text = "".join(rng.choice(alphabet, size=length).tolist())
        try:
            ACTIONS.parse(text)
        except ActionError:
            pass
