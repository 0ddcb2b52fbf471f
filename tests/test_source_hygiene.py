"""The source itself: no class or module defines the same function twice (a merge of two
branches that both add a handler of one name leaves only the second one working)."""

from __future__ import annotations

import ast
from pathlib import Path

import sandbox

PACKAGE = Path(sandbox.__file__).parent


def test_no_function_is_defined_twice_in_one_scope():
    twice = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope in ast.walk(tree):
            if not isinstance(scope, (ast.Module, ast.ClassDef)):
                continue
            seen: set[str] = set()
            for node in scope.body:
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                decorators = {ast.unparse(d) for d in node.decorator_list}
                if any(d.endswith((".setter", ".deleter")) or d == "overload" for d in decorators):
                    continue
                if node.name in seen:
                    twice.append(f"{path.relative_to(PACKAGE)}: {getattr(scope, 'name', '<module>')}.{node.name}")
                seen.add(node.name)
    assert twice == []
