import pytest
from marshmallow import ValidationError

from shared.schemas import ArticleIn


def errors_of(payload: dict) -> dict:
    with pytest.raises(ValidationError) as info:
        ArticleIn().load(payload)
    return info.value.messages


def test_minimal_article_is_valid():
    assert ArticleIn().load({"title": "T", "body": "B"}) == {"title": "T", "body": "B"}


def test_unknown_field_is_named():
    assert "colour" in errors_of({"title": "T", "body": "B", "colour": "red"})


def test_exactly_one_of_body_or_html():
    assert "body" in errors_of({"title": "T"})
    assert "body" in errors_of({"title": "T", "body": "B", "html": "<p>B</p>"})


@pytest.mark.parametrize(
    "field, value",
    [
        ("title", ""),
        ("title", "   "),
        ("title", "x" * 1001),
        ("body", "x" * 500_001),
        ("url", "not a url"),
        ("url", "ftp://example.com/a"),
        ("published_at", "yesterday"),
        ("language", "english"),
        ("language", "xx"),
        ("authors", "Jane"),
        ("authors", [""]),
    ],
)
def test_bad_field_is_named(field, value):
    payload = {"title": "T", "body": "B", field: value}
    assert field in errors_of(payload)


def test_published_at_is_normalised_to_iso_with_timezone():
    loaded = ArticleIn().load({"title": "T", "body": "B", "published_at": "2024-05-01T10:00:00", "language": "EN"})
    assert loaded["published_at"] == "2024-05-01T10:00:00+00:00"
    assert loaded["language"] == "en"
