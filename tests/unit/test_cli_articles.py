"""newsflow submit: files and folders to articles, and unreadable input as rejected items."""

import json

from services.cli.articles import (
    Item,
    article_from_html,
    article_from_text,
    collect_files,
    items_from_json,
    items_from_jsonl,
    read_items,
)


def test_text_file_title_is_its_first_non_empty_line_and_body_the_whole_text():
    text = "\n\n  Storm hits the coast  \nWinds of 150 km/h.\n"
    assert article_from_text(text) == {"title": "Storm hits the coast", "body": text}


def test_blank_text_file_is_an_error_not_an_article():
    assert article_from_text(" \n\n") == "empty file"


def test_html_title_comes_from_the_title_element_unescaped_and_on_one_line():
    markup = "<html><head><TITLE>\n  Rates &amp; markets\n</TITLE></head><body>x</body></html>"
    assert article_from_html(markup, "page") == {"title": "Rates & markets", "html": markup}


def test_html_without_a_title_falls_back_to_the_file_name():
    assert article_from_html("<p>No head</p>", "2026-11-26-storm")["title"] == "2026-11-26-storm"


def test_json_file_holds_one_article_or_a_list_each_named_by_index():
    assert items_from_json("a.json", '{"title": "T", "body": "B"}') == [Item("a.json", {"title": "T", "body": "B"})]
    items = items_from_json("a.json", '[{"title": "T", "body": "B"}, "oops"]')
    assert items == [
        Item("a.json[0]", {"title": "T", "body": "B"}),
        Item("a.json[1]", error="expected a JSON object, got a string"),
    ]


def test_invalid_json_file_is_one_rejected_item_saying_where():
    [item] = items_from_json("bad.json", '{"title": ')
    assert item.article is None and item.error.startswith("invalid JSON: Expecting value: line 1")


def test_jsonl_lines_are_named_by_line_number_and_blank_lines_skipped():
    text = '{"title": "A", "body": "a"}\n\nnot json\n[1]\n'
    items = items_from_jsonl("feed.jsonl", text)
    assert [item.origin for item in items] == ["feed.jsonl:1", "feed.jsonl:3", "feed.jsonl:4"]
    assert items[0].article == {"title": "A", "body": "a"}
    assert items[1].error.startswith("invalid JSON")
    assert items[2].error == "expected a JSON object, got an array"


def test_folders_are_searched_recursively_for_supported_files_only(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.txt", "a.html", "sub/c.jsonl", "notes.md", "sub/d.JSON"):
        (tmp_path / name).write_text("x")
    found = collect_files([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.html", "b.txt", "sub/c.jsonl", "sub/d.JSON"]


def test_a_file_named_explicitly_with_an_unsupported_type_is_rejected_not_skipped(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# hi")
    [item] = read_items(collect_files([notes])[0])
    assert item.error.startswith("unsupported file type")


def test_a_file_that_is_not_utf8_is_rejected_with_the_reason(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Café crème".encode("latin-1"))
    [item] = read_items(latin)
    assert item.article is None and item.error.startswith("cannot read:") and "utf-8" in item.error


def test_read_items_dispatches_on_the_suffix(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"title": "T", "html": "<p>x</p>"}) + "\n")
    assert read_items(tmp_path / "a.jsonl") == [Item(f"{tmp_path}/a.jsonl:1", {"title": "T", "html": "<p>x</p>"})]
