"""How benchmarks/finetune_ner.py turns a gold-labelled article into NER training data, on made-up names."""

import spacy

from benchmarks.finetune_ner import example, gold_spans

TEXT = "By Orla Fenwick\nTam Quell of Blorvex Holdings flew to Zarnia on 3 May. Quell said Zarnia was calm."
GOLD = {
    "people": [{"name": "Tam Quell", "aliases": ["Quell"]}],
    "organisations": [{"name": "Blorvex Holdings", "aliases": []}],
    "places": [{"name": "Zarnia", "aliases": [], "optional": True}],
}


def entities(doc):
    return [(e.text, e.label_) for e in doc.ents]


def test_every_gold_name_and_alias_is_found_with_its_list_label():
    doc = spacy.blank("en").make_doc(TEXT)
    found = sorted((s.text, s.label_, s.start_char) for s in gold_spans(doc, GOLD, {}))
    zarnia = [TEXT.index("Zarnia"), TEXT.rindex("Zarnia")]
    assert found == sorted(
        [("Tam Quell", "PERSON", TEXT.index("Tam")), ("Quell", "PERSON", TEXT.rindex("Quell"))]
        + [("Quell", "PERSON", TEXT.index("Tam") + 4), ("Blorvex Holdings", "ORG", TEXT.index("Blorvex"))]
        + [("Zarnia", "GPE", start) for start in zarnia]
    )


def test_a_place_keeps_the_base_models_loc_label():
    doc = spacy.blank("en").make_doc(TEXT)
    start = TEXT.index("Zarnia")
    spans = gold_spans(doc, GOLD, {(start, start + len("Zarnia")): "LOC"})
    assert {(s.start_char, s.label_) for s in spans if s.text == "Zarnia"} == {
        (start, "LOC"),
        (TEXT.rindex("Zarnia"), "GPE"),
    }


def test_the_byline_is_taught_as_no_entity_and_the_base_models_date_is_kept():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")  # stands in for the base model's predictions
    ruler.add_patterns([{"label": "PERSON", "pattern": "Orla Fenwick"}, {"label": "DATE", "pattern": "3 May"}])
    reference = example(nlp, TEXT, GOLD).reference
    assert ("Orla Fenwick", "PERSON") not in entities(reference)
    assert reference[1].ent_iob_ == "O"  # "Orla": explicitly outside, not missing
    assert ("3 May", "DATE") in entities(reference)
    assert entities(reference).count(("Tam Quell", "PERSON")) == 1  # the longest span wins over "Quell" inside it
