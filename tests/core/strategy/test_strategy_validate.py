"""Invalid trees are refused before trading; valid ones render as Mermaid and text."""

from __future__ import annotations

import pytest
from ec_core.strategy import ActionNode, ActionTree, InvalidTreeError, StrategyContext


def yes(ctx: StrategyContext) -> bool:
    return True


def test_cycle_is_reported_with_its_path() -> None:
    a = ActionNode("A")
    b = ActionNode("B", transitions={"back": (yes, "A")})
    a.transitions["go"] = (yes, b)
    with pytest.raises(InvalidTreeError) as info:
        ActionTree(a)
    assert info.value.codes == ("cycle",)
    assert info.value.problems[0].nodes == ("A", "B", "A")


def test_missing_unreachable_duplicate_and_overtime_problems_are_all_listed() -> None:
    orphan = ActionNode("Orphan")
    root = ActionNode(
        "Root",
        transitions={
            "lost": (yes, "Nowhere"),
            "dup": (yes, ActionNode("Root")),
            "bad": (yes,),  # type: ignore[dict-item]
        },
    )
    with pytest.raises(InvalidTreeError) as info:
        ActionTree(root, overtime_cond=yes, nodes=[orphan])
    assert sorted(info.value.codes) == [
        "bad_transition",
        "duplicate_node",
        "missing_node",
        "overtime_incomplete",
        "unreachable_node",
    ]
    assert "Nowhere" in str(info.value)
    assert "Orphan" in str(info.value)


def test_children_may_be_named_when_nodes_are_listed() -> None:
    end = ActionNode("End")
    tree = ActionTree(ActionNode("Root", transitions={"to end": (yes, "End")}), nodes=[end])
    assert tree.branches("Root")[0][2] is end


def seed_shape() -> ActionTree:
    tp2 = ActionNode("TakeProfit2")
    modify = ActionNode("ModifyTargetEntry", transitions={"TakeProfit2": (yes, tp2)})
    entry = ActionNode(
        "TargetEntry",
        transitions={
            "TakeProfit1": (yes, ActionNode("TakeProfit1")),
            "ModifyTargetEntry": (yes, modify),
            "CancelEntry": (yes, ActionNode("CancelEntry")),
        },
    )
    return ActionTree(entry, yes, ActionNode("OvertimeExit"))


def test_mermaid_rendering() -> None:
    text = seed_shape().to_mermaid()
    assert text.startswith("flowchart TD\n")
    assert 'n_TargetEntry -- "TakeProfit1" --> n_TakeProfit1' in text
    assert 'n_ModifyTargetEntry -- "TakeProfit2" --> n_TakeProfit2' in text
    assert 'n_CancelEntry(["CancelEntry<br/>no payload"])' in text
    assert "overtime -.-> n_OvertimeExit" in text


def test_a_timeout_is_drawn_on_the_overtime_path() -> None:
    """The overtime's timeout is shown where the overtime path is, in seconds."""
    tree = ActionTree(ActionNode("Entry"), overtime_node=ActionNode("Out"), timeout_ns=300 * 10**9)
    assert 'overtime{{"overtime after 300 s"}}' in tree.to_mermaid()
    assert "overtime after 300 s:\n└── Out (no payload) [end]" in tree.to_text()
    both = ActionTree(ActionNode("Entry"), yes, ActionNode("Out"), timeout_ns=1_500_000_000)
    assert 'overtime{{"overtime, or after 1.5 s"}}' in both.to_mermaid()
    assert "overtime -.-> n_Out" in both.to_mermaid()
    assert "overtime:" in seed_shape().to_text()


def test_text_rendering() -> None:
    assert seed_shape().to_text() == (
        "TargetEntry (no payload)\n"
        "├── TakeProfit1 (no payload) [end]\n"
        "├── ModifyTargetEntry (no payload)\n"
        "│   └── TakeProfit2 (no payload) [end]\n"
        "└── CancelEntry (no payload) [end]\n"
        "overtime:\n"
        "└── OvertimeExit (no payload) [end]\n"
    )


def test_a_one_node_tree_resolves_without_the_full_walk_and_bad_input_still_fails() -> None:
    """One node without transitions is checked by a shortcut (built per order action);
    anything else about it still goes through the full checks."""
    node = ActionNode("Ping")
    tree = ActionTree(node)
    assert tree.nodes == {"Ping": node}
    assert tree.branches("Ping") == ()
    with pytest.raises(InvalidTreeError) as caught:
        ActionTree(node, overtime_cond=lambda ctx: True)
    assert [p.code for p in caught.value.problems] == ["overtime_incomplete"]
    with pytest.raises(InvalidTreeError) as caught:
        ActionTree(node, nodes=[ActionNode("Other")])
    assert [p.code for p in caught.value.problems] == ["unreachable_node"]
    with pytest.raises(InvalidTreeError) as caught:
        ActionTree(node, timeout_ns=5)
    assert [p.code for p in caught.value.problems] == ["overtime_incomplete"]


@pytest.mark.parametrize("timeout", [-1, 1.5, True, "5s"])
def test_a_timeout_must_be_whole_nanoseconds_not_negative(timeout: object) -> None:
    with pytest.raises(InvalidTreeError) as caught:
        ActionTree(ActionNode("A"), overtime_node=ActionNode("Out"), timeout_ns=timeout)  # type: ignore[arg-type]
    assert [p.code for p in caught.value.problems] == ["overtime_incomplete"]
    assert "timeout_ns" in str(caught.value)


def test_an_overtime_node_with_a_timeout_needs_no_condition() -> None:
    tree = ActionTree(ActionNode("A"), overtime_node=ActionNode("Out"), timeout_ns=0)
    assert tree.timeout_ns == 0
    assert tree.overtime_cond is None


@pytest.mark.parametrize(
    ("kwargs", "role"),
    [
        ({"root": "A"}, "root"),
        ({"root": None}, "root"),
        ({"root": ActionNode("A"), "nodes": ["B"]}, "node"),
        ({"root": ActionNode("A"), "overtime_cond": yes, "overtime_node": "X"}, "overtime_node"),
    ],
)
def test_something_that_is_not_a_node_is_a_tree_error(kwargs: dict[str, object], role: str) -> None:
    with pytest.raises(InvalidTreeError) as info:
        ActionTree(**kwargs)  # type: ignore[arg-type]
    assert info.value.codes == ("bad_node",)
    assert info.value.problems[0].nodes == (role,)
