"""HTML prompts: template checks, escaping, answer extraction, fitting, and runs on a tiny real checkpoint."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from htlm.prompts.cli import shipped_prompts
from htlm.prompts.engine import PromptEngine, retry_hints
from htlm.prompts.extract import extract_answers
from htlm.prompts.fields import field_value
from htlm.prompts.metrics import accuracy, rouge
from htlm.prompts.template import TemplateError, load_template, parse_template
from htlm.prompts.window import WindowError, fit
from lxml import html as lxml_html

from tests.test_tokenizer import Corpus, shared_corpus
from tests.training import VALID_PAGES, shared_checkpoint

TITLE = """---
task: generate
fields: {"document": "text"}
reference: title
size_hint: 6
---
<html><head><title><mask></title></head><body><p>{{document}}</p></body></html>"""


@pytest.fixture(scope="module")
def corpus(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return shared_corpus(pytestconfig, tmp_path_factory)


@pytest.fixture(scope="module")
def checkpoint(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_checkpoint(pytestconfig, tmp_path_factory)[1]


@pytest.fixture(scope="module")
def loaded(checkpoint: Path):
    from htlm.model import load

    return load(checkpoint, device="cpu")


# --- templates ------------------------------------------------------------------------------


def test_every_shipped_prompt_loads() -> None:
    shipped = shipped_prompts()
    assert {"title-summary", "headline-summary", "description-summary", "boolq", "rte", "sentiment",
            "table-to-text", "page-title"} <= set(shipped)  # fmt: skip
    for path in shipped.values():
        template = load_template(path)
        assert template.slots and template.settings.description


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<html><body><div>{{a}}<mask></body></html>", r"<prompt>:1: </body> closes <div> opened on line 1"),
        ("<html>\n<body>\n<div><mask>\n</body></html>", r"<prompt>:4: </body> closes <div> opened on line 3"),
        ("<html>\n<body><mask>", r"<prompt>:1: <html> is never closed"),
        ("<p>\n{{ two words }}<mask></p>", r"<prompt>:2: '\{\{ two words \}\}' is not a placeholder"),
        ("<p>{{a</p><mask>", r"<prompt>:1: '\{\{a</p><mask>' is not a placeholder"),
        ("---\ntask: generate\ncolour: red\n---\n<p><mask></p>", r"<prompt>:3: expected 'key: value'"),
        ("---\nbeam: five\n---\n<p><mask></p>", r"<prompt>:2: beam: 'five' is not a int"),
        ("---\ntask: generate\n<p><mask></p>", r"front matter opened with '---' is never closed"),
        ('---\nfields: ["a"]\n---\n<p>{{a}}</p>\n<p>{{b}}<mask></p>', r"<prompt>:5: \{\{b\}\} is not among"),
        ("<p>{{a}}</p>", r"no <mask> slot"),
        ('---\ntask: classify\nlabels: ["x", "y"]\n---\n<p><mask> <mask></p>', r"<prompt>:5: .*exactly one"),
        ("---\ntask: classify\n---\n<p><mask></p>", r"labels"),
        ("---\nreference: a\n---\n<p>{{a}}<mask></p>", r"would be shown to the model"),
    ],
)
def test_template_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template(text)


def test_values_are_text_never_structure() -> None:
    template = parse_template(
        '<html><head><title>{{t}}</title><meta name="description" content="{{t}}"></head>'
        "<body><p>{{other}}</p><p><mask></p></body></html>"
    )
    hostile = "</title><mask>{{other}} & \"quoted\" 'single'"
    text = template.render({"t": hostile, "other": "{{t}}"}).text
    assert text.count("<mask>") == 1 and text.count("<title>") == 1
    root = lxml_html.fromstring(text)
    assert root.findtext(".//title") == hostile  # the whole value is the title's text
    assert root.find(".//meta").get("content") == hostile  # and the attribute's value
    assert next(root.iter("p")).text_content() == "{{t}}"  # not substituted again


def test_table_and_page_fields_stay_inside_their_markup() -> None:
    table = field_value("table", [["name", "<b>"], ["x&y", 3], ["</table><mask>", None]])
    assert table.text() == (
        "<table><tr><th>name</th><th>&lt;b&gt;</th></tr><tr><td>x&amp;y</td><td>3</td></tr>"
        "<tr><td>&lt;/table&gt;&lt;mask&gt;</td><td></td></tr></table>"
    )
    assert field_value("table", {"k": "v"}).text() == "<table><tr><td>k</td><td>v</td></tr></table>"
    prose = "words that count as the main text of the page " * 4
    page = field_value("page", f"<html><body><nav>menu</nav><mask>{prose}</mask><p>{prose}</p></body></html>")
    assert "<mask" not in page.text() and prose.strip() in page.text() and "menu" not in page.text()
    for kind, bad in (
        ("text", {"a": 1}),
        ("table", "rows"),
        ("table", [[{"x": 1}]]),
        ("page", 3),
        ("text", None),
    ):
        with pytest.raises(ValueError):
            field_value(kind, bad)


# --- answers ----------------------------------------------------------------------------------


def test_answers_between_prefix_and_suffix() -> None:
    rendered = parse_template(TITLE).render({"document": "Body text."})
    output = (
        "<html><head><title>Storm &amp; <b>surge</b> warning</title></head><body><p>Body text.</p></body>"
    )
    (answer,) = extract_answers(output, rendered.prefixes, rendered.suffixes)
    assert (answer.text, answer.found, answer.complete) == ("Storm & surge warning", True, True)
    # the model stopped before the suffix: the answer runs to the next tag
    (answer,) = extract_answers("<html><head><title>Half a title<p>", rendered.prefixes, rendered.suffixes)
    assert (answer.text, answer.complete) == ("Half a title", False)
    (answer,) = extract_answers("nothing like the template", rendered.prefixes, rendered.suffixes)
    assert not answer.found and answer.text == ""


def test_several_slots_are_found_in_order() -> None:
    template = parse_template(
        "<html><body><h1><mask></h1><p>{{x}}</p><h2><mask></h2><p><mask></p></body></html>"
    )
    rendered = template.render({"x": "middle"})
    output = "<html><body><h1>First</h1><p>middle</p><h2>Second</h2><p>Third</p></body></html>"
    assert [a.text for a in extract_answers(output, rendered.prefixes, rendered.suffixes)] == [
        "First",
        "Second",
        "Third",
    ]
    # a rewritten middle: the last-tag fallback still finds the later slots
    output = "<html><body><h1>First</h1><p>changed</p><h2>Second</h2><p>Third</p></body></html>"
    assert [a.text for a in extract_answers(output, rendered.prefixes, rendered.suffixes)] == [
        "First",
        "Second",
        "Third",
    ]


def test_retry_hints_follow_the_paper() -> None:
    rounds = retry_hints([10], 0.1, 5)
    assert rounds == [[[11], [9]], [[12], [8]], [[13], [7]], [[14], [6]], [[15], [5]]]
    assert retry_hints([None], 0.1, 2) == [[], []]


# --- the window -------------------------------------------------------------------------------


def test_long_inputs_are_cut_and_the_template_stays(corpus: Corpus) -> None:
    template = parse_template(TITLE)
    tokenizer = corpus.tokenizer
    text = " ".join(corpus.pages[0][1].split()[:400])
    fitted = fit(template, {"document": field_value("text", text)}, tokenizer, window=64, reserve=10)
    assert len(fitted.ids) <= 54 and fitted.cut_tokens > 0 and 0 < fitted.cut_units["document"] < 400
    assert fitted.rendered.text.startswith("<html><head><title><mask>6</title></head><body><p>")
    assert fitted.rendered.text.endswith("</p></body></html>")
    short = fit(template, {"document": field_value("text", "short")}, tokenizer, window=64)
    assert short.cut_tokens == 0 and short.cut_units == {}
    with pytest.raises(WindowError, match="the template alone needs"):
        fit(template, {"document": field_value("text", text)}, tokenizer, window=12)


def test_metrics() -> None:
    means, each = rouge(["storm warning issued", "cats"], ["storm warning issued", "dogs"])
    assert each[0]["rouge1"] == 100.0 and each[1]["rouge1"] == 0.0 and means["rouge1"] == 50.0
    value, matrix = accuracy(["yes", "no", "yes"], ["yes", "yes", "no"])
    assert value == pytest.approx(33.33) and matrix == {"no": {"no": 0, "yes": 1}, "yes": {"no": 1, "yes": 1}}


# --- with the tiny checkpoint trained on the real pages ---------------------------------------


def title_rows(corpus: Corpus, pages: list[tuple[str, str]]) -> list[dict[str, str]]:
    rows = []
    for name, mhtml in pages:
        title = re.search(r"<title>(.*?)</title>", mhtml, flags=re.DOTALL)
        body = lxml_html.fromstring(mhtml).find("body")
        rows.append({"id": name, "document": body.text_content() if body is not None else "",
                     "title": title.group(1) if title else ""})  # fmt: skip
    return rows


def test_generation_returns_text_for_every_row(loaded, corpus: Corpus) -> None:
    rows = [*title_rows(corpus, corpus.pages[-4:]), {"id": "no-document"}, {"document": {"not": "text"}}]
    results = PromptEngine(loaded, parse_template(TITLE), batch_size=4, retries=1).generate(rows)
    assert [r["index"] for r in results] == list(range(len(rows)))
    for result in results[:4]:
        assert result["error"] is None and isinstance(result["answer"], str) and result["output"]
        assert result["attempts"] >= 1 and result["perplexity"] > 1 and result["size_hints"]
        assert result["cut_tokens"] > 0  # real pages do not fit a 64-token window
    assert results[4]["error"] == "missing field 'document'"
    assert results[5]["error"] == "field 'document' is not a string"
    # the size-hint policy: a row with no answer was retried with 6 +- 10% (one round: 7 and 5)
    for result in results[:4]:
        assert result["attempts"] == (1 if result["extracted"] and result["size_hints"] == [6] else 3)


def test_top_p_sampling_is_seeded(loaded, corpus: Corpus) -> None:
    rows = title_rows(corpus, corpus.pages[-2:])
    runs = [
        PromptEngine(loaded, parse_template(TITLE), top_p=0.9, seed=seed, retries=0).generate(rows)
        for seed in (3, 3, 4)
    ]
    assert [r["output"] for r in runs[0]] == [r["output"] for r in runs[1]]
    assert [r["output"] for r in runs[0]] != [r["output"] for r in runs[2]]


def classify_prompt(real: str, corrupted: str) -> str:
    labels = json.dumps({"real": real, "corrupted": corrupted})
    return (
        f'---\ntask: classify\nfields: {{"page": "page"}}\nlabels: {labels}\n---\n'
        "<html><head><title><mask></title></head><body>{{page}}</body></html>"
    )


def corrupt(title: str, rng: random.Random) -> str:
    return " ".join("".join(rng.sample(word, len(word))) for word in reversed(title.split()))


def test_scoring_prefers_the_training_document(loaded, corpus: Corpus) -> None:
    rng = random.Random(0)
    wins, scores = 0, {}
    training = [
        (name, mhtml) for name, mhtml in corpus.pages[:-VALID_PAGES] if re.search(r"<title>\w", mhtml)
    ]
    for name, mhtml in training[:10]:
        title = re.search(r"<title>(.*?)</title>", mhtml, flags=re.DOTALL).group(1)
        template = parse_template(classify_prompt(title, corrupt(title, rng)))
        engine = PromptEngine(loaded, template)
        results = {
            method: engine.score([{"page": mhtml}], method=method)[0]
            for method in ("loglik", "pmi", "channel")
        }
        assert all(r["error"] is None for r in results.values())
        wins += results["loglik"]["label"] == "real"
        scores[name] = {method: r["scores"] for method, r in results.items()}
    assert wins >= 8, scores
    for per_method in scores.values():  # the calibrated variants are different numbers
        assert per_method["pmi"] != per_method["loglik"] and per_method["channel"] != per_method["loglik"]


def test_batched_scoring_equals_one_at_a_time(loaded) -> None:
    template = load_template(shipped_prompts()["boolq"])
    questions = ("is the harbour open at night", "does it open in the morning")
    passages = [f"The harbour opens at {hour} in the morning and closes at dusk." for hour in (6, 7, 8)]
    rows = [{"passage": passage, "question": question} for passage in passages for question in questions]
    # the schema.org markup alone is longer than the 64 tokens the test model was trained on
    assert PromptEngine(loaded, template).score(rows[:1])[0]["error"].startswith("the template alone needs")
    one = PromptEngine(loaded, template, batch_size=1, window=256).score(rows)
    batched = PromptEngine(loaded, template, batch_size=6, window=256).score(rows)
    for a, b in zip(one, batched, strict=True):
        assert a["label"] == b["label"]
        assert a["scores"] == pytest.approx(b["scores"], abs=1e-3)


def test_autoprompt_writes_a_prompt_that_loads(loaded, tmp_path: Path) -> None:
    from htlm.prompts.autoprompt import autoprompt, wrap_template

    examples = [{"document": "The harbour opens at six.", "summary": "Harbour hours"},
                {"document": "Storms close the coast road.", "summary": "Road closed"}]  # fmt: skip
    result = autoprompt(PromptEngine(loaded, wrap_template(2), retries=0), examples, ["document"], "summary")
    path = tmp_path / "auto.html"
    path.write_text(result.text)
    template = load_template(path)
    assert template.fields == {"document": "text"} and len(template.slots) == 1
    assert template.settings.reference == "summary" and template.slots[0].size_hint > 0


def test_htlm_prompt_cli_counts_bad_rows_and_evaluates(
    checkpoint: Path, corpus: Corpus, tmp_path: Path
) -> None:
    rows = title_rows(corpus, corpus.pages[-3:])
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"document": r["document"], "summary": r["title"]}) for r in rows]
    source.write_text("\n".join([*lines, "{not json", json.dumps({"summary": "no document"})]) + "\n")
    out = tmp_path / "out.jsonl"
    script = Path(sys.executable).with_name("htlm-prompt")
    done = subprocess.run(
        [str(script), "--checkpoint", str(checkpoint), "--prompt", "title-summary", "--input", str(source),
         "--output", str(out), "--device", "cpu", "--beam", "2"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(results) == 5 and [r["error"] is None for r in results] == [True, True, True, False, False]
    assert (
        results[3]["error"].startswith("line 4: not JSON")
        and results[4]["error"] == "missing field 'document'"
    )
    assert "errors: 2" in done.stdout and "ROUGE-1/2/L over 3 rows" in done.stdout and str(out) in done.stdout
    assert all("rouge" in r for r in results[:3])
    reviews = tmp_path / "reviews.jsonl"
    texts = [("A wonderful, moving film.", "positive"), ("Dull and far too long.", "negative")] * 2
    reviews.write_text("".join(json.dumps({"review": t, "label": label}) + "\n" for t, label in texts))
    done = subprocess.run(
        [str(script), "--checkpoint", str(checkpoint), "--prompt", "sentiment", "--input", str(reviews),
         "--output", str(out), "--device", "cpu", "--window", "256", "--scoring", "pmi"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "accuracy over 4 rows" in done.stdout and "gold \\ predicted" in done.stdout
    assert all(
        set(json.loads(line)["scores"]) == {"positive", "negative"} for line in out.read_text().splitlines()
    )
    bad = subprocess.run(
        [str(script), "--checkpoint", str(checkpoint), "--prompt", "no-such-prompt", "--input", str(source),
         "--output", str(out)], capture_output=True, text=True,
    )  # fmt: skip
    assert (
        bad.returncode == 2
        and "no shipped prompt of that name" in bad.stderr
        and "Traceback" not in bad.stderr
    )
