"""What the code says to people, read from its source: every (context, msgid) a userError, a
top-level error or a notification is written with, and every message that is not a literal
msgid (an f-string cannot be translated: its parameters go beside it).

For maintainers: `python -m tests.i18n.catalogue --missing` prints, for each catalogue, the
msgids the code uses that it lacks, as .po entries to paste into it (the English msgstr is the
msgid; another language's is left empty for its translator); `--stale` lists the entries the
code no longer uses; `--built` the calls that build their message with an f-string. With no
option it does all three. The exit status is 1 when it printed anything.
"""

from __future__ import annotations

import argparse
import ast
import io
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from access.i18n import LOCALES, catalogue
from app.middleware import HTTP_ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "events", "sharing", "storage", "reads", "access", "delivery", "schema", "resolvers",
            "subscriptions", "demo", "app")
PHRASE = "phrase"

# Call name -> (index of the message argument, the code it is written under).
FIXED_CODE = {
    "fail": (0, "INVALID"),
    "window_closed": (0, "EDIT_WINDOW_CLOSED"),
    "forbidden": (0, "FORBIDDEN"),
    "refused_role": (0, "FORBIDDEN"),
    "BadImage": (0, "UNSUPPORTED_TYPE"),
    "bad_argument": (0, "BAD_USER_INPUT"),
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
                elif name == "error_in" and isinstance(arg(2), ast.Constant):
                    code = arg(2)
                    assert isinstance(code, ast.Constant)
                    take(arg(1), str(code.value))
                elif name in ("HttpRefusal", "error_response") and isinstance(arg(0), ast.Constant):
                    status, code = arg(0), arg(2)
                    assert isinstance(status, ast.Constant)
                    take(arg(1), str(code.value) if name == "error_response" and isinstance(code, ast.Constant)
                         else HTTP_ERROR_CODES.get(int(str(status.value)), "BAD_REQUEST"))
                elif name == "Refused" and isinstance(arg(1), ast.Constant):  # app/persisted.py
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


def known(locale: str) -> set[tuple[str | None, str]]:
    """The (context, msgid) pairs the catalogue of `locale` translates."""
    return {(m.context, str(m.id)) for m in catalogue(locale) if m.id and m.string}


def missing(locale: str, uses: list[Use]) -> list[Use]:
    """The uses the catalogue of `locale` lacks (one per (context, msgid)), in catalogue order."""
    have = known(locale)
    found: dict[tuple[str | None, str], Use] = {}
    for use in uses:
        if (use.context, use.msgid) not in have and (None, use.msgid) not in have:
            found.setdefault((use.context, use.msgid), use)
    return [found[key] for key in sorted(found, key=lambda key: (key[0] or "", key[1]))]


def stale(locale: str, uses: list[Use]) -> list[tuple[str | None, str]]:
    """The catalogue's entries no code uses any more."""
    used = {(use.context, use.msgid) for use in uses} | {(None, use.msgid) for use in uses}
    return sorted((key for key in known(locale) if key not in used), key=lambda key: (key[0] or "", key[1]))


def stubs(locale: str, lacking: list[Use], uses: list[Use]) -> str:
    """`lacking` as .po entries, where the code uses them as references: the English msgstr
    is the msgid (the source), another language's is left empty for its translator."""
    stub = Catalog(locale=locale, domain="parvis")
    for use in lacking:
        places = sorted({u.where.split(":")[0] for u in uses if (u.context, u.msgid) == (use.context, use.msgid)})
        braces = any(name for _, name, _, _ in string.Formatter().parse(use.msgid))
        stub.add(use.msgid, use.msgid if locale == "en" else "", locations=[(place, None) for place in places],
                 flags=["python-brace-format"] if braces else [], context=use.context)
    out = io.BytesIO()
    write_po(out, stub, width=120, omit_header=True)
    return out.getvalue().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.i18n.catalogue", description=__doc__.split("\n\n")[1])
    parser.add_argument("--missing", action="store_true", help="print the missing entries as .po stubs")
    parser.add_argument("--stale", action="store_true", help="list the entries the code no longer uses")
    parser.add_argument("--built", action="store_true", help="list the messages built with an f-string")
    args = parser.parse_args(argv)
    if not (args.missing or args.stale or args.built):
        args.missing = args.stale = args.built = True
    uses, built = scan()
    printed = False
    for locale in LOCALES:
        lacking = missing(locale, uses) if args.missing else []
        if lacking:
            print(f"# access/locales/{locale}/LC_MESSAGES/parvis.po lacks {len(lacking)}:\n")
            print(stubs(locale, lacking, uses))
        old = stale(locale, uses) if args.stale else []
        for context, msgid in old:
            print(f"# access/locales/{locale}/LC_MESSAGES/parvis.po: no longer used: {msgid!r} ({context})")
        printed = printed or bool(lacking or old)
    for where in built if args.built else []:
        print(f"# {where}: a message built with an f-string: write the msgid literally, its values as parameters")
        printed = True
    return 1 if printed else 0


if __name__ == "__main__":
    sys.exit(main())
