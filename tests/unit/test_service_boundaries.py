"""Each service imports only its own package and `shared`: what services share is a contract in `shared/`, so one
can be deployed, changed and read without another's code (ingest and publish do not load spaCy's models either)."""

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("service", sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists()))
def test_a_service_imports_no_other_service(service):
    crossings = {
        f"{path.relative_to(SERVICES)}: {module}"
        for path in (SERVICES / service).rglob("*.py")
        for module in imported_modules(path)
        if module.startswith("services.") and not module.startswith(f"services.{service}")
    }
    assert not crossings
