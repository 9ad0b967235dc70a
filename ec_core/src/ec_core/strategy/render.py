"""Draw an action tree as a Mermaid flowchart or as indented text, so users can check it."""

from __future__ import annotations

import re

from ec_core.strategy.action import ActionNode
from ec_core.strategy.tree import ActionTree

__all__ = ["to_mermaid", "to_text"]


def _ident(name: str, used: dict[str, str]) -> str:
    if name not in used:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "node"
        ident = f"n_{base}"
        while ident in used.values():
            ident += "_"
        used[name] = ident
    return used[name]


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def _payload_summary(node: ActionNode) -> str:
    return f"{len(node.payloads)} payload(s)" if node.payloads else "no payload"


def to_mermaid(tree: ActionTree) -> str:
    """A ``flowchart TD`` diagram: branches are labelled edges, end nodes are rounded,
    the overtime path is dotted."""
    used: dict[str, str] = {}
    lines = ["flowchart TD"]
    for name, node in tree.nodes.items():
        ident = _ident(name, used)
        label = _label(f"{name}<br/>{_payload_summary(node)}")
        shape = f'(["{label}"])' if node.is_end else f'["{label}"]'
        lines.append(f"    {ident}{shape}")
    for name in tree.nodes:
        for branch, _, child in _branches(tree, name):
            lines.append(
                f'    {_ident(name, used)} -- "{_label(branch)}" --> {_ident(child.name, used)}'
            )
    if tree.overtime_node is not None:
        lines.append(f'    overtime{{{{"{_overtime(tree)}"}}}}')
        lines.append(f"    overtime -.-> {_ident(tree.overtime_node.name, used)}")
    lines.append(f"    style {_ident(tree.root.name, used)} stroke-width:3px")
    return "\n".join(lines) + "\n"


def to_text(tree: ActionTree) -> str:
    """An indented outline, root first; ``[end]`` marks end nodes."""
    lines: list[str] = []

    def walk(node: ActionNode, prefix: str, branch: str | None, last: bool, top: bool) -> None:
        tag = " [end]" if node.is_end else ""
        via = f"{branch} → " if branch is not None and branch != node.name else ""
        standby = " (standby)" if node.standby else ""
        text = f"{via}{node.name}{standby} ({_payload_summary(node)}){tag}"
        if top:
            lines.append(text)
            child_prefix = ""
        else:
            lines.append(f"{prefix}{'└── ' if last else '├── '}{text}")
            child_prefix = prefix + ("    " if last else "│   ")
        children = _branches(tree, node.name)
        for i, (name, _, child) in enumerate(children):
            walk(child, child_prefix, name, i == len(children) - 1, False)

    walk(tree.root, "", None, True, True)
    if tree.overtime_node is not None:
        lines.append(f"{_overtime(tree)}:")
        walk(tree.overtime_node, "", None, True, False)
    return "\n".join(lines) + "\n"


def _overtime(tree: ActionTree) -> str:
    """What sends the tree to overtime: its condition, its timeout (in seconds) or both."""
    if tree.timeout_ns is None:
        return "overtime"
    after = f"after {tree.timeout_ns / 1e9:g} s"
    return f"overtime, or {after}" if tree.overtime_cond is not None else f"overtime {after}"


def _branches(tree: ActionTree, name: str) -> tuple[tuple[str, object, ActionNode], ...]:
    return tree.branches(name)
