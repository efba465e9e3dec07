"""Error messages end each sentence once: no "parameter. in ..." or "column 1.." built by concatenation."""

import ast
import re
from pathlib import Path

import pytest

from discover import ConfigError, DataError, EquationError, EquationSystem
from discover._errors import sentence

PACKAGE = Path(__file__).parents[1] / "discover"
DOUBLED = re.compile(r"\.\.(?!\.)|[.?] (in|at) ['`]")  # ".." (not "..."), or a fragment after a full stop


@pytest.mark.parametrize("equation", ["dv/dt = -v + q", "dv/dt = -v + ww", "dv/dt = foo(v)", "dv/dt = epx(v)"])
def test_parser_errors_say_where_first_then_why(equation):
    """The parser appended " in '<text>': `piece`." to a reason that already ended its sentence
    (or with a "Did you mean ...?" hint): "declare it as a state, input or parameter. in '-v + q'"."""
    with pytest.raises(EquationError) as info:
        EquationSystem.from_text([equation], parameters={"w": 1.0})
    message = str(info.value)
    assert not DOUBLED.search(message), message
    assert message.endswith((".", "?")) and not message.endswith(("..", "?.")), message
    assert re.search(r"`[^`]+` in '", message), message  # the piece and the text it is in, still named


def test_csv_error_does_not_double_the_full_stop_of_numpy_message(tmp_path):
    """numpy's message ends "at row 0, column 3." and ours added another: "column 3..". """
    from discover.recordings import read_csv

    bad = tmp_path / "bad.csv"
    bad.write_text("t_ms,V_mV,I_pA\n0,1,a\n1,2,3\n")
    with pytest.raises(DataError) as info:
        read_csv(bad)
    assert "column 3." in str(info.value) and not DOUBLED.search(str(info.value)), str(info.value)


def test_toml_error_ends_with_one_full_stop(tmp_path):
    from discover import load_config

    bad = tmp_path / "bad.toml"
    bad.write_text("[data\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert str(info.value).endswith(".") and not DOUBLED.search(str(info.value)), str(info.value)


def test_sentence_ends_a_message_once():
    assert sentence("could not convert 'a' at row 0, column 3.") == "could not convert 'a' at row 0, column 3."
    assert sentence("unknown name `q`") == "unknown name `q`."
    assert sentence("Did you mean `w`?  ") == "Did you mean `w`?"


def _formatted_then_full_stop(tree):
    """f-strings that put a literal "." straight after an embedded exception (`{exc}.`): the
    exception's own text may end with one already; such messages go through `sentence`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for value, after in zip(node.values, node.values[1:], strict=False):
                text = ast.unparse(value) if isinstance(value, ast.FormattedValue) else ""
                if ("exc" in text and "rstrip('.')" not in text  # an `exc` stripped of its own stop is fine
                        and isinstance(after, ast.Constant) and str(after.value).startswith(".")):
                    yield node.lineno


def test_no_message_appends_a_full_stop_to_an_exception_text():
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
             for line in _formatted_then_full_stop(ast.parse(path.read_text()))]
    assert not found, found
