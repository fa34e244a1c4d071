from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from shared.identity import article_id, canonical_url, content_hash


def test_canonical_url_drops_fragment_tracking_and_case_of_host():
    assert (
        canonical_url("HTTPS://News.Example.COM:443/a/b?utm_source=x&id=7&fbclid=y#top")
        == "https://news.example.com/a/b?id=7"
    )


def test_canonical_url_keeps_path_case_and_non_default_port():
    assert canonical_url("http://example.com:8080/Path") == "http://example.com:8080/Path"


@given(st.dictionaries(st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "gclid"]), st.text(max_size=8)))
def test_tracking_parameters_never_change_the_id(tracking):
    query = urlencode(tracking)
    base = {"title": "T", "body": "B", "source": "s"}
    assert article_id({**base, "url": f"https://example.com/a?{query}"}) == article_id(
        {**base, "url": "https://example.com/a"}
    )


def test_source_and_external_id_win_over_url_and_content():
    one = {"title": "T", "body": "B", "source": "wire", "external_id": "42", "url": "https://a.example/1"}
    two = {**one, "body": "changed", "url": "https://b.example/2"}
    assert article_id(one) == article_id(two)
    assert article_id(one) != article_id({**one, "source": "other"})


def test_without_url_or_external_id_the_content_decides():
    a = {"title": "T", "body": "B", "source": "s"}
    assert article_id(a) == article_id(dict(a))
    assert article_id(a) != article_id({**a, "body": "C"})


def test_content_hash_ignores_metadata_but_not_text():
    a = {"title": "T", "body": "B", "authors": ["x"]}
    assert content_hash(a) == content_hash({**a, "authors": ["y"]})
    assert content_hash(a) != content_hash({**a, "title": "U"})
