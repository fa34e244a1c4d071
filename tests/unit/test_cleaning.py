"""The plain-text boilerplate remover, on made-up articles (the corpus is only read, never copied)."""

import json
import time

import pytest

from services.enrich.boilerplate import _is_paragraph, explain, remove_boilerplate
from services.enrich.cleaning import NothingToEnrich, article_text, has_markup
from tests.helpers import CORPUS, seed_article

TITLE = "Harbour city approves new flood barrier"
LEDE = (
    "The city council of Portville on Tuesday approved a 40-million-dollar flood barrier after two winters of severe "
    "flooding along the harbour front, ending a debate that had lasted almost a decade."
)
QUOTE = "“We cannot let the water decide where people live,” said the mayor, Alice Brown."
CLOSE = "Work on the barrier is due to start in the spring and to end in 2027, the council said in a statement."


def clean(*lines: str, title: str = TITLE) -> str:
    return remove_boilerplate("\n".join(lines), title)


def article(*noise: str) -> str:
    """An article with `noise` lines between its paragraphs."""
    return clean(LEDE, *noise, QUOTE, CLOSE)


def lines_of(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


def assert_only_the_article(text: str) -> None:
    assert lines_of(text) == [LEDE, QUOTE, CLOSE]


# --- 1. navigation and headline ---------------------------------------------------------------------------------


def test_breadcrumb_with_a_truncated_headline_and_the_repeated_headline_are_removed():
    assert_only_the_article(clean("Home News Local Harbour city approves new flood...", TITLE, LEDE, QUOTE, CLOSE))


def test_a_breadcrumb_title_does_not_keep_the_clean_headline_below_it():
    crumbs = "Home World Europe Harbour city approves new flood barrier"
    assert_only_the_article(clean(crumbs, TITLE, LEDE, QUOTE, CLOSE, title=crumbs))


def test_headline_repeated_with_an_ellipsis_is_removed():
    assert_only_the_article(clean(LEDE, "Harbour city approves new…", QUOTE, CLOSE))


@pytest.mark.parametrize("line", ["News / Local / Portville", "Home › World › Europe", "• World", "Opinion"])
def test_navigation_lines_before_the_article_are_removed(line):
    assert_only_the_article(clean(line, LEDE, QUOTE, CLOSE))


def test_a_headline_that_is_the_lede_sentence_is_kept():
    assert clean(LEDE, QUOTE, CLOSE, title=LEDE).split("\n") == [LEDE, QUOTE, CLOSE]


# --- 2. captions and credits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "caption",
    [
        "The mayor visits the harbour front after the storm. Photo / AP",
        "A worker inspects the old sea wall on Monday. (AP Photo/Jane Doe)",
        "Photo: Reuters",
        "Flood water covers the main square in March. Getty Images",
        "File photo",
        "Image credit: Portville City Council",
        "Sandbags line the river bank on Sunday. JANE DOE/AFP/Getty Images",
        "Photographer: Jane Doe/Bloomberg",
        "The mayor and the harbour master (left) at the sea wall (Photo: portville.example)",
        "Residents clear mud from a street in Portville. (Jane Doe for The Daily Planet)",
        "Image source, Getty Images",
        "Alice Brown (pictured) said the barrier would 'change everything'",
        "The old sea wall in Portville, March 3, 2024 (AFP)",
    ],
)
def test_photo_captions_and_credits_are_removed(caption):
    assert_only_the_article(article(caption))


def test_the_caption_shown_twice_goes_with_its_credited_copy():
    caption = "The mayor visits the harbour front after the storm on Monday morning"
    assert_only_the_article(article(caption, f"{caption} (Jane Doe/Portville Post)"))


def test_a_credit_glued_to_a_long_lede_is_cut_and_the_lede_kept():
    assert clean(f"{LEDE} (REUTERS)", QUOTE, CLOSE).split("\n") == [LEDE, QUOTE, CLOSE]


# --- 3. bylines and agency credits --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "By Jane Doe",
        "By Jane Doe and John Roe, Reuters",
        "BY JANE DOE",
        "By Jane Doe / Staff reporter",
        "Jane Doe Political correspondent",
        "Additional reporting by John Roe in Portville.",
        "Associated Press writer John Roe in Portville contributed to this report.",
        "Reporting by Jane Doe; Editing by John Roe",
        "(Reporting by Jane Doe; Writing by John Roe)",
        "Additional reporting by John Roe in Portville",
        "Compiled by Jane Doe",
        "Written by John Roe",
        "Published: November 5, 2016, 3:20pm",
        "Updated 3:20pm GMT, 5 November 2016",
        "First Published: Dec 28 2018 | 1:10 PM IST",
        "Monday, 13 Oct 2014",
        "5 min read",
        "/dpa/AFP",
    ],
)
def test_bylines_credits_and_date_lines_are_removed(line):
    assert_only_the_article(article(line))


def test_a_trailing_reporting_credit_is_cut():
    assert clean(LEDE, QUOTE, f"{CLOSE} (Reporting by Jane Doe; Editing by John Roe)").split("\n") == [
        LEDE,
        QUOTE,
        CLOSE,
    ]


def test_a_trailing_agency_or_source_credit_is_cut():
    assert clean(LEDE, QUOTE, f"{CLOSE} — Reuters").split("\n") == [LEDE, QUOTE, CLOSE]
    assert clean(LEDE, QUOTE, f"{CLOSE} Source: Example Newswires,").split("\n") == [LEDE, QUOTE, CLOSE]


def test_an_author_bio_after_the_article_is_removed():
    assert_only_the_article(
        clean(LEDE, QUOTE, CLOSE, "Jane Doe is a reporter at the Portville Post covering the city.")
    )


def test_the_author_box_and_what_follows_are_removed():
    assert_only_the_article(clean(LEDE, QUOTE, CLOSE, "About the author: Jane Doe", "Writer. Sailor. Coffee lover."))


# --- 4. related articles ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marker", ["Read more:", "Related:", "Also read", "See also", "More from Portville Post", "Recommended",
               "You may also like", "Trending", "Most read", "Lesen Sie auch", "Leia também"],
)  # fmt: skip
def test_a_related_list_and_its_headlines_are_removed(marker):
    assert_only_the_article(article(marker, "Storm damage costs soar", "Council election date set"))


@pytest.mark.parametrize(
    "line",
    [
        "Read more: Ten years of floods in Portville",
        "Read More About: Local News",
        "ALSO READ | Storm damage costs soar",
        "Watch: How the harbour flooded",
        "Full coverage of the Portville floods",
    ],
)
def test_related_links_are_removed(line):
    assert_only_the_article(article(line))


def test_a_related_list_in_the_middle_ends_at_the_next_sentence():
    lines = [
        LEDE,
        "Related:",
        "Storm damage costs soar",
        "Council election date set",
        "It was finished in 2026, he said.",
    ]
    assert clean(*lines).split("\n") == [LEDE, "It was finished in 2026, he said."]


def test_trailing_read_more_and_bracketed_links_are_cut():
    assert clean(LEDE, QUOTE, f"{CLOSE} =read more").split("\n") == [LEDE, QUOTE, CLOSE]
    assert clean(LEDE, QUOTE, f"{CLOSE} [Related: Ten Years Of Floods In Portville]").split("\n") == [
        LEDE,
        QUOTE,
        CLOSE,
    ]


# --- 5. footers and widgets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Exit mobile version",
        "Share this",
        "Share on Facebook",
        "Share on WhatsApp",
        "Share Adjust Comment Print",
        "Follow us on Twitter",
        "Subscribe",
        "Sign up for our newsletter",
        "Click here to read the full report",
        "Advertisement",
        "Article continues after advertisement",
        "Skip to content",
        "We use cookies to give you the best experience. By continuing to browse, you agree to our cookie policy.",
        "Download the Portville Post app for the latest news.",
        "Disclaimer: this content was supplied by a partner.",
        "(This story has not been edited by our staff and is auto-generated from a syndicated feed.)",
        "This article is more than 10 years old.",
        "Publicidad",
        "___",
        "<img src='pixel.gif' width='1' height='1'>",
    ],
)
def test_widget_lines_are_removed_wherever_they_are(line):
    assert_only_the_article(article(line))


@pytest.mark.parametrize(
    "line",
    [
        "Leave a Reply",
        "Comments",
        "Copyright © 2024 Portville Post",
        "All rights reserved.",
        "Tags: floods, Portville",
        "Filed under: Local",
        "Posted in Local News",
        "Related Topics",
        "Kommentare",
    ],
)
def test_footer_lines_are_removed(line):
    assert_only_the_article(clean(LEDE, QUOTE, CLOSE, line))


def test_an_end_marker_in_the_middle_does_not_take_the_rest_of_the_article():
    more = [f"{CLOSE[:-1]} on day {n}." for n in range(3)]
    assert clean(LEDE, "Tags: floods", *more).split("\n") == [LEDE, *more]


def test_everything_after_the_comments_is_removed():
    lines = [LEDE, QUOTE, CLOSE, "Leave a Reply", "Your email address will not be published.", "Great article, thanks!"]
    assert_only_the_article(clean(*lines))


def test_a_repeated_paragraph_is_removed():
    assert_only_the_article(clean(LEDE, QUOTE, CLOSE, QUOTE))


# --- 6. datelines -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dateline", "expected"),
    [
        ("KABUL (Reuters) - ", "Kabul — "),
        ("NEW DELHI, India (AP) — ", "New Delhi, India — "),
        ("LONDON, Feb 3 (Reuters) - ", "London, Feb 3 — "),
        ("Hanoi (VNA) – ", "Hanoi — "),
        ("BOSTON(AP) ", "Boston — "),
        ("ST. LOUIS — ", "St. Louis — "),
        ("WASHINGTON, D.C. — ", "Washington, D.C. — "),
        ("DETROIT: ", "Detroit: "),
        ("(CNN) ", ""),
    ],
)
def test_datelines_lose_the_agency_and_the_capitals(dateline, expected):
    assert clean(dateline + LEDE, QUOTE, CLOSE).split("\n")[0] == expected + LEDE


def test_a_leading_date_stamp_is_removed():
    assert clean(f"date 2023-01-26 {LEDE}", QUOTE, CLOSE).split("\n")[0] == LEDE


@pytest.mark.parametrize("line", ["NATO - the alliance said on Monday it would act.", "UPDATE: The toll rose to 40."])
def test_capitals_that_are_not_a_dateline_are_kept(line):
    assert line in clean(LEDE, line, CLOSE)


# --- real sentences are kept --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "By the end of the year, the council expects to hire 500 workers for the project.",
        "By Monday, the team had finished.",
        "“This photo shows exactly what the water did to our street,” said resident Tom Green.",
        "Experts urged residents to read more carefully before signing insurance contracts.",
        "Share prices of local builders rose on the news.",
        "Copyright law was not part of the debate, the council said.",
        "Reporting by the city newspaper revealed that the plan had been delayed twice.",
        "Written by a local poet in 1850, the harbour song is still sung at every launch.",
        "Subscribers to the council newsletter were told first.",
        "The photograph by Jane Doe won a regional prize last year.",
        "Jane Doe is a reporter at the Portville Post who first revealed the plan, and she was sued for it in 2021.",
        "The ministry said the barrier was safe. (AFP)",
        "Demand will be higher than thought",
    ],
)
def test_real_sentences_are_kept(sentence):
    kept = article(sentence)
    assert sentence.removesuffix(" (AFP)") in kept.split("\n")


def test_a_long_paragraph_is_kept_whatever_it_mentions():
    paragraph = (
        "Residents who click here and there on the council website will not find the report, which was written by "
        "engineers and published: it is, the mayor said, all rights reserved for the planning committee until June."
    )
    assert _is_paragraph(paragraph) and paragraph in article(paragraph).split("\n")


def test_a_short_article_is_left_alone():
    assert clean("A storm hit the coast of Portugal on Monday.", title="Storm") == (
        "A storm hit the coast of Portugal on Monday."
    )


def test_explain_names_the_rule_of_each_removed_line():
    reasons = dict(explain("\n".join(["By Jane Doe", LEDE, "Photo: Reuters", CLOSE, "Advertisement"]), TITLE))
    assert reasons == {
        "By Jane Doe": "byline",
        LEDE: None,
        "Photo: Reuters": "caption",
        CLOSE: None,
        "Advertisement": "advert",
    }


# --- article_text -------------------------------------------------------------------------------------------------


def test_article_text_cleans_a_plain_text_body():
    assert article_text({"title": TITLE, "body": "\n".join(["By Jane Doe", LEDE, "Leave a Reply"])}) == LEDE


def test_a_body_that_is_only_its_headline_is_kept_rather_than_rejected():
    assert article_text({"title": "Storm hits coast", "body": "Storm hits coast"}) == "Storm hits coast"


def test_an_empty_body_is_nothing_to_enrich():
    with pytest.raises(NothingToEnrich):
        article_text({"title": "T", "body": " \n\n "})


HTML_BODY = f"<h2>{TITLE}</h2><p>{LEDE}</p><p>{QUOTE}</p><p>{CLOSE}</p>"


def test_a_body_laid_out_in_html_is_read_as_html_like_the_html_field():
    text = article_text({"title": TITLE, "body": HTML_BODY})
    assert text.splitlines() == [LEDE, QUOTE, CLOSE]  # one line a paragraph: nothing glued ("decade.“We")
    assert text == article_text({"title": TITLE, "html": HTML_BODY})


def test_an_html_fragment_loses_its_tags_and_keeps_every_block():
    assert article_text({"title": "T", "body": "<p>Flood in Portville.<br>Roads closed.</p>"}) == (
        "Flood in Portville.\nRoads closed."
    )


def test_inline_tags_alone_leave_a_body_plain_text():
    body = f'{LEDE}\n<img src="https://tracker.example/p.gif">\n{QUOTE} The <b>barrier</b> is tall.'
    assert article_text({"title": TITLE, "body": body}) == f"{LEDE}\n\n{QUOTE} The barrier is tall."


@pytest.mark.parametrize("text", ["<p>One</p>", "One<br/>Two", '<DIV class="story">One</DIV>', "<li>One"])
def test_html_blocks_are_markup(text):
    assert has_markup(text)


@pytest.mark.parametrize("text", ["x < y and y > z", "I <3 Portville", "a <b>bold</b> move", "<Portville> said"])
def test_comparisons_inline_tags_and_made_up_tags_are_not(text):
    assert not has_markup(text)


def test_the_seed_article_loses_its_navigation_and_footer_only():
    raw = seed_article()
    cleaned = article_text(raw)
    assert raw["title"] not in cleaned
    for line in raw["body"].splitlines():
        if _is_paragraph(line.strip()):
            assert line.strip() in cleaned
    assert len(lines_of(cleaned)) < len([line for line in raw["body"].splitlines() if line.strip()])


@pytest.mark.skipif(not (CORPUS / "dev.jsonl").exists(), reason="no evaluation corpus")
def test_no_paragraph_of_the_dev_corpus_is_dropped():
    for line in (CORPUS / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        title = next((t.strip() for t in text.splitlines() if t.strip()), "")
        cleaned = remove_boilerplate(text, title)
        for line, reason in explain(text, title):
            if _is_paragraph(line):
                # A paragraph goes only as a copy (of another paragraph, of the caption beside it). Else only the ends
                # of a line are rewritten (dateline, credits): its middle must be there.
                assert reason in (None, "duplicate", "caption"), line[:60]
                assert reason or " ".join(line.split()[6:16]) in cleaned, line[:60]


def test_a_long_junk_line_is_not_searched_whole():
    junk = "A/" * 50_000 + "x"  # every credit pattern fails late here: quadratic if searched from every position
    started = time.perf_counter()
    remove_boilerplate(f"{LEDE}\n{junk}", TITLE)
    assert time.perf_counter() - started < 2
