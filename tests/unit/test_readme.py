from shared.config import settings_table
from tests.helpers import ROOT


def test_operations_settings_table_is_the_one_in_config():
    assert settings_table() in (ROOT / "docs" / "operations.md").read_text()


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
