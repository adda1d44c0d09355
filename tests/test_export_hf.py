"""`htlm-export-hf`: the exported folder computes what the fairseq checkpoint computes, on real pages."""

from __future__ import annotations

import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest
import torch
from htlm.model import load
from htlm.model.export_hf import ExportError, bart_config  # (marks a mismatched torchaudio absent)
from htlm.model.hf_tokenizer import USER_DEFINED, build_hf_tokenizer, piece_table
from htlm.pipeline.tokenizer.specials import BOS_ID, EOS_ID, PAD_ID

# transformers is in [dev]: the test command always has it (no skip that would hide a missing export)
from transformers import AutoTokenizer, BartForConditionalGeneration

from tests.test_plugin import task_for, valid_batch
from tests.test_tokenizer import Corpus, shared_corpus
from tests.training import shared_checkpoint

TRICKY_TEXTS = [
    "<s>struck</s> and </s> <pad> <unk> as text",
    "<mask>12 then <mask> then <mask>0<p>x</p>",
    "a  b\tc\n\nd    <pre>  two  spaces </pre>  ",
    "naïve café — 日本語 😀 \u00a0nbsp",
    "12345 1.5e10 0x1F",
    "",
]


@pytest.fixture(scope="module")
def corpus(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return shared_corpus(pytestconfig, tmp_path_factory)


@pytest.fixture(scope="module")
def exported(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, Path]:
    """(data-bin shard, checkpoint folder, export folder) of the session's tiny checkpoint."""
    shard, checkpoints, _ = shared_checkpoint(pytestconfig, tmp_path_factory)
    out = tmp_path_factory.mktemp("export") / "hf"
    done = export_hf(checkpoints, out)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "logits vs fairseq: max |diff|" in done.stdout
    return shard, checkpoints, out


def export_hf(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("htlm-export-hf")
    return subprocess.run([str(script), *map(str, argv)], capture_output=True, text=True, timeout=600)


def test_piece_table_reads_every_piece(corpus: Corpus) -> None:
    sp = corpus.tokenizer.sp
    table = piece_table(sp.serialized_model_proto())
    assert [piece for piece, _, _ in table] == [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    assert [score for _, score, _ in table] == pytest.approx([sp.get_score(i) for i in range(len(table))])
    assert [piece for piece, _, kind in table if kind == USER_DEFINED][:3] == ["<mask>", "</a>", "<a>"]


def test_hf_tokenizer_gives_our_ids_on_every_real_page(corpus: Corpus) -> None:
    tok = corpus.tokenizer
    hf = build_hf_tokenizer(tok)
    texts = [mhtml for _, mhtml in corpus.pages] + TRICKY_TEXTS
    differ = [i for i, text in enumerate(texts) if hf.encode(text).ids != [BOS_ID, *tok.encode(text), EOS_ID]]
    assert differ == []
    assert all(hf.decode(hf.encode(text).ids) == text for text in texts)


def test_export_reproduces_fairseq_logits_on_real_batches(exported: tuple[Path, Path, Path]) -> None:
    shard, checkpoints, out = exported
    loaded = load(checkpoints, device="cpu")
    hf_model = BartForConditionalGeneration.from_pretrained(str(out)).eval()
    batch = valid_batch(task_for(shard))  # noised real pages, padded
    net = batch["net_input"]
    with torch.no_grad():
        expected = loaded.model(**net)[0]
        got = hf_model(
            input_ids=net["src_tokens"],
            attention_mask=net["src_tokens"].ne(PAD_ID),
            decoder_input_ids=net["prev_output_tokens"],
        ).logits
    real = batch["target"].ne(PAD_ID)
    assert real.sum() > 100 and net["src_tokens"].eq(PAD_ID).any()  # padding is exercised
    assert (expected - got)[real].abs().max().item() < 1e-4


def test_export_generates_as_fairseq_greedy_decoding(exported: tuple[Path, Path, Path]) -> None:
    """Incremental decoding (transformers' cache) against fairseq recomputing every step."""
    shard, checkpoints, out = exported
    loaded = load(checkpoints, device="cpu")
    hf_model = BartForConditionalGeneration.from_pretrained(str(out)).eval()
    source = valid_batch(task_for(shard), size=1)["net_input"]["src_tokens"]
    steps = 16
    with torch.no_grad():
        got = hf_model.generate(
            source, num_beams=1, do_sample=False, max_new_tokens=steps, min_new_tokens=steps,
            forced_eos_token_id=None,
        )[0].tolist()  # fmt: skip
        tokens = [EOS_ID, BOS_ID]  # decoder start, then the forced <s>
        while len(tokens) < len(got):
            logits = loaded.model(source, torch.tensor([source.shape[1]]), torch.tensor([tokens]))[0][0, -1]
            logits[EOS_ID] = -torch.inf  # min_new_tokens
            tokens.append(int(logits.argmax()))
    assert got == tokens


def test_exported_tokenizer_loads_with_auto_tokenizer(
    exported: tuple[Path, Path, Path], corpus: Corpus
) -> None:
    _, _, out = exported
    hf = AutoTokenizer.from_pretrained(str(out))
    tok = corpus.tokenizer
    for text in TRICKY_TEXTS + [mhtml for _, mhtml in corpus.pages[:20]]:
        assert hf(text)["input_ids"] == [BOS_ID, *tok.encode(text), EOS_ID]
    assert hf.convert_tokens_to_ids("<mask>") == tok.mask_id
    assert (hf.bos_token_id, hf.pad_token_id, hf.eos_token_id) == (BOS_ID, PAD_ID, EOS_ID)
    padded = hf(["<p>a</p>", "<p>a longer one</p>"], padding=True)["input_ids"]
    assert padded[0][-1] == PAD_ID and len(padded[0]) == len(padded[1])
    assert {"spm.model", "dict.txt", "config.json", "model.safetensors", "htlm_export.json"} <= {
        p.name for p in out.iterdir()
    }


def test_export_refuses_a_folder_that_holds_other_files(
    exported: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, checkpoints, _ = exported
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    done = export_hf(checkpoints, tmp_path)
    assert done.returncode == 2 and "--overwrite" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"] and keep.read_text() == "mine"
    done = export_hf(tmp_path / "no-such-checkpoint", tmp_path / "out")
    assert done.returncode == 1 and "no such checkpoint" in done.stderr and "Traceback" not in done.stderr


def test_architectures_bart_cannot_express_are_refused() -> None:
    args = Namespace(
        encoder_normalize_before=True, layernorm_embedding=True, encoder_learned_pos=True,
        encoder_embed_dim=128, decoder_embed_dim=128, share_all_embeddings=True, activation_fn="swish",
    )  # fmt: skip
    with pytest.raises(ExportError, match=r"pre-norm.*--activation-fn swish"):
        bart_config(args, 4000)
