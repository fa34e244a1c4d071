from shared.config import settings_table
from tests.helpers import ROOT


def test_operations_settings_table_is_the_one_in_config():
    assert settings_table() in (ROOT / "docs" / "operations.md").read_text()


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_readme_stays_a_front_page():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_only_the_development_page_names_the_team_folder_outside_the_repo():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    naming = [page.name for page in pages if "../shared" in page.read_text()]
    assert naming == ["development.md"]
