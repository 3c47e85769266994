"""What the code says to people, read from its source: every (context, msgid) a userError, a
top-level error or a notification is written with, and every message that is not a literal
msgid (an f-string cannot be translated: its parameters go beside it)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "events", "sharing", "reads", "access", "delivery", "schema", "resolvers",
            "subscriptions", "demo", "app")
PHRASE = "phrase"

# Call name -> (index of the message argument, the code it is written under).
FIXED_CODE = {
    "fail": (0, "INVALID"),
    "window_closed": (0, "EDIT_WINDOW_CLOSED"),
    "forbidden": (0, "FORBIDDEN"),
    "unauthenticated": (0, "UNAUTHENTICATED"),
    "not_found": (0, "NOT_FOUND"),
}
# Call name -> index of an argument that is a phrase put into another message.
PHRASES = {"check_member": 2, "check_author": 2, "rate_limited": 1, "check_account_rate": 2, "Phrase": 0}
NOTIFY = {"do_notify": 5, "do_notify_many": 5, "do_notify_followers": 4}


@dataclass(frozen=True)
class Use:
    context: str | None
    msgid: str
    where: str


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _code(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Attribute) and _name(node.value) in ("UserErrorCode", "NotificationKind"):
        return node.attr
    return None


def scan() -> tuple[list[Use], list[str]]:
    """Every msgid the code uses, and where a message is built instead of written."""
    uses: list[Use] = []
    built: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            relative = path.relative_to(ROOT)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                where = f"{relative}:{node.lineno}"
                name = _name(node.func)

                def take(arg: ast.expr | None, context: str | None, *, where: str = where) -> None:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        uses.append(Use(context, arg.value, where))
                    elif isinstance(arg, ast.IfExp):
                        take(arg.body, context)
                        take(arg.orelse, context)
                    elif isinstance(arg, (ast.JoinedStr, ast.BinOp)):
                        built.append(where)

                def arg(index: int, node: ast.Call = node) -> ast.expr | None:
                    return node.args[index] if len(node.args) > index else None

                keywords = {k.arg: k.value for k in node.keywords if k.arg}
                if name == "of" and _code(arg(0)):
                    take(arg(1), _code(arg(0)))
                elif name in FIXED_CODE:
                    index, code = FIXED_CODE[name]
                    take(arg(index), code)
                elif name == "_error" and isinstance(arg(1), ast.Constant):
                    code = arg(1)
                    assert isinstance(code, ast.Constant)
                    take(arg(0), str(code.value))
                elif name == "N_":
                    take(arg(0), None)
                elif name == "LocalizedError":
                    code = arg(1)
                    take(arg(0), code.value if isinstance(code, ast.Constant) else None)
                elif name == "GraphQLError" and isinstance(keywords.get("extensions"), ast.Dict):
                    extensions = keywords["extensions"]
                    assert isinstance(extensions, ast.Dict)
                    codes = [v for k, v in zip(extensions.keys, extensions.values)
                             if isinstance(k, ast.Constant) and k.value == "code"]
                    if codes and isinstance(codes[0], ast.Constant) and isinstance(arg(0), ast.Constant):
                        take(arg(0), str(codes[0].value))
                elif name == "UserError":
                    take(keywords.get("message"), _code(keywords.get("code")))
                elif name in PHRASES:
                    take(arg(PHRASES[name]), PHRASE)
                elif name == "check_rate":
                    take(node.args[-1] if node.args else None, PHRASE)
                elif name in NOTIFY:
                    take(arg(NOTIFY[name]), _code(arg(2 if name != "do_notify_followers" else 1)))
                if name == "mutate" and isinstance(keywords.get("limit"), ast.Tuple):
                    limit = keywords["limit"]
                    assert isinstance(limit, ast.Tuple)
                    take(limit.elts[1], PHRASE)
    return uses, built
