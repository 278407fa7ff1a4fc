"""Extract the documented request/response examples of the methods the sandbox serves.

Reads a checkout of the official docs (``bitrix24/b24restdocs``) and writes
``tests/sandbox/docs_examples.json``: per example the method, the docs page, the webhook cURL
request parameters, and the *shape* of the documented answer (HTTP status; keys with value kinds
such as ``str:num`` or ``number`` -- no documentation text is stored). The conformance test
``tests/sandbox/test_docs_conformance.py`` replays them against a live sandbox.

Usage::

    python scripts/extract_doc_examples.py DOCS_DIR [--out tests/sandbox/docs_examples.json]
    # DOCS_DIR: a work tree, or a bare git directory (read at HEAD)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ENTITY_DIRS = {"lead": "leads", "deal": "deals", "contact": "contacts", "company": "companies"}
UF_DIRS = {
    "lead": "leads/userfield",
    "deal": "deals/user-defined-fields",
    "contact": "contacts/userfield",
    "company": "companies/userfields",
}


def method_pages() -> dict[str, str]:
    """Method name -> docs page path for every method the sandbox serves."""
    out: dict[str, str] = {}
    for entity, folder in ENTITY_DIRS.items():
        for verb in ("fields", "add", "get", "list", "update", "delete"):
            out[f"crm.{entity}.{verb}"] = f"api-reference/crm/{folder}/crm-{entity}-{verb}.md"
        out[f"crm.{entity}.userfield.list"] = (
            f"api-reference/crm/{UF_DIRS[entity]}/crm-{entity}-userfield-list.md"
        )
    for name in ("list", "get", "entity-types"):
        out["crm.status." + name.replace("-", ".")] = (
            f"api-reference/crm/status/crm-status-{name}.md"
        )
    for name in ("list", "get"):
        out[f"crm.category.{name}"] = f"api-reference/crm/universal/category/crm-category-{name}.md"
    for name in ("list", "get", "base-get"):
        out["crm.currency." + name.replace("-", ".")] = (
            f"api-reference/crm/currency/crm-currency-{name}.md"
        )
    for name in ("add", "get", "list", "update", "delete"):
        out[f"tasks.task.{name}"] = f"api-reference/tasks/tasks-task-{name}.md"
    out["tasks.task.complete"] = "api-reference/tasks/status/tasks-task-complete.md"
    out["tasks.task.getFields"] = "api-reference/tasks/tasks-task-get-fields.md"
    for name in ("get", "current", "fields", "search"):
        out[f"user.{name}"] = f"api-reference/user/user-{name}.md"
    out["department.get"] = "api-reference/departments/department-get.md"
    out["batch"] = "settings/how-to-call-rest-api/batch.md"
    for verb in ("fields", "add", "get", "list", "update", "delete"):
        out[f"crm.item.{verb}"] = f"api-reference/crm/universal/crm-item-{verb}.md"
    for name in ("list", "get", "fields", "get-by-entity-type-id"):
        method = "getByEntityTypeId" if name == "get-by-entity-type-id" else name
        out[f"crm.type.{method}"] = (
            f"api-reference/crm/universal/user-defined-object-types/crm-type-{name}.md"
        )
    return out


def read_page(docs: Path, path: str) -> str | None:
    if (docs / path).is_file():
        return (docs / path).read_text(encoding="utf-8")
    try:
        return subprocess.run(
            ["git", "--git-dir", str(docs), "show", f"HEAD:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


def regions(text: str) -> tuple[str, str, str]:
    """(examples, response handling, error handling) parts of a page, by heading of any level."""
    heads = [
        (m.start(), m.group(1).strip().lower())
        for m in re.finditer(r"^#{2,4} (.+)$", text, flags=re.M)
    ]

    def span(*starts: str) -> str:
        for i, (pos, title) in enumerate(heads):
            if title.startswith(starts):
                end = next(
                    (
                        p
                        for p, t in heads[i + 1 :]
                        if t.startswith(
                            ("response handling", "error handling", "continue learning")
                        )
                    ),
                    len(text),
                )
                return text[pos:end]
        return ""

    return span("code example", "examples"), span("response handling"), span("error handling")


_BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
_SUBST = re.compile(r"'\"\$\([^)]*\)\"'")


def webhook_requests(code: str) -> list[tuple[str, Any]]:
    """(method, params) of every cURL (Webhook) tab in a Code Examples section."""
    out = []
    for tab in re.split(r"^\s*- ", code, flags=re.M):
        if not tab.lower().startswith("curl (webhook)"):
            continue
        block = _BLOCK.search(tab)
        if not block:
            continue
        script = _SUBST.sub("2025-01-01", block.group(2))
        data = re.search(r"-d '(.*?)'\s*\\?\s*\n", script, re.S)
        url = re.search(r"/rest/\S+?/\S+?/([\w.]+?)(?:\.json)?\s*$", script, re.M)
        if not url:
            continue
        if not data:
            out.append((url.group(1), {}))
            continue
        try:
            out.append((url.group(1), json.loads(data.group(1))))
        except ValueError:
            continue
    return out


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    cleaned = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    cleaned = re.sub(r",\s*\.\.\.\s*", "", cleaned)
    cleaned = re.sub(r",(\s*[}\]])", r"\1", cleaned)
    try:
        return json.loads(cleaned)
    except ValueError:
        return None


def answers(body: str) -> list[tuple[int, Any]]:
    """(HTTP status, parsed JSON) of each documented answer in a section."""
    out = []
    status = None
    pos = 0
    for m in re.finditer(r"HTTP [Ss]tatus:\s*\**(\d{3})|```json\n(.*?)```", body, re.S):
        if m.group(1):
            status = int(m.group(1))
        elif status is not None:
            parsed = _loads(m.group(2))
            if isinstance(parsed, dict) and ("result" in parsed or "error" in parsed):
                out.append((status, parsed))
        pos = m.end()
    del pos
    return out


_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$")
_NUM = re.compile(r"^-?\d+(\.\d+)?$")


def shape(value: Any) -> Any:
    """The value with every leaf replaced by its kind (keys and nesting kept)."""
    if isinstance(value, dict):
        return {str(k): shape(v) for k, v in value.items()}
    if isinstance(value, list):  # every distinct item shape (a default pipeline lacks keys)
        items: list = []
        for item in map(shape, value):
            if item not in items:
                items.append(item)
        return items[:6]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    text = str(value)
    if text == "":
        return "str:empty"
    if _DT.match(text):
        return "str:dt"
    if _NUM.match(text):
        return "str:num"
    return "str:text"


def extract(docs: Path) -> list[dict]:
    examples = []
    for method, path in method_pages().items():
        text = read_page(docs, path)
        if text is None:
            continue
        code, ok, errs = regions(text)
        requests = [(m, p) for m, p in webhook_requests(code) if m.lower() == method.lower()]
        oks = [a for a in answers(ok) if a[0] == 200]
        for i, (_m, params) in enumerate(requests):
            examples.append(
                {
                    "method": method,
                    "page": path,
                    "kind": "success",
                    "request": params,
                    "status": 200,
                    "shape": shape(oks[i][1]) if i < len(oks) else None,
                }
            )
        for status, body in answers(errs)[:1]:
            if "error" in body:
                examples.append(
                    {
                        "method": method,
                        "page": path,
                        "kind": "error",
                        "request": None,
                        "status": status,
                        "error": body.get("error"),
                        "description": body.get("error_description"),
                        "shape": shape(body),
                    }
                )
    return examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", type=Path)
    parser.add_argument("--out", type=Path, default=Path("tests/sandbox/docs_examples.json"))
    args = parser.parse_args(argv)
    examples = extract(args.docs)
    args.out.write_text(json.dumps(examples, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(examples)} examples from {len({e['page'] for e in examples})} pages -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
