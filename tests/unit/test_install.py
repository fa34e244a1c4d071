"""What `pip install .` must bring without constraints.txt."""

from importlib.metadata import requires


def test_lxml_html_clean_is_declared_directly_and_imports():
    # jusText asks for lxml[html_clean]; lxml 6 names that extra html-clean, which some pips never match
    assert any(req.startswith("lxml_html_clean==") for req in requires("newsflow"))
    import lxml.html.clean  # noqa: F401
